"""Who may use what: the town hall's roles, the groups each is made of, and for every
endpoint of the app which roles may use it.

The handlers still decide (`login_required`, `group_required`, `readable_entry`,
`can_view`…); this table says what they are meant to decide, in one place, and
`tests/webapp/test_authorization_matrix.py` checks every endpoint against it for a
person of every role. A route nobody declared here fails that test: add its endpoint
to ENDPOINTS (or its blueprint to BLUEPRINTS) with the roles that may use it.

Three kinds of declaration:
- `public(reason)`: no login (the login page, probes, static files);
- `staff(reason)`: any logged-in member of staff, whatever their role;
- `allow(...)`: the roles named. `own=` names roles that may use it only on their own
  things (their department's entries, the tasks of their groups, their own absence):
  for someone else's, they get 403 or 404, never the content.
"""
from dataclasses import dataclass

# --- the roles -------------------------------------------------------------------------

REGISTRAR = "registrar"
CLERK = "clerk"
HEAD = "head"
SIGNER = "signer"
ARCHIVIST = "archivist"
ANALYST = "analyst"
ADMIN = "administrator"
AUDITOR = "auditor"
CITIZEN = "citizen"


@dataclass(frozen=True)
class Role:
    code: str
    title: str                       # Romanian, as the town hall says it
    groups: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()    # dept-<dep>, sef-<dep>
    note: str = ""

    def held_by(self, groups) -> bool:
        groups = set(groups)
        return bool(self.groups & groups) or any(
            code.startswith(self.prefixes) for code in groups if self.prefixes)


ROLES: dict[str, Role] = {r.code: r for r in (
    Role(REGISTRAR, "registratură", frozenset({"registratura"}),
         note="registers documents at the desk, sees the whole register, scans"),
    Role(CLERK, "funcționar", prefixes=("dept-",),
         note="works the tasks of their department (dept-<dep>)"),
    Role(HEAD, "șef de compartiment", prefixes=("sef-",),
         note="assigns, endorses and oversees their department's work (sef-<dep>)"),
    Role(SIGNER, "semnatar", frozenset({"primar", "viceprimar", "secretar"}),
         note="the mayor and deputy mayor sign; the secretary general countersigns and "
              "sees the whole register; anyone holding a valid signing delegation "
              "(engine/substitution.py) signs too, for its dates"),
    Role(ARCHIVIST, "arhivar", frozenset({"arhiva"}),
         note="keeps the nomenclator, folders, disposal lists; the archive commission "
              "(comisie-arhiva) is a duty some staff hold, not a role"),
    Role(ANALYST, "analist", frozenset({"analist"}),
         note="publishes procedures; today with `dosar deploy --by <analyst>` on the "
              "server (no screen yet), so in the app they are staff like any other"),
    Role(ADMIN, "administrator", frozenset({"admin"})),
    Role(AUDITOR, "auditor", frozenset({"auditor"}),
         note="reads the audit trail (the audit blueprint)"),
    Role(CITIZEN, "cetățean", note="no staff account and no screens yet: the public "
                                   "status page and the portal will be theirs"),
)}

STAFF_ROLES = frozenset(ROLES) - {CITIZEN}


def roles_of(groups, *, delegated_signer: bool = False) -> frozenset[str]:
    """The roles a person with these groups holds (a valid signing delegation makes
    them a signer too)."""
    held = {code for code, role in ROLES.items() if code != CITIZEN and role.held_by(groups)}
    if delegated_signer:
        held.add(SIGNER)
    return frozenset(held)


def roles_of_user(session, user, on) -> frozenset[str]:
    """A user's roles on a day, delegations included."""
    from engine.substitution import delegation_on
    return roles_of(user.groups,
                    delegated_signer=delegation_on(session, user.username, on) is not None)


# --- the declarations ---------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    roles: frozenset[str]            # may use it (on anything they are shown)
    own: frozenset[str] = frozenset()   # may use it on their own things only
    public: bool = False
    reason: str = ""

    @property
    def label(self) -> str:
        if self.public:
            return "public"
        if self.roles == STAFF_ROLES:
            return "any staff"
        text = ", ".join(sorted(self.roles)) or "nobody by role"
        return text + (f"; own only: {', '.join(sorted(self.own))}" if self.own else "")


def allow(*roles: str, own=(), reason: str = "") -> Access:
    unknown = (set(roles) | set(own)) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return Access(frozenset(roles), frozenset(own), reason=reason)


def public(reason: str) -> Access:
    return Access(frozenset(ROLES), public=True, reason=reason)


def staff(reason: str = "") -> Access:
    return Access(STAFF_ROLES, reason=reason)


# Those who see the whole register (webapp/registry/access.py OVERSEERS).
OVERSEER_ROLES = (REGISTRAR, SIGNER, ARCHIVIST, ADMIN)
DEPARTMENT = (CLERK, HEAD)
ENTRY = dict(own=DEPARTMENT, reason="overseers read any entry; a department its own "
                                    "(confidential entries: only their department and admin)")
# The instance page: registratura, primar, secretar, admin see every case; others the
# cases where a task was theirs or their group's (webapp/instances/views.py can_view).
CASE = dict(own=(CLERK, HEAD, ARCHIVIST),
            reason="overseers see every case, others those where a task was theirs")
TASK = dict(own=tuple(STAFF_ROLES - {ADMIN}),
            reason="the task's assignee and groups, the department's head, admin")

ENDPOINTS: dict[str, Access] = {
    # --- no login ---
    "static": public("stylesheets and scripts"),
    "indicators.static": public("the indicators page's scripts"),
    "auth.login": public("the login page"),
    "auth.second_factor": public("the login's second step (a pending password step)"),
    "auth.language": public("choosing the interface language"),
    "auth.logout": public("ending one's session (harmless without one)"),
    "ops.healthz": public("liveness probe"),
    "ops.readyz": public("readiness probe"),
    "ops.metrics": public("no login: guarded by DOSAR_METRICS_TOKEN or loopback only"),
    "api.openapi": public("the JSON API's description, for other systems"),

    # --- one's own account (password, second factor) ---
    "account.index": staff("one's own account"),
    "account.change_password": staff("one's own password"),
    "account.start_second_factor": staff("one's own second factor"),
    "account.confirm_second_factor": staff("one's own second factor"),
    "account.disable_second_factor": staff("one's own second factor"),

    # --- inbox ---
    "inbox.index": staff("everyone's own tasks and their groups' tasks"),
    "inbox.mark_read": staff("only one's own or one's groups' notifications change"),
    "inbox.show": allow(ADMIN, **TASK),
    "inbox.claim": allow(ADMIN, **TASK),
    "inbox.unclaim": allow(ADMIN, **TASK),
    "inbox.complete": allow(ADMIN, **TASK),
    "inbox.reassign": allow(ADMIN, own=(HEAD,), reason="the department's head redistributes"),

    # --- the register ---
    "registry.new": allow(REGISTRAR, reason="registering is the desk's work"),
    "registry.registered": allow(REGISTRAR, reason="the desk's page after registering"),
    "registry.senders": allow(REGISTRAR, reason="the desk form's autocomplete"),
    "registry.index": staff("overseers see the whole register, a department its lines"),
    "registry.show": allow(*OVERSEER_ROLES, **ENTRY),
    "registry.cancel": allow(REGISTRAR, ADMIN, reason="only the desk cancels a number"),
    "registry.link": allow(REGISTRAR, ADMIN, own=(HEAD,),
                           reason="the desk, or the head of the entry's department"),
    "registry.receipt": allow(REGISTRAR, SIGNER, ADMIN, own=DEPARTMENT,
                              reason="printing: not the archivist"),
    "registry.label": allow(REGISTRAR, SIGNER, ADMIN, own=DEPARTMENT,
                            reason="printing: not the archivist"),
    "registry.register_book_pdf": allow(REGISTRAR, SIGNER, ADMIN,
                                        reason="the whole register leaves the system"),
    "registry.register_book_csv": allow(REGISTRAR, SIGNER, ADMIN,
                                        reason="the whole register leaves the system"),

    # --- cases ---
    "instances.show": allow(REGISTRAR, SIGNER, ADMIN, **CASE),
    "instances.diagram": allow(REGISTRAR, SIGNER, ADMIN, **CASE),
    "instances.stored_file": allow(REGISTRAR, SIGNER, ADMIN, **CASE),
    "instances.extend_term": allow(REGISTRAR, SIGNER, ADMIN, **CASE),

    # --- indicators ---
    "indicators.index": allow(SIGNER, ADMIN, HEAD,
                              reason="the mayor, the secretary, admin; a head their own"),
    "indicators.export_csv": allow(SIGNER, ADMIN, HEAD, reason="as the indicators page"),
    "indicators.export_json": allow(SIGNER, ADMIN, HEAD, reason="as the indicators page"),

    # --- absences and delegations ---
    "org.absences": staff("one's own absences; a head their department's"),
    "org.record": staff("one records one's own absence; a head, admin others'"),
    "org.cancel": allow(ADMIN, own=tuple(STAFF_ROLES - {ADMIN}),
                        reason="one's own absence; a head their department's"),
    "org.delegations": staff("who signs for the mayor is public inside the town hall"),
    "org.grant": allow(SIGNER, ADMIN, reason="the mayor or the secretary grants (viceprimar "
                                             "does not: group primar/secretar/admin)"),
    "org.revoke": allow(SIGNER, ADMIN, reason="as granting"),

    # --- the archive ---
    "archive.search": staff("each finds only the entries they may read"),
    "archive.document_add": allow(REGISTRAR, ARCHIVIST, own=DEPARTMENT,
                                  reason="the desk, the archive, the entry's department"),
    "archive.document_new_version": allow(REGISTRAR, ARCHIVIST, own=DEPARTMENT,
                                          reason="as adding a document"),
    "archive.document_file": allow(*OVERSEER_ROLES, **ENTRY),
    "archive.document_thumbnail": allow(*OVERSEER_ROLES, **ENTRY),
    "archive.metadata_page": allow(*OVERSEER_ROLES, **ENTRY),
    "archive.metadata_json": allow(*OVERSEER_ROLES, **ENTRY),
    "archive.metadata_xml": allow(*OVERSEER_ROLES, **ENTRY),
    "archive.nomenclator": staff("everyone files into the nomenclator"),
    "archive.nomenclator_save": allow(ARCHIVIST, ADMIN),
    "archive.nomenclator_import": allow(ARCHIVIST, ADMIN),
    "archive.folders": staff("the year's folders; entries inside by the register's rule"),
    "archive.folder": staff("a folder's entries by the register's rule"),
    "archive.folder_export": allow(ARCHIVIST, ADMIN, reason="the transfer of a whole folder"),
    "archive.close_year_action": allow(ARCHIVIST, ADMIN),
    "archive.hold": allow(ARCHIVIST, ADMIN, reason="and the secretary (group secretar)"),
    "archive.disposal": allow(ARCHIVIST, ADMIN,
                              reason="and the commission and the secretary (groups)"),
    "archive.disposal_propose": allow(ARCHIVIST, ADMIN),
    "archive.disposal_decide": allow(reason="the archive commission only (group "
                                            "comisie-arhiva): the archivist proposes, "
                                            "others decide"),
    "archive.disposal_execute": allow(ARCHIVIST, ADMIN),
    "archive.scans": allow(REGISTRAR, ARCHIVIST, reason="scanning is desk and archive work"),
    "archive.scan_upload": allow(REGISTRAR, ARCHIVIST, reason="as the scans page"),
    "archive.scan_batch_file": allow(REGISTRAR, ARCHIVIST, reason="as the scans page"),
    "archive.scan_queue": allow(REGISTRAR, ARCHIVIST, reason="as the scans page"),
    "archive.scan_match": allow(REGISTRAR, ARCHIVIST, reason="as the scans page"),
    "archive.scan_segment_file": allow(REGISTRAR, ARCHIVIST, reason="as the scans page"),
    "archive.scan_segment_thumbnail": allow(REGISTRAR, ARCHIVIST, reason="as the scans page"),
    "archive.scan_separator": allow(REGISTRAR, ARCHIVIST, reason="as the scans page"),
}

# Whole blueprints declared at once, for areas whose every screen has the same
# readers. The audit trail's screens are for auditors and administrators.
BLUEPRINTS: dict[str, Access] = {
    "audit": allow(AUDITOR, ADMIN, reason="the audit trail"),
}


def access_of(endpoint: str) -> Access | None:
    """The declaration of an endpoint; None when nobody declared it."""
    if endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else None
    return BLUEPRINTS.get(blueprint) if blueprint else None


def undeclared(app) -> list[str]:
    """Endpoints of the app nobody declared here."""
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if access_of(rule.endpoint) is None})

