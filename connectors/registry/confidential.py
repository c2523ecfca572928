"""Which registered documents are confidential: those of the confidential document
types (social assistance, child protection, medical, disciplinary), and those the
Registratura marks so at the desk.

The list of types is the town hall's to set: `DOSAR_CONFIDENTIAL_TYPES` (codes, comma
separated, as procedures name them in their procedure.json `document_type`) replaces
the default below. Who may read a confidential entry is decided by the web layer
(`webapp/registry/access.py`).
"""
import os

DEFAULT_TYPES = frozenset({
    "asistenta-sociala",        # dosare de asistență socială (Legea 292/2011)
    "protectia-copilului",      # protecția copilului (Legea 272/2004)
    "medical",                  # documente medicale, certificate de handicap
    "disciplinar",              # cercetare disciplinară a personalului
})


def confidential_types() -> frozenset[str]:
    configured = os.environ.get("DOSAR_CONFIDENTIAL_TYPES")
    if configured is None:
        return DEFAULT_TYPES
    return frozenset(code.strip() for code in configured.split(",") if code.strip())


def is_confidential(document_type: str, marked: object = False) -> bool:
    """A document registered with this type, ticked «confidențial» or not."""
    if marked in (True, "1", "true", "on", "da"):
        return True
    return bool(document_type) and document_type in confidential_types()
