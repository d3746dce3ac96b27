"""A navigation entry of the dashboard's menu."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    path: str  # where the entry links to; also marks it current for paths below it
    label: str  # message catalogue key
    roles: tuple[str, ...] = ()  # who sees it; empty = every logged-in user
