"""Connectors: pluggable adapters for the work that leaves the engine.

Connectors are the bottom layer: they import nothing from engine/, webapp/,
forms/ or archive/. Everything they need arrives as arguments.
"""
