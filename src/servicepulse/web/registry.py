"""Importing the routers named in the registries, with a clear message when one is broken."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

from servicepulse.errors import ConfigurationError


def load_router(module: str, attribute: str, registry: str) -> APIRouter:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigurationError(f"{registry}: cannot import {module} ({exc}); fix or remove its line") from exc
    router = getattr(mod, attribute, None)
    if not isinstance(router, APIRouter):
        raise ConfigurationError(f"{registry}: {module}.{attribute} is not a fastapi.APIRouter")
    return router
