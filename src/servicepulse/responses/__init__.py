"""Responses from every channel: ingestion (API, CSV), idempotency, headline scores, outgoing webhooks."""
