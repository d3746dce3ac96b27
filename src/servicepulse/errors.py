"""Errors that carry a message meant for a person, shown without a traceback."""


class ServicepulseError(Exception):
    """Base for errors whose message is shown as-is to the user (CLI: one line, non-zero exit)."""

    exit_code = 1


class ConfigurationError(ServicepulseError):
    """A setting is wrong (for example an unparseable database URL)."""


class DatabaseUnavailable(ServicepulseError):
    """The database cannot be reached."""


class SchemaMismatch(ServicepulseError):
    """The database schema is not the one this code expects."""


class NotFound(ServicepulseError):
    """A named thing does not exist."""


class ValidationFailed(ServicepulseError):
    """Input was rejected; `problems` lists (location, message) pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []
