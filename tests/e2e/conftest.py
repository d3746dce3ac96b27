from ..web.conftest import fast_password_hashing, settings  # noqa: F401  (fixtures)
