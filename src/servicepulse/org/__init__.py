"""Organisation domain: units and teams, users and roles, API keys, passwords."""
