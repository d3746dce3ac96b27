"""Organisation domain: units and teams, users and roles, API keys and their scopes, passwords,
and who may see what (`Actor`, servicepulse/org/access.py)."""

from servicepulse.org.access import SCOPES, Actor, allowed_scopes, effective_scopes, parse_scopes
from servicepulse.org.audit import AuditPage, actor_label, last_audit, list_audit, purge_audit_before, record_audit
from servicepulse.org.service import user_led_team_ids, user_team_ids

__all__ = ["AuditPage", "actor_label", "last_audit", "list_audit", "purge_audit_before", "record_audit",
           "SCOPES", "Actor", "allowed_scopes", "effective_scopes", "parse_scopes", "user_led_team_ids",
           "user_team_ids"]
