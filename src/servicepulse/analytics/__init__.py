"""Analytics kernel: pure statistics for servicepulse (filled in below)."""
