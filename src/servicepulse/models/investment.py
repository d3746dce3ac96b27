"""Tables of the investment domain (owner: servicepulse.investment)."""

from __future__ import annotations

# --- cost to serve, failure demand, compass (migration 0007_investment) ---

# --- value discipline, expectation gap, relationship health (migration 0008_expectation_gap) ---
