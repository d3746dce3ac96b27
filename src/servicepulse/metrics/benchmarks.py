"""Public reference values (benchmarks) beside the matching figures of /metrics (docs/benchmarks.md).

The shipped table is benchmarks.yaml next to this file: only openly licensed figures, each with source, year and
licence. An installation adds its own table in the same format (SERVICEPULSE_BENCHMARKS_FILE). A table that
does not read as described is refused when the app starts, naming the file, the entry and the field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from servicepulse.errors import ConfigurationError

SHIPPED = Path(__file__).with_name("benchmarks.yaml")
# metric -> (lowest, highest, unit): the figures of the metrics overview a benchmark may sit beside
METRICS = {"nps": (-100, 100, "score"), "grade": (1, 10, "mean"), "grade_7": (0, 100, "share"),
           "grade_9": (0, 100, "share"), "csat_top2": (0, 100, "share"), "ces": (1, 7, "mean"),
           "ces_easy": (0, 100, "share")}
TEXTS = ("source", "publisher", "url", "licence", "licence_url", "year")
LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Benchmark:
    metric: str
    value: float
    year: str
    sector: dict[str, str]
    source: str
    publisher: str
    url: str
    licence: str
    licence_url: str
    note: dict[str, str]
    origin: str  # "shipped" or the installation's file name
    language: str = ""  # the publication's language (source, publisher, licence), e.g. "en"; "" = not said

    @property
    def unit(self) -> str:
        return METRICS[self.metric][2]


@dataclass(frozen=True)
class BenchmarkTable:
    entries: tuple[Benchmark, ...]

    def latest(self) -> list[Benchmark]:
        """The most recent figure per metric and sector (the older ones stay in the file, for the record),
        in the order of METRICS."""
        newest: dict[tuple[str, str], Benchmark] = {}
        for entry in self.entries:
            key = (entry.metric, entry.sector["en"])
            if key not in newest or entry.year > newest[key].year:
                newest[key] = entry
        order = list(METRICS)
        return sorted(newest.values(), key=lambda b: (order.index(b.metric), b.sector["en"]))


def _refuse(where: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"benchmark table {where}: {problem}")


def _texts(value, where: str, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or any(not isinstance(value.get(k), str) or not value[k].strip()
                                          for k in LANGUAGES):
        raise _refuse(where, f"'{field}' needs a text for nl and for en")
    return {k: value[k].strip() for k in LANGUAGES}


def parse(text: str, origin: str) -> list[Benchmark]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise _refuse(origin, f"not valid YAML: {exc}") from None
    items = data.get("benchmarks") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise _refuse(origin, "expected a list under 'benchmarks'")
    out = []
    for number, item in enumerate(items, start=1):
        where = f"{origin}, entry {number}"
        if not isinstance(item, dict):
            raise _refuse(where, "expected a mapping")
        metric = item.get("metric")
        if metric not in METRICS:
            raise _refuse(where, f"'metric' must be one of {', '.join(METRICS)}, not {metric!r}")
        low, high, _ = METRICS[metric]
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise _refuse(where, f"'value' must be a number from {low} to {high} for {metric}, not {value!r}")
        texts = {}
        for field in TEXTS:
            raw = item.get(field)
            if not isinstance(raw, str | int) or not str(raw).strip():
                raise _refuse(where, f"'{field}' is required (source, year and licence make a figure citable)")
            texts[field] = str(raw).strip()
        for field in ("url", "licence_url"):
            if not texts[field].startswith(("https://", "http://")):
                raise _refuse(where, f"'{field}' must be a web address (http or https)")
        language = str(item.get("language") or "").strip()
        if language and not language.replace("-", "").isalpha():
            raise _refuse(where, f"'language' must be a language code such as en or nl, not {language!r}")
        out.append(Benchmark(metric=metric, value=float(value), sector=_texts(item.get("sector"), where, "sector"),
                             note=_texts(item.get("note"), where, "note"), origin=origin, language=language, **texts))
    return out


def load(extra_file: str = "") -> BenchmarkTable:
    """The shipped table plus the installation's own (when `extra_file` names one)."""
    entries = parse(SHIPPED.read_text(encoding="utf-8"), "shipped")
    if extra_file:
        path = Path(extra_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"SERVICEPULSE_BENCHMARKS_FILE {extra_file!r} cannot be read: "
                                     f"{exc.strerror}") from None
        entries += parse(text, path.name)
    return BenchmarkTable(tuple(entries))
