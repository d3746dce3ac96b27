from tests.metrics.conftest import app, client, fast_password_hashing, make_user, settings  # noqa: F401
