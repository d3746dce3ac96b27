"""Streaming reader for IEEE XES event logs (plain or gzipped), using lxml
iterparse so that memory stays proportional to one trace, not the file.

The log is flattened to one row per event: event attributes under their key,
trace attributes under ``case:<key>`` (the convention pm4py also uses), so the
standard default mapping is case id = ``case:concept:name``, activity =
``concept:name``, timestamp = ``time:timestamp``. XES ``<global>`` default
values are not applied (as in pm4py); nested attribute children are ignored.
"""

from __future__ import annotations

from typing import IO, Any

import numpy as np
import pandas as pd
from lxml import etree

from .errors import EventLogError

_VALUE_TAGS = {"string", "date", "int", "float", "boolean", "id", "list", "container"}


_LOCAL_CACHE: dict[str, str] = {}


def _local(tag: Any) -> str:
    """Tag name without namespace ('{http://...}event' -> 'event'), cached."""
    name = _LOCAL_CACHE.get(tag)
    if name is None:
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        _LOCAL_CACHE[tag] = name
    return name


def _value(tag: str, raw: str | None) -> Any:
    if raw is None or tag in ("string", "date", "id"):
        return raw
    if tag == "int":
        try:
            return int(raw)
        except ValueError:
            return raw
    if tag == "float":
        try:
            return float(raw)
        except ValueError:
            return raw
    if tag == "boolean":
        return raw.strip().lower() == "true"
    return raw


def _attributes(elem, intern: dict, prefix: str = "") -> dict[str, Any]:
    """The direct typed attribute children of a trace or event element.
    Repeated text (activity names, resources, ...) is shared through
    ``intern``; dates are not, as they rarely repeat."""
    attrs: dict[str, Any] = {}
    for child in elem:
        tag = _local(child.tag)
        if tag in _VALUE_TAGS:
            key = child.get("key")
            if key is not None:
                value = _value(tag, child.get("value"))
                if tag == "string" and value is not None:
                    value = intern.setdefault(value, value)
                attrs[prefix + key] = value
    return attrs


class _Columns:
    """Column-wise event store: one list per attribute key, padded with None,
    which takes far less memory than one dict per event."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {}
        self.n = 0

    def add(self, event: dict[str, Any], case_attrs: dict[str, Any]) -> None:
        for attrs in (event, case_attrs):
            for key, value in attrs.items():
                column = self.columns.get(key)
                if column is None:
                    column = self.columns[key] = [None] * self.n
                column.append(value)
        self.n += 1
        for column in self.columns.values():
            if len(column) < self.n:
                column.append(None)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {key: np.array(values, dtype=object) for key, values in self.columns.items()},
            index=pd.RangeIndex(self.n),
        )


def read_xes_frame(stream: IO[bytes], source: str) -> pd.DataFrame:
    """Every event of the log as one row (event attributes by key, trace
    attributes as ``case:<key>``), in file order, all values as objects."""
    store = _Columns()
    intern: dict[str, str] = {}
    pending: list[dict[str, Any]] = []  # events of the trace being read
    context = etree.iterparse(
        stream, events=("end",), tag=("{*}event", "{*}trace"), huge_tree=True, remove_comments=True
    )
    root_checked = False
    try:
        for _, elem in context:
            if not root_checked:
                _check_root(elem.getroottree().getroot(), source)
                root_checked = True
            if _local(elem.tag) == "event":
                parent = elem.getparent()
                if parent is not None and _local(parent.tag) == "trace":
                    pending.append(_attributes(elem, intern))
                else:  # an event outside any trace has no case
                    store.add(_attributes(elem, intern), {})
                elem.clear()
            else:
                # trace attributes may follow the events, so events wait here
                case_attrs = _attributes(elem, intern, "case:")
                for event in pending:
                    store.add(event, case_attrs)
                pending = []
                elem.clear()
                # drop finished traces so memory stays flat
                while elem.getprevious() is not None:
                    del elem.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise EventLogError(f"{source}: not a readable XES file (invalid XML: {exc})") from None
    except (OSError, EOFError) as exc:  # e.g. a truncated gzip stream
        raise EventLogError(f"{source}: cannot read the file ({exc})") from None
    if not root_checked:
        _check_root(getattr(context, "root", None), source)
    return store.frame()


def _check_root(root, source: str) -> None:
    if root is None:
        raise EventLogError(f"{source}: not an XES event log (the file is empty)")
    if _local(root.tag) != "log":
        raise EventLogError(
            f"{source}: not an XES event log (the XML root element is <{_local(root.tag)}>, expected <log>)"
        )
