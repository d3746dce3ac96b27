"""The JSON API under /api/v1: API-key authentication, problem+json errors, and the router registry."""
