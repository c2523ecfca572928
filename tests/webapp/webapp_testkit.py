"""Driving the web app as a person would: log in, follow forms, post with CSRF."""
import re
from datetime import date

from webapp.demo import DEMO_PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    return CSRF.search(html).group(1)


def login(client, username: str, password: str = DEMO_PASSWORD):
    client.post("/iesire", data={"csrf_token": csrf(client.get("/autentificare").text)})
    page = client.get("/autentificare")
    response = client.post("/autentificare", data={
        "username": username, "password": password, "csrf_token": csrf(page.text)})
    assert response.status_code == 302, response.text
    return client


def post(client, url: str, data: dict, page_url: str | None = None, **kwargs):
    token = csrf(client.get(page_url or "/").text)
    return client.post(url, data={**data, "csrf_token": token},
                       content_type="multipart/form-data", **kwargs)


REGISTRATION = {
    "procedura": "petition", "sender_name": "Gheorghe Ionescu",
    "sender_address": "Str. Lungă nr. 3", "sender_email": "g.ionescu@example.ro",
    "pages": "2", "summary": "Solicită repararea iluminatului public pe strada Lungă.",
    "department": "relatii-publice",
}


def register_petition(client, **overrides):
    return post(client, "/registratura/nou", {**REGISTRATION, **overrides},
                page_url="/registratura/nou?procedura=petition")


def open_task_id(client, title: str, view: str = "group") -> int:
    html = client.get(f"/?view={view}").text
    match = re.search(r'data-task-id="(\d+)">\s*<td><a href="/sarcini/\d+">' + re.escape(title),
                      html)
    assert match, f"«{title}» is not in the {view} inbox:\n{html}"
    return int(match.group(1))


def today_label() -> str:
    return date.today().strftime("%d.%m.%Y")
