"""Digests: weekly or monthly report mails that users subscribe to (or administrators for a team), with the
headline figures, their change against the previous period and its significance, the moments below their
norm and the monthly PDF, sent by the job worker once per period, with a one-click unsubscribe link."""

from servicepulse.digests.periods import Period, last_complete, period_containing
from servicepulse.digests.service import due_sends, queue_due

__all__ = ["Period", "due_sends", "last_complete", "period_containing", "queue_due"]
