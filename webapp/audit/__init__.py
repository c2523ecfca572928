"""/audit: the auditor's screen over the audit trail — search the events, see which
are sealed into the hash chain, check the chain, export what was found as CSV. Also
the texts of a chain report (shared with `dosar audit verify`) and the scheduler's
sealing job. The chain itself lives in `connectors/audit_chain.py`."""
