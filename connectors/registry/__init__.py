"""Registratura: register numbering and register entries."""
from .entries import (ARRIVAL_CHANNELS, DISPATCH_CHANNELS, cancel_entry, link_entries,
                      linked_entries, new_access_code, record_answer, register_for)
from .models import NomenclatorFile, Register, RegisterCounter, RegisterEntry
from .numbering import RegistryError, format_number, register_document

__all__ = ["Register", "RegisterCounter", "RegisterEntry", "NomenclatorFile",
           "register_document", "RegistryError", "format_number", "cancel_entry",
           "link_entries", "linked_entries", "record_answer", "register_for",
           "new_access_code", "ARRIVAL_CHANNELS", "DISPATCH_CHANNELS"]
