"""The installed connector operations, by name.

Operations come from the `dosar.connectors` entry point group (setup.cfg), so a
town hall can add its own package of connectors without touching this code.
An operation is `fn(context, data, **params) -> dict`.
"""
from functools import lru_cache
from importlib.metadata import entry_points


@lru_cache(maxsize=1)
def _discovered() -> dict:
    return {ep.name: ep.load() for ep in entry_points(group="dosar.connectors")}


def operations() -> dict:
    from connectors.mail.operations import send_mail_operation
    from connectors.registry import service
    # Built-ins first, so a source checkout works before `pip install -e .`.
    return {"registry.register_document": service.register_document_operation,
            "registry.assign_entry": service.assign_entry_operation,
            "registry.record_dispatch": service.record_dispatch_operation,
            "registry.archive_entry": service.archive_entry_operation,
            "mail.send": send_mail_operation, **_discovered()}
