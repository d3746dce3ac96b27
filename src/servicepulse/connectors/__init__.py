"""Helpdesk connectors: Zendesk, Freshdesk and TOPdesk webhooks and Salesforce outbound messages become
case events (see docs/connectors.md).

Each delivery is verified as its vendor documents it, read into `TicketEvent`s (`events.py`, one parser per
vendor), mapped by the vendor's editable mapping (`mapping.py`, defaults in `mappings/`) and stored through
`cases.ingest_events`, so the survey triggers fire as for any import. The domain owns no table.
"""

from servicepulse.connectors.mapping import KINDS, VENDORS, Mapping, load_mapping
from servicepulse.connectors.service import Received, receive

__all__ = ["KINDS", "VENDORS", "Mapping", "Received", "load_mapping", "receive"]
