"""What the registry tells other modules, without knowing who listens.

`entry_changed` is sent inside the transaction that changed an entry (registered,
assigned, answered, archived, cancelled, joined), with `session`, `entry_id` and `actor`, so
a listener can enqueue work (e.g. re-indexing for search) that commits with it.
"""
from blinker import Namespace

registry_signals = Namespace()
entry_changed = registry_signals.signal("entry-changed")


def announce_entry_changed(session, entry_id: int, reason: str, actor: str | None = None) -> None:
    entry_changed.send("registry", session=session, entry_id=entry_id, reason=reason,
                       actor=actor)
