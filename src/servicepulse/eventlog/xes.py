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


def _attributes(elem, prefix: str = "") -> dict[str, Any]:
    """The direct typed attribute children of a trace or event element."""
    attrs: dict[str, Any] = {}
    for child in elem:
        tag = _local(child.tag)
        if tag in _VALUE_TAGS:
            key = child.get("key")
            if key is not None:
                attrs[prefix + key] = _value(tag, child.get("value"))
    return attrs


def read_xes_records(stream: IO[bytes], source: str) -> list[dict[str, Any]]:
    """Every event of the log as a flat dict, in file order."""
    records: list[dict[str, Any]] = []
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
                    pending.append(_attributes(elem))
                else:  # an event outside any trace has no case
                    records.append(_attributes(elem))
                elem.clear()
            else:
                case_attrs = _attributes(elem, "case:")
                for event in pending:
                    event.update(case_attrs)
                records.extend(pending)
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
    return records


def _check_root(root, source: str) -> None:
    if root is None:
        raise EventLogError(f"{source}: not an XES event log (the file is empty)")
    if _local(root.tag) != "log":
        raise EventLogError(
            f"{source}: not an XES event log (the XML root element is <{_local(root.tag)}>, expected <log>)"
        )
