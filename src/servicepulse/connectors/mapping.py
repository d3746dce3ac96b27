"""The editable mapping from a helpdesk's ticket events to case events.

Each vendor ships a default (`connectors/mappings/<vendor>.yaml`). A file of the same name in
`SERVICEPULSE_CONNECTOR_MAPPING_DIR` overrides it key by key: `events`, `channels` and `groups` are merged
entry by entry (an event set to `null` is ignored), every other key is replaced. The mapping is read on
each delivery, so an edit applies to the next call without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from servicepulse.errors import ConfigurationError

VENDORS = ("zendesk", "freshdesk", "topdesk", "salesforce")
# What a helpdesk can tell us about a ticket, in the vendors' common terms.
KINDS = ("created", "status_changed", "group_assigned", "public_reply", "customer_reply", "internal_note",
         "solved", "reopened")
DEFAULTS = Path(__file__).resolve().parent / "mappings"
MERGED_KEYS = ("events", "channels", "groups")


class EventMapping(BaseModel):
    """The case event one kind of ticket event becomes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    activity: str = Field(min_length=1, max_length=200)
    direction: Literal["inbound", "outbound"] | None = None
    line: Literal["front", "back"] | None = None
    customer_facing: bool | None = None


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    vendor: str
    case_prefix: str = Field("", max_length=40)
    customer_prefix: str = Field("", max_length=40)
    journey: str | None = Field(None, max_length=60)  # journey key for new cases; none: the moment rules decide
    solved_statuses: list[str] = []  # a ticket moving into one of these is solved
    closed_statuses: list[str] = []  # after solved (Zendesk's "closed"): neither solved again nor a reopening
    reopened_statuses: list[str] = []  # statuses that are themselves a reopening (e.g. Salesforce "Reopened")
    created_statuses: list[str] = []  # statuses a ticket only has when it was just created (Salesforce "New")
    events: dict[str, EventMapping | None]
    channels: dict[str, str | None] = {}  # the vendor's channel/source value (any case) -> our channel
    groups: dict[str, str] = {}  # the vendor's group id -> team name
    unmapped_group: str = Field("{group}", max_length=100)  # the team of a group not in `groups`
    fields: dict[str, str] = {}  # vendor-specific: which payload field holds what

    @field_validator("events")
    @classmethod
    def _known_kinds(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown event kind(s) {', '.join(unknown)}; the kinds are {', '.join(KINDS)}")
        return value

    @field_validator("solved_statuses", "closed_statuses", "reopened_statuses", "created_statuses")
    @classmethod
    def _folded(cls, value: list[str]) -> list[str]:
        return [str(v).strip().casefold() for v in value]

    @field_validator("channels")
    @classmethod
    def _folded_keys(cls, value: dict) -> dict:
        return {str(k).strip().casefold(): v for k, v in value.items()}

    @field_validator("groups")
    @classmethod
    def _text_keys(cls, value: dict) -> dict:
        return {str(k).strip(): str(v) for k, v in value.items()}

    def event(self, kind: str) -> EventMapping | None:
        return self.events.get(kind)

    def channel(self, value) -> str | None:
        if value in (None, ""):
            return None
        key = str(value).strip().casefold()
        return self.channels.get(key, key[:30])  # an unmapped channel keeps its own (lower-case) name

    def team(self, group) -> str | None:
        if group in (None, ""):
            return None
        group = str(group).strip()
        return self.groups.get(group, self.unmapped_group.replace("{group}", group))[:200]


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} must hold a mapping of keys (case_prefix, events, channels, ...)")
    return data


def merged(default: dict, override: dict) -> dict:
    out = dict(default)
    for key, value in override.items():
        if key in MERGED_KEYS and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def load_mapping(vendor: str, mapping_dir: Path | None = None) -> Mapping:
    """The vendor's mapping: the shipped default, overridden by `<mapping_dir>/<vendor>.yaml` when present.
    Raises `ConfigurationError` naming the file and field when the result is not valid."""
    if vendor not in VENDORS:
        raise ConfigurationError(f"unknown helpdesk {vendor!r}; choose from {', '.join(VENDORS)}")
    data = _read(DEFAULTS / f"{vendor}.yaml")
    source = f"the shipped {vendor} mapping"
    override = Path(mapping_dir) / f"{vendor}.yaml" if mapping_dir else None
    if override is not None and override.is_file():
        data = merged(data, _read(override))
        source = str(override)
    try:
        return Mapping.model_validate({**data, "vendor": vendor})
    except ValidationError as exc:
        problems = "; ".join(f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False))
        raise ConfigurationError(f"{source} is not valid: {problems}") from None
