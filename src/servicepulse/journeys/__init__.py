"""Journeys as the customer walks them: moment mapping rules and journey analytics.

`rules` holds the pure rule matching, `repository` the rule storage (database
and YAML file), `analytics` the per-journey and per-moment figures, variants
and the directly-follows graph, `dfg` the graph image.
"""

# What other domains use (cases maps new events to moments); they import it from here, not the modules.
from servicepulse.journeys.repository import load_rules
from servicepulse.journeys.rules import assign_moments

__all__ = ["assign_moments", "load_rules"]
