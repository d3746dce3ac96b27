"""servicepulse: customer-experience management for service organisations."""

__version__ = "0.1.0"
