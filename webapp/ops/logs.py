"""Log lines for people (default) or for a log collector (DOSAR_LOG_FORMAT=json: one
JSON object per line). Requests log their id, method, path (never the query string,
which may carry search words), status and duration."""
import json
import logging
import sys
from datetime import datetime, timezone

REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms")
_HANDLER_NAME = "dosar"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
                            .isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send the process's logs to stderr, in the chosen format. Idempotent: our own
    handler is replaced, anyone else's left alone."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler says "Running job …" at every tick: useful when debugging only.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # …and "skipped: maximum number of running instances" when a tick is still on.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)     # its plugins, per /readyz
