"""Privacy: erasure (art. 17 GDPR) and access (art. 15) for one customer, retention of personal data
(art. 5), and the admin pages of both with the audit log.

The domain owns no table of its own data: each owning domain erases and expires its rows
(``<domain>.erase_customer``, ``purge_*_before``); this domain runs them in one unit of work and records
what happened with ``servicepulse.org.record_audit``.
"""

from servicepulse.privacy.retention import RETENTION_ACTION, run_retention
from servicepulse.privacy.service import ERASE_ACTION, Erasure, erase_customer, export_customer, record_export
from servicepulse.privacy.settings import RETENTION_KINDS, RetentionSettings

__all__ = ["ERASE_ACTION", "RETENTION_ACTION", "RETENTION_KINDS", "Erasure", "RetentionSettings", "erase_customer",
           "export_customer", "record_export", "run_retention"]
