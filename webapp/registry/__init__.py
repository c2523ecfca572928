"""Registratura screens: register a document (starting its procedure), the register."""
