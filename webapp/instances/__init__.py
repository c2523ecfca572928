"""The instance (dosar) page: where a request stands, its diagram and history."""
