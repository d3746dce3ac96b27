"""The response API's JSON shapes, for the OpenAPI schema (validation itself is in items.py / spec.py,
so that a batch can name every bad item and field in one reply)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AnswerValue = int | float | str | list[str] | None


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", title="ResponseIn")

    external_id: str = Field(max_length=120, description="Your id for this response; replays are idempotent by it")
    survey: str = Field(max_length=80, description="Survey key (see GET /surveys)")
    customer: str = Field(max_length=100, description="Customer external id; unknown customers are created")
    case: str | None = Field(None, max_length=100, description="Case external id; must exist and belong to the customer")
    submitted_at: datetime = Field(description="ISO 8601 with a time zone, e.g. 2026-03-01T14:30:00+01:00")
    language: Literal["nl", "en"] = Field("nl", description="Language the answers were given in")
    channel: str | None = Field(None, max_length=20, description="Where the answer was given (default: api)")
    answers: dict[str, AnswerValue] = Field(description="Question key -> value (score, option key, option keys, text)")


class ResponseOut(BaseModel):
    id: int
    external_id: str
    survey: str
    survey_version: int
    customer: str | None
    case: str | None
    submitted_at: str
    language: str | None
    channel: str | None
    answers: dict[str, AnswerValue]


class BatchResult(BaseModel):
    created: int = Field(description="Responses stored by this request")
    replayed: int = Field(description="Responses that were already stored with identical content")
    items: list[ResponseOut] = Field(description="One per submitted item, in order")


def request_body_schema() -> dict:
    """One ResponseIn or a list of them, inlined (the schema has no nested definitions)."""
    item = ResponseIn.model_json_schema()
    item.pop("$defs", None)
    return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": 1000}]}
