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
    from connectors.registry.service import (record_dispatch_operation,
                                             register_document_operation)
    # Built-ins first, so a source checkout works before `pip install -e .`.
    return {"registry.register_document": register_document_operation,
            "registry.record_dispatch": record_dispatch_operation, **_discovered()}
