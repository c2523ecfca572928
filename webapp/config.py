"""Configuration from the environment (DOSAR_*), with an embedded default:
SQLite and files under ./var, nothing else to install or start."""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(data_dir: Path) -> str:
    """A per-installation key kept beside the data, so sessions survive restarts."""
    if os.environ.get("DOSAR_SECRET_KEY"):
        return os.environ["DOSAR_SECRET_KEY"]
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def database_pool() -> dict:
    """The MariaDB connection pool of each process (`dosar serve`, `dosar worker`).
    Per process at most DB_POOL_SIZE + DB_MAX_OVERFLOW connections: keep the sum over
    all processes below the server's max_connections."""
    return {
        # Kept open: waitress' 8 threads plus the scheduler's own.
        "DB_POOL_SIZE": int(os.environ.get("DOSAR_DB_POOL_SIZE", 10)),
        # Opened on a burst, closed when returned.
        "DB_MAX_OVERFLOW": int(os.environ.get("DOSAR_DB_MAX_OVERFLOW", 10)),
        # Seconds before a connection is replaced: below MariaDB's wait_timeout
        # (28800 by default) and any proxy's idle timeout.
        "DB_POOL_RECYCLE": int(os.environ.get("DOSAR_DB_POOL_RECYCLE", 1800)),
        # Seconds a request waits for a free connection before failing.
        "DB_POOL_TIMEOUT": float(os.environ.get("DOSAR_DB_POOL_TIMEOUT", 30)),
    }


def _backup_hour(value: str) -> int | None:
    """The daily backup's hour (0-23, Europe/Bucharest), or None when "off"."""
    if value.strip().lower() in ("off", "", "none"):
        return None
    hour = int(value)
    if not 0 <= hour <= 23:
        raise ValueError(f"DOSAR_BACKUP_HOUR must be 0-23 or off, not {value!r}")
    return hour


def directory() -> dict:
    """The staff directory (LDAP / Active Directory) used at login; docs/identity.md.
    With no DOSAR_LDAP_URL, only local accounts exist, as before. Unset keys take the
    preset's value (webapp/auth/directory.py: PRESETS)."""
    env = os.environ.get
    return {
        # One URL or several separated by spaces, tried in order: ldaps://… or ldap://….
        "LDAP_URL": env("DOSAR_LDAP_URL", "").strip(),
        # "ad" (Active Directory) or "openldap": default attribute names and filters.
        "LDAP_PRESET": env("DOSAR_LDAP_PRESET", "openldap"),
        # The service account that looks people and groups up (read-only is enough).
        "LDAP_BIND_DN": env("DOSAR_LDAP_BIND_DN", ""),
        "LDAP_BIND_PASSWORD": env("DOSAR_LDAP_BIND_PASSWORD", ""),
        "LDAP_USER_BASE": env("DOSAR_LDAP_USER_BASE", ""),
        # The attribute(s) a login name is matched against, comma-separated; the first
        # one names the local account (e.g. "sAMAccountName,userPrincipalName").
        "LDAP_USER_ATTRIBUTE": env("DOSAR_LDAP_USER_ATTRIBUTE"),
        "LDAP_USER_FILTER": env("DOSAR_LDAP_USER_FILTER"),
        # What an enabled account matches; an account found only without it is disabled.
        "LDAP_ENABLED_FILTER": env("DOSAR_LDAP_ENABLED_FILTER"),
        "LDAP_GROUP_BASE": env("DOSAR_LDAP_GROUP_BASE", ""),
        # "member" (search groups naming the entry) or "memberOf" (read the entry's list).
        "LDAP_MEMBERSHIP": env("DOSAR_LDAP_MEMBERSHIP"),
        # Directory group (DN or CN) → Dosar group code(s): a JSON/TOML file, or inline JSON.
        "LDAP_GROUP_MAP": env("DOSAR_LDAP_GROUP_MAP", ""),
        "LDAP_START_TLS": env("DOSAR_LDAP_START_TLS", "1") == "1",
        # CA certificates to check the server's certificate with (else the system's).
        "LDAP_CA_FILE": env("DOSAR_LDAP_CA_FILE", ""),
        # "0" turns certificate checking off: only for a first test, never in service.
        "LDAP_VERIFY_CERTIFICATE": env("DOSAR_LDAP_VERIFY_CERTIFICATE", "1") == "1",
        # Seconds to connect and to wait for each answer: a dead directory fails fast.
        "LDAP_TIMEOUT_SECONDS": float(env("DOSAR_LDAP_TIMEOUT_SECONDS", 5)),
    }


def from_environment() -> dict:
    data_dir = Path(os.environ.get("DOSAR_DATA_DIR", ROOT / "var"))
    return {
        "DATA_DIR": str(data_dir),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DOSAR_DATABASE_URL",
                                                  f"sqlite:///{data_dir / 'dosar.db'}"),
        **database_pool(),
        **directory(),
        "STORAGE_DIR": os.environ.get("DOSAR_STORAGE_DIR", str(data_dir / "files")),
        "PROCESSES_DIR": os.environ.get("DOSAR_PROCESSES_DIR", str(ROOT / "processes")),
        "SECRET_KEY": _secret_key(data_dir),
        "MAX_CONTENT_LENGTH": int(os.environ.get("DOSAR_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("DOSAR_SECURE_COOKIES", "0") == "1",
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("DOSAR_SESSION_MINUTES", 480)) * 60,
        "SESSION_IDLE_MINUTES": int(os.environ.get("DOSAR_SESSION_IDLE_MINUTES", 30)),
        "WTF_CSRF_TIME_LIMIT": None,   # tied to the session instead
        "INBOX_PAGE_SIZE": 50,
        # Inbox counts stop here ("1000+"): an exact count of a larger backlog costs a
        # walk over all of it on every page view, and tells a clerk nothing more.
        "INBOX_COUNT_LIMIT": int(os.environ.get("DOSAR_INBOX_COUNT_LIMIT", 1000)),
        "LOGIN_MAX_FAILURES": int(os.environ.get("DOSAR_LOGIN_MAX_FAILURES", 5)),
        "LOGIN_MAX_FAILURES_PER_IP": int(os.environ.get("DOSAR_LOGIN_MAX_FAILURES_PER_IP", 20)),
        "LOGIN_LOCK_MINUTES": int(os.environ.get("DOSAR_LOGIN_LOCK_MINUTES", 15)),
        # Reverse proxies / load balancers in front of the app whose X-Forwarded-For and
        # X-Forwarded-Proto are trusted; 0 (default) trusts none, so they cannot be forged.
        "PROXY_HOPS": int(os.environ.get("DOSAR_PROXY_HOPS", 0)),
        # The town hall's SMTP relay; no host: no e-mail is sent (or queued).
        "SMTP_HOST": os.environ.get("DOSAR_SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("DOSAR_SMTP_PORT", 25)),
        "SMTP_SECURITY": os.environ.get("DOSAR_SMTP_SECURITY", "starttls"),  # none/starttls/ssl
        "SMTP_USERNAME": os.environ.get("DOSAR_SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("DOSAR_SMTP_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("DOSAR_MAIL_FROM", "Primăria <no-reply@localhost>"),
        # The address citizens reach the app at: printed (and QR-coded) on receipts.
        "PUBLIC_URL": os.environ.get("DOSAR_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        # The name printed at the top of receipts, labels and the register book.
        "TOWN_HALL": os.environ.get("DOSAR_TOWN_HALL", "Primăria demonstrativă"),
        # How often the scheduler fires due timers (deadline reminders, escalations,
        # tacit approvals, diagram timers); 0 turns it off in this process.
        "TIMER_INTERVAL_SECONDS": float(os.environ.get("DOSAR_TIMER_INTERVAL_SECONDS", 30)),
        # Background jobs (OCR, indexing, scan batches) run in `dosar serve` every so
        # many seconds too, unless dedicated `dosar worker` processes take them (0).
        "JOB_INTERVAL_SECONDS": float(os.environ.get("DOSAR_JOB_INTERVAL_SECONDS", 5)),
        # Tesseract languages for OCR ("ron+eng": Romanian first, English beside it).
        "OCR_LANGUAGES": os.environ.get("DOSAR_OCR_LANGUAGES", "ron+eng"),
        # Full-text search: "sqlite" (FTS5 file, embedded) or "elasticsearch".
        "SEARCH_BACKEND": os.environ.get("DOSAR_SEARCH_BACKEND", "sqlite"),
        "SEARCH_PATH": os.environ.get("DOSAR_SEARCH_PATH", str(data_dir / "search.sqlite")),
        "ELASTICSEARCH_URL": os.environ.get("DOSAR_ELASTICSEARCH_URL", "http://127.0.0.1:9200"),
        "ELASTICSEARCH_INDEX": os.environ.get("DOSAR_ELASTICSEARCH_INDEX", "dosar-documente"),
        # The scan station drops PDFs/TIFFs here; `dosar archive watch` takes them in.
        "SCAN_INBOX_DIR": os.environ.get("DOSAR_SCAN_INBOX_DIR", str(data_dir / "scanari")),
        "SCAN_POLL_SECONDS": float(os.environ.get("DOSAR_SCAN_POLL_SECONDS", 30)),
        # `dosar backup` writes here by default; the daily backup too, at BACKUP_HOUR
        # (local time; "off": none) keeping the newest BACKUP_KEEP.
        "BACKUP_DIR": os.environ.get("DOSAR_BACKUP_DIR", str(data_dir / "backups")),
        "BACKUP_HOUR": _backup_hour(os.environ.get("DOSAR_BACKUP_HOUR", "2")),
        "BACKUP_KEEP": int(os.environ.get("DOSAR_BACKUP_KEEP", 7)),
        # The scheduler leader's lease: renewed every third of it; a dead leader is
        # replaced after at most this long.
        "LEADER_TTL_SECONDS": float(os.environ.get("DOSAR_LEADER_TTL_SECONDS", 15)),
        # How often the scheduler's leader seals new audit events into the hash chain
        # (connectors/audit_chain.py); 0: only `dosar audit seal` does.
        "AUDIT_SEAL_SECONDS": float(os.environ.get("DOSAR_AUDIT_SEAL_SECONDS", 60)),
        # "json": one JSON object per log line (for a log collector); else plain text.
        "LOG_FORMAT": os.environ.get("DOSAR_LOG_FORMAT", "text"),
        # If set, /metrics wants "Authorization: Bearer <token>"; if not, loopback only.
        "METRICS_TOKEN": os.environ.get("DOSAR_METRICS_TOKEN", ""),
    }
