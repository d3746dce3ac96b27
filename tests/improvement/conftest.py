from tests.metrics.conftest import app, client, settings, fast_password_hashing, make_user  # noqa: F401
