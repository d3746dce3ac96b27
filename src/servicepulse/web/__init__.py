"""The dashboard: server-rendered pages, login and roles, i18n. `create_app` is in web/app.py."""
