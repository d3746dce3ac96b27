"""The demo organisation: Glasvezel Noord, a fictional Dutch fibre-internet provider.

``load_demo(engine, size="small", seed=2026, reset=False, progress=None, end_date=None)``
writes, in one transaction:

- the organisation: five departments, nine teams (front office, back office,
  field engineers), 19 users of every role with published demo passwords
  (``DemoSummary.logins``: admin@demo.servicepulse / demo-admin-2026,
  analyst@demo.servicepulse / demo-analyst-2026, team leads demo-lead-2026,
  agents demo-agent-2026); see `catalogue.py`;
- five journeys (new connection, fault repair, moving house, billing
  question, cancellation) with 4-5 functional/emotional moments each;
- twelve months of customers, cases, case events and promises, ending on the
  fixed `stories.END_DATE` (2026-10-31), or moved by whole weeks to end on or
  before ``end_date`` (`servicepulse demo` passes yesterday, so open cases and
  promises are current); the same seed and end date give the same data;
  cases whose story runs past the last day stay open; see `stories.py`;
- one journey-end survey per journey and the responses to it, with a grade
  per moment and an open answer; the scores follow `effects.py`, the open
  answers `verbatims.py` (the causes written into each comment are stored in
  the ``value_json`` of its ``why`` answer);
- nine improvement projects for the 7+/9+ scan (`projects.py`).

Sizes (`SIZES`): ``tiny`` (tests), ``small`` (~2k customers, 6k cases, 44k
events, 2.6k responses), ``medium`` (10x small), ``large`` (100x small).
``progress`` is ``progress(stage, done, total)`` or a rich ``Progress``.
Loading twice raises `DemoAlreadyLoaded` unless ``reset=True``, which
deletes every row of every table first; other data that clash with the
demo's keys raise `DemoConflict` (nothing is written).
"""

from servicepulse.demo.generate import SIZES
from servicepulse.demo.loader import (
    DemoAlreadyLoaded,
    DemoConflict,
    DemoLoginInfo,
    DemoSummary,
    demo_loaded,
    load_demo,
)

__all__ = ["load_demo", "DemoAlreadyLoaded", "DemoConflict", "DemoSummary", "DemoLoginInfo", "demo_loaded", "SIZES"]
