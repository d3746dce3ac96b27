"""The JSON API's own parts: API-key authentication and its cache, /api/v1/health and /api/v1/docs. Assembled by servicepulse/app.py."""
