"""Errors people can act on: each carries a message in Romanian (the UI language)."""


class EngineError(Exception):
    """Base of all engine errors; `str(error)` is fit to show a user."""


class ProcedureError(EngineError):
    """A procedure folder or diagram that cannot be deployed, with where and why."""

    def __init__(self, message: str, *, file: str | None = None, element: str | None = None):
        self.file, self.element = file, element
        where = ", ".join(p for p in (file and f"fișierul {file}",
                                      element and f"elementul {element}") if p)
        super().__init__(f"{message} ({where})" if where else message)


class TaskNotAvailable(EngineError):
    """The task was completed, cancelled or taken by someone else meanwhile."""


class NotPermitted(EngineError):
    pass


class ConcurrentUpdate(EngineError):
    """Another request saved the instance between our load and our save."""
