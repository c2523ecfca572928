"""The scheduler leader's job that seals the audit trail every AUDIT_SEAL_SECONDS.

Only the leader seals, so in the ordinary course one process does it; sealing is safe
beside a second sealer anyway (an operator's `dosar audit seal`), see
connectors/audit_chain.py. The job records no audit event of its own: each would be
one more event to seal next time, for ever."""
import logging

from connectors.audit_chain import seal
from webapp.database import db

log = logging.getLogger(__name__)


def scheduled_seal(app, candidate=None) -> int:
    """Seal what is not sealed yet; with the scheduler's candidate, only while it holds
    the lease (checked again before each batch). Returns how many events it sealed."""
    with app.app_context():
        try:
            if candidate is not None and not candidate.ensure(db.session):
                return 0
            keep_going = (lambda: candidate.ensure(db.session)) if candidate is not None else None
            sealed = seal(db.session, keep_going=keep_going)
            if sealed:
                log.info("audit trail: %d events sealed", sealed)
            return sealed
        except Exception:
            log.exception("sealing the audit trail failed")
            return 0
        finally:
            db.session.remove()
