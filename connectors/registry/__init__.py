"""Registratura: register numbering and register entries."""
from .models import Register, RegisterCounter, RegisterEntry
from .numbering import register_document, RegistryError, format_number

__all__ = ["Register", "RegisterCounter", "RegisterEntry", "register_document",
           "RegistryError", "format_number"]
