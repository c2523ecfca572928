"""Where mail goes out: the town hall's SMTP relay, given once per process by whoever
starts it (the web app's factory, a worker), like the archive's settings."""
from dataclasses import dataclass


@dataclass(frozen=True)
class MailSettings:
    host: str = ""                  # empty: e-mail is off, nothing is enqueued
    port: int = 25
    security: str = "starttls"      # none / starttls / ssl
    username: str = ""
    password: str = ""
    sender: str = "Primăria <no-reply@localhost>"
    timeout: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.host)


_current = MailSettings()


def configure(settings: MailSettings) -> None:
    global _current
    _current = settings


def current() -> MailSettings:
    return _current
