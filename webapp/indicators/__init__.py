"""Indicators for management: documents in and out, response times, overdue documents,
per period and department, with charts and CSV/JSON exports (docs/registry.md)."""
