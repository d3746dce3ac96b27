"""Expectation management: promises made to customers, proactive-communication
signals, and resolution forecasts for open cases.

- `promises`: record promises (events, API, CSV) and decide kept/broken/open
  from later events (`evaluate_promises(session, now)`).
- `kept_rate`: promise-kept rate by journey, team and kind; the effect of a
  broken promise on the linked responses' scores.
- `signals`: rules that raise a signal once per cause (`run_signals(session, now)`).
- `forecasting`: train/load the resolution model, forecast open cases, the case-page panel.
- `stored_recalibration`: the day's interval correction, kept in a JSON file next to the model.

Every function takes ``now`` where time matters, so tests control the clock.
"""

from servicepulse.expectations.erasure import erase_customer

__all__ = ["erase_customer"]
