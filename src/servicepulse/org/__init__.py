"""Organisation domain: units and teams, users and roles, API keys, passwords."""

from servicepulse.org.service import user_led_team_ids, user_team_ids

__all__ = ["user_led_team_ids", "user_team_ids"]
