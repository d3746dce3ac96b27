"""The survey dashboard: per survey, invitations sent, response rate, score distributions,
the latest verbatims and the trigger decisions by reason."""
