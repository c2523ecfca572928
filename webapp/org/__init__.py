"""Who stands in for whom: absences with a substitute (/absente) and the mayor's signing
delegations (/delegari). The rules themselves live in `engine/substitution.py`."""
