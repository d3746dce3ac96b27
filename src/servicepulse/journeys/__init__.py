"""Journeys as the customer walks them: moment mapping rules and journey analytics.

`rules` holds the pure rule matching, `repository` the rule storage (database
and YAML file), `analytics` the per-journey and per-moment figures, variants
and the directly-follows graph, `dfg` the graph image.
"""
