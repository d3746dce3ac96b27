"""FastAPI glue both edges share: sessions per request, authentication, CSRF, problem+json, templating and i18n."""
