"""The JSON API's description (OpenAPI 3.0) at /api/openapi.json.

What other systems and scripts may call: health and readiness for load balancers,
the management indicators, the desk's sender lookup. Every JSON endpoint is listed
here, and the test suite fuzzes each one from this description (schemathesis), so a
new endpoint is added here when it is written.
"""
from flask import Blueprint, jsonify

bp = Blueprint("api", __name__, url_prefix="/api")

ERRORS = {"type": "object", "properties": {"erori": {"type": "object",
                                                     "additionalProperties": {"type": "string"}}},
          "required": ["erori"]}
LOGIN = {"description": "Not logged in: redirected to the login page."}
DENIED = {"description": "Logged in without the right to this."}


def _day(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string"}}


DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Dosar", "version": "1",
             "description": "JSON endpoints of Dosar. Staff endpoints use the session "
                            "cookie of a logged-in user."},
    "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie",
                                                   "name": "session"}}},
    "paths": {
        "/healthz": {"get": {
            "summary": "The process answers", "operationId": "healthz",
            "responses": {"200": {"description": "Up", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"status": {"enum": ["ok"]}},
                           "required": ["status"]}}}}}}},
        "/readyz": {"get": {
            "summary": "Ready for traffic (database, schema, storage)", "operationId": "readyz",
            "responses": {code: {"description": text, "content": {"application/json": {
                "schema": {"type": "object", "required": ["status", "checks"], "properties": {
                    "status": {"enum": ["ready", "unavailable"]},
                    "checks": {"type": "object",
                               "additionalProperties": {"type": "string"}}}}}}}
                for code, text in (("200", "Ready"), ("503", "Not ready: a check failed"))}}},
        "/indicatori/export.json": {"get": {
            "summary": "Management indicators for a period", "operationId": "indicators",
            "security": [{"session": []}],
            "parameters": [_day("de", "First day, AAAA-LL-ZZ (default: 30 days ago)"),
                           _day("pana", "Last day, AAAA-LL-ZZ (default: today)"),
                           {"name": "departament", "in": "query", "required": False,
                            "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The indicators", "content": {"application/json": {
                    "schema": {"type": "object"}}}},
                "400": {"description": "Wrong parameters, each named",
                        "content": {"application/json": {"schema": ERRORS}}},
                "302": LOGIN, "403": DENIED}}},
        "/registratura/expeditori": {"get": {
            "summary": "Earlier senders matching the typed text (desk autocomplete)",
            "operationId": "senders", "security": [{"session": []}],
            "parameters": [{"name": "q", "in": "query", "required": False,
                            "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "Up to ten senders", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"type": "object"}}}}},
                "302": LOGIN, "403": DENIED}}},
    },
}


@bp.get("/openapi.json")
def openapi():
    return jsonify(DOCUMENT)
