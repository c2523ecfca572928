"""The town hall's staff directory (LDAP / Active Directory) as login sees it.

Staff keep one password, the directory's, and their Dosar groups follow the directory's
groups: who belongs to Urbanism there is in `dept-urbanism` here. The directory is asked
at every login; nothing of it is cached, so a change there counts at the next login.

One `Directory.authenticate(username, password)` does it all: bind with the service
account, find the person, bind as them to check the password, collect their groups
with the nested ones (walked here, group by group, with cycle protection: AD's in-chain
matching rule does not exist on OpenLDAP) and map them to Dosar group codes.
Communication failures (dead server, timeout, a certificate that does not check out)
raise `DirectoryUnavailable`; every other answer is an `Outcome`.
"""
import json
import ssl
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ldap3 import BASE, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

# Defaults of the two kinds of directory town halls run; each key can be overridden.
PRESETS = {
    "ad": {
        # A login name is the short one (popescu.ana) or the UPN (popescu.ana@primarie.ro).
        "user_attributes": ("sAMAccountName", "userPrincipalName"),
        "user_filter": "(&(objectCategory=person)(objectClass=user))",
        # Bit 2 of userAccountControl is ACCOUNTDISABLE (bitwise-AND matching rule).
        "enabled_filter": "(!(userAccountControl:1.2.840.113556.1.4.803:=2))",
        "group_filter": "(objectClass=group)",
        "membership": "memberOf",
        "name_attribute": "displayName",
        "mail_attribute": "mail",
    },
    "openldap": {
        "user_attributes": ("uid",),
        "user_filter": "(objectClass=inetOrgPerson)",
        # ppolicy's permanent lock is how an OpenLDAP account is disabled.
        "enabled_filter": "(!(pwdAccountLockedTime=000001010000Z))",
        "group_filter": "(objectClass=groupOfNames)",
        "membership": "member",
        "name_attribute": "cn",
        "mail_attribute": "mail",
    },
}

# Bounds on the group walk: deeper or larger than this is a directory mistake.
MAX_DEPTH = 20
MAX_GROUPS = 2000
# Active Directory explains a refused bind in the message: "…, data 533, …".
AD_DISABLED_CODES = ("data 533", "data 701")   # account disabled, account expired


class DirectoryUnavailable(Exception):
    """The directory could not be asked (down, too slow, TLS refused, service account
    refused): nothing is known about the person."""


class DirectoryMisconfigured(ValueError):
    """A setting the directory needs is missing or wrong."""


@dataclass(frozen=True)
class Account:
    """A person as the directory knows them."""
    dn: str
    username: str
    full_name: str
    email: str
    groups: frozenset[str]       # directory groups (DNs), nested ones included
    codes: frozenset[str]        # Dosar group codes they map to


@dataclass(frozen=True)
class Outcome:
    """`status`: "ok" (account set), "wrong_password", "unknown" or "disabled"."""
    status: str
    account: Account | None = None
    dn: str | None = None


@dataclass(frozen=True)
class Settings:
    urls: tuple[str, ...]
    bind_dn: str
    bind_password: str
    user_base: str
    group_base: str
    group_map: dict[str, frozenset[str]]
    user_attributes: tuple[str, ...]
    user_filter: str
    enabled_filter: str
    group_filter: str
    membership: str
    name_attribute: str
    mail_attribute: str
    start_tls: bool = True
    ca_file: str = ""
    verify: bool = True
    timeout: float = 5.0


def settings_from_config(config) -> Settings:
    """The directory's settings from the app's LDAP_* keys (webapp/config.py)."""
    preset_name = (config.get("LDAP_PRESET") or "openldap").lower()
    if preset_name not in PRESETS:
        raise DirectoryMisconfigured(f"LDAP_PRESET must be one of {sorted(PRESETS)}")
    preset = PRESETS[preset_name]
    urls = tuple(config.get("LDAP_URL", "").split())
    if not urls or any(not u.lower().startswith(("ldap://", "ldaps://")) for u in urls):
        raise DirectoryMisconfigured("LDAP_URL must be ldap://… or ldaps://…")
    for key in ("LDAP_USER_BASE", "LDAP_GROUP_BASE"):
        if not config.get(key):
            raise DirectoryMisconfigured(f"{key} is not set")
    attributes = config.get("LDAP_USER_ATTRIBUTE")
    membership = config.get("LDAP_MEMBERSHIP") or preset["membership"]
    if membership not in ("member", "memberOf"):
        raise DirectoryMisconfigured("LDAP_MEMBERSHIP must be member or memberOf")
    return Settings(
        urls=urls, bind_dn=config.get("LDAP_BIND_DN", ""),
        bind_password=config.get("LDAP_BIND_PASSWORD", ""),
        user_base=config["LDAP_USER_BASE"], group_base=config["LDAP_GROUP_BASE"],
        group_map=load_group_map(config.get("LDAP_GROUP_MAP")),
        user_attributes=(tuple(a.strip() for a in attributes.split(",") if a.strip())
                         if attributes else preset["user_attributes"]),
        user_filter=config.get("LDAP_USER_FILTER") or preset["user_filter"],
        enabled_filter=config.get("LDAP_ENABLED_FILTER") or preset["enabled_filter"],
        group_filter=preset["group_filter"], membership=membership,
        name_attribute=preset["name_attribute"], mail_attribute=preset["mail_attribute"],
        start_tls=bool(config.get("LDAP_START_TLS", True)),
        ca_file=config.get("LDAP_CA_FILE") or "",
        verify=bool(config.get("LDAP_VERIFY_CERTIFICATE", True)),
        timeout=float(config.get("LDAP_TIMEOUT_SECONDS") or 5))


# --- Group mapping ---------------------------------------------------------------------

def _rdns(dn: str) -> list[str]:
    """A DN's parts compared the way directories do: attribute names and values without
    case, no spaces around separators."""
    try:
        return [f"{attr.strip().lower()}={value.strip().lower()}"
                for attr, value, _ in parse_dn(dn, strip=True)]
    except LDAPException:
        return [dn.strip().lower()]


def normalise_dn(dn: str) -> str:
    return ",".join(_rdns(dn))


def _map_key(key: str) -> str:
    """A mapping key: a full DN ("cn=x,ou=…"), "CN=x" or a bare CN ("x")."""
    key = key.strip()
    if "=" not in key:
        return "cn=" + key.lower()
    return normalise_dn(key)


def load_group_map(source) -> dict[str, frozenset[str]]:
    """DOSAR_LDAP_GROUP_MAP: inline JSON ("{…}"), a .json or .toml file, or a dict.
    Each key is a directory group, each value a Dosar code or a list of them."""
    if not source:
        raise DirectoryMisconfigured("LDAP_GROUP_MAP is not set: no group would map")
    if isinstance(source, str):
        text = source.strip()
        try:
            if text.startswith("{"):
                raw = json.loads(text)
            else:
                path = Path(text)
                if not path.is_file():
                    raise DirectoryMisconfigured(f"LDAP_GROUP_MAP: no file {path}")
                content = path.read_text(encoding="utf-8")
                raw = tomllib.loads(content) if path.suffix == ".toml" else json.loads(content)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
            raise DirectoryMisconfigured(f"LDAP_GROUP_MAP is not valid: {error}") from error
    else:
        raw = source
    if not isinstance(raw, dict):
        raise DirectoryMisconfigured("LDAP_GROUP_MAP must map groups to codes")
    if isinstance(raw.get("groups"), dict):      # TOML: a [groups] table
        raw = raw["groups"]
    mapping: dict[str, frozenset[str]] = {}
    for key, value in raw.items():
        codes = [value] if isinstance(value, str) else list(value)
        if not codes or not all(isinstance(c, str) and c.strip() for c in codes):
            raise DirectoryMisconfigured(f"LDAP_GROUP_MAP: bad codes for {key!r}")
        mapping[_map_key(key)] = mapping.get(_map_key(key), frozenset()) | frozenset(
            c.strip() for c in codes)
    return mapping


def map_groups(group_dns, mapping: dict[str, frozenset[str]]) -> frozenset[str]:
    """The Dosar codes of these directory groups: by full DN first, then by CN."""
    codes: set[str] = set()
    for dn in group_dns:
        rdns = _rdns(dn)
        codes |= mapping.get(",".join(rdns), frozenset())
        if len(rdns) > 1 and rdns[0].startswith("cn="):
            codes |= mapping.get(rdns[0], frozenset())
    return frozenset(codes)


# --- The directory ---------------------------------------------------------------------

def _first(attributes: dict, name: str) -> str:
    for key, value in attributes.items():
        if key.lower() == name.lower():
            if isinstance(value, list):
                return str(value[0]) if value else ""
            return str(value)
    return ""


def _all(attributes: dict, name: str) -> list[str]:
    for key, value in attributes.items():
        if key.lower() == name.lower():
            return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return []


def _close(conn: Connection) -> None:
    """Unbind, whatever state the connection is in (a failed TLS leaves it broken)."""
    try:
        conn.unbind()
    except (LDAPException, OSError):
        pass


class Directory:
    def __init__(self, settings: Settings):
        self.settings = settings

    @classmethod
    def from_config(cls, config) -> "Directory":
        return cls(settings_from_config(config))

    # Connections ---------------------------------------------------------------------

    def _tls(self) -> Tls:
        s = self.settings
        return Tls(validate=ssl.CERT_REQUIRED if s.verify else ssl.CERT_NONE,
                   ca_certs_file=s.ca_file or None)

    def _connect(self, user: str, password: str) -> Connection:
        """An open (TLS if configured) connection bound as `user`, or
        DirectoryUnavailable. A refused bind is returned unbound, with its result."""
        s, errors = self.settings, []
        for url in s.urls:
            server = Server(url, use_ssl=url.lower().startswith("ldaps://"), tls=self._tls(),
                            connect_timeout=s.timeout, get_info=NONE)
            conn = Connection(server, user=user, password=password, authentication=SIMPLE,
                              read_only=True, receive_timeout=max(int(s.timeout + 0.5), 1),
                              raise_exceptions=False, auto_referrals=False)
            try:
                conn.open()
                if s.start_tls and not url.lower().startswith("ldaps://"):
                    if not conn.start_tls():
                        raise DirectoryUnavailable(f"{url}: StartTLS refused: {conn.result}")
                conn.bind()
                return conn
            except (LDAPException, OSError) as error:
                errors.append(f"{url}: {type(error).__name__}: {error}")
                _close(conn)
            except DirectoryUnavailable as error:
                errors.append(str(error))
                _close(conn)
        raise DirectoryUnavailable("; ".join(errors))

    def _service(self) -> Connection:
        conn = self._connect(self.settings.bind_dn, self.settings.bind_password)
        if not conn.bound:
            result = conn.result
            _close(conn)
            raise DirectoryUnavailable(f"the service account was refused: {result}")
        return conn

    def _search(self, conn: Connection, base: str, search_filter: str, attributes,
                scope=SUBTREE, size_limit: int = 0, missing_ok: bool = False) -> list[dict]:
        """Entries found. A base that does not exist is a settings mistake (everyone would
        look "not found", and be deactivated), unless `missing_ok` (a group just deleted)."""
        try:
            conn.search(base, search_filter, search_scope=scope, attributes=attributes,
                        size_limit=size_limit, time_limit=max(int(self.settings.timeout), 1))
        except LDAPException as error:
            raise DirectoryUnavailable(f"search failed: {type(error).__name__}: {error}")
        accepted = ("success", "sizeLimitExceeded") + (("noSuchObject",) if missing_ok else ())
        if conn.result.get("description") not in accepted:
            raise DirectoryUnavailable(f"search refused: {conn.result}")
        return [r for r in (conn.response or []) if r.get("type") == "searchResEntry"]

    # People ------------------------------------------------------------------------------

    def _login_filter(self, username: str) -> str:
        value = escape_filter_chars(username)
        parts = "".join(f"({attr}={value})" for attr in self.settings.user_attributes)
        return parts if len(self.settings.user_attributes) == 1 else f"(|{parts})"

    def _find_person(self, conn: Connection, username: str, enabled_only: bool) -> list[dict]:
        s = self.settings
        wanted = s.user_filter + (s.enabled_filter if enabled_only else "")
        attributes = [*s.user_attributes, s.name_attribute, s.mail_attribute, "cn"]
        if s.membership == "memberOf":
            attributes.append("memberOf")
        return self._search(conn, s.user_base, f"(&{wanted}{self._login_filter(username)})",
                            attributes, size_limit=2)

    def authenticate(self, username: str, password: str) -> Outcome:
        """The directory's answer for these credentials (see the module docstring)."""
        s = self.settings
        username = username.strip()
        if "\\" in username:                      # DOMENIU\\nume, as Windows writes it
            username = username.split("\\", 1)[1]
        if not username:
            return Outcome("unknown")
        conn = self._service()
        try:
            found = self._find_person(conn, username, enabled_only=True)
            if not found:
                # Not among enabled accounts: disabled, or not there at all.
                anyone = self._find_person(conn, username, enabled_only=False)
                if len(anyone) == 1:
                    return Outcome("disabled", dn=anyone[0]["dn"])
                return Outcome("unknown")
            if len(found) > 1:
                # Two people answer to one name: the directory must say which.
                raise DirectoryUnavailable(f"several entries match the login name {username!r}")
            entry = found[0]
            dn, attributes = entry["dn"], entry.get("attributes", {})
            # An empty password would be an anonymous bind that "succeeds": never.
            if not password:
                return Outcome("wrong_password", dn=dn)
            person = self._connect(dn, password)
            refused = None if person.bound else str(person.result.get("message", ""))
            _close(person)
            if refused is not None:
                if any(code in refused for code in AD_DISABLED_CODES):
                    return Outcome("disabled", dn=dn)
                return Outcome("wrong_password", dn=dn)
            groups = self._groups(conn, dn, _all(attributes, "memberOf"))
        finally:
            _close(conn)
        account = Account(
            dn=dn, username=_first(attributes, s.user_attributes[0]) or username,
            full_name=(_first(attributes, s.name_attribute) or _first(attributes, "cn")
                       or username),
            email=_first(attributes, s.mail_attribute), groups=groups,
            codes=map_groups(groups, s.group_map))
        return Outcome("ok", account=account, dn=dn)

    # Groups ------------------------------------------------------------------------------

    def _groups(self, conn: Connection, dn: str, member_of: list[str]) -> frozenset[str]:
        """Every group the entry belongs to, directly or through other groups.
        Walked breadth-first; a group seen once is never asked about again, so a cycle
        (A in B, B in A) ends the walk instead of looping."""
        seen: dict[str, str] = {}               # normalised DN → DN as the server wrote it
        if self.settings.membership == "memberOf":
            frontier, next_level = member_of, self._parents_by_member_of
        else:
            frontier = self._parents_by_member(conn, [dn])
            next_level = self._parents_by_member
        for _ in range(MAX_DEPTH):
            fresh = []
            for group in frontier:
                key = normalise_dn(group)
                if key not in seen:
                    seen[key] = group
                    fresh.append(group)
            if not fresh or len(seen) > MAX_GROUPS:
                break
            frontier = next_level(conn, fresh)
        return frozenset(seen.values())

    def _parents_by_member(self, conn: Connection, dns: list[str]) -> list[str]:
        """Groups that name any of these entries in `member` (one search per 50)."""
        parents = []
        for start in range(0, len(dns), 50):
            names = "".join(f"(member={escape_filter_chars(d)})" for d in dns[start:start + 50])
            found = self._search(conn, self.settings.group_base,
                                 f"(&{self.settings.group_filter}(|{names}))", ["cn"])
            parents.extend(r["dn"] for r in found)
        return parents

    def _parents_by_member_of(self, conn: Connection, dns: list[str]) -> list[str]:
        """The `memberOf` of each of these groups (a read of each)."""
        parents = []
        for group in dns:
            found = self._search(conn, group, "(objectClass=*)", ["memberOf"], scope=BASE,
                                 missing_ok=True)
            for entry in found:
                parents.extend(_all(entry.get("attributes", {}), "memberOf"))
        return parents
