"""Open the analytics store named by SERVICEPULSE_ANALYTICS_URL and talk to it.

Two engines behind one small interface (`AnalyticsStore`): chDB, ClickHouse in this process on a folder
(`chdb:///abs/path`, or `chdb://rel/path` under the data folder), and a ClickHouse server or cluster over
HTTP through clickhouse-connect (`clickhouse://user:password@host:8123/db`, `clickhouses://` for TLS).
Both read and write Arrow, so a result has the same Python types on either.

Parameters are always bound by ClickHouse, never formatted into the SQL: a query names them as
`{name:Type}` and passes values separately. ClickHouse string literals interpret backslashes, so plain
string formatting of user text would change it (or worse).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
import pyarrow as pa

from servicepulse.errors import ConfigurationError, ServicepulseError

URL_HELP = ("expected chdb:///absolute/folder, chdb://folder (under the data folder) or "
            "clickhouse://user:password@host:8123/database")


class AnalyticsStoreError(ServicepulseError):
    """The analytics store refused a statement or cannot be reached (one line, no traceback)."""


def parse_url(url: str, data_dir: Path) -> tuple[str, dict]:
    """("chdb", {"path": Path}) or ("clickhouse", {host, port, username, password, database, secure})."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        if parts.query or parts.fragment:
            raise ConfigurationError(f"analytics URL {_shown(url)!r}: chdb takes no options; {URL_HELP}")
        # chdb:///abs -> netloc "" and path "/abs"; chdb://rel/x -> netloc "rel" and path "/x"
        path = Path(unquote(parts.path)) if not parts.netloc else data_dir / unquote(parts.netloc + parts.path)
        if not parts.netloc and not parts.path:
            path = data_dir / "analytics"
        return "chdb", {"path": path.expanduser().resolve()}
    if scheme in ("clickhouse", "clickhouses"):
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError(f"analytics URL {_shown(url)!r} has a bad port; {URL_HELP}") from None
        if not parts.hostname:
            raise ConfigurationError(f"analytics URL {_shown(url)!r} names no host; {URL_HELP}")
        database = unquote(parts.path.lstrip("/")) or "default"
        if "/" in database:
            raise ConfigurationError(f"analytics URL {_shown(url)!r}: one database name after the host; {URL_HELP}")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        secure = scheme == "clickhouses" or options.get("secure", "").lower() in ("1", "true", "yes")
        return "clickhouse", {"host": parts.hostname, "port": port or (8443 if secure else 8123),
                              "username": unquote(parts.username or "default"),
                              "password": unquote(parts.password or ""), "database": database, "secure": secure}
    raise ConfigurationError(f"analytics URL {_shown(url)!r} is not valid: {URL_HELP}")


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(":" + parts.password + "@", ":***@", 1)
    return url


# --- parameters ----------------------------------------------------------------------------------

_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "'": "\\'"})
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'"})


def plain_value(value):
    """A parameter as the text-friendly Python value both engines take (times in UTC with microseconds)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass timezone-aware timestamps")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain_value(v) for v in value]
    return value


def _literal(value) -> str:
    """A value inside an array parameter: a quoted ClickHouse literal."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.translate(_LITERAL_ESCAPES) + "'"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value) if isinstance(value, float) else str(value)


def param_text(value) -> str:
    """A parameter in the escaped text form ClickHouse parses `{name:Type}` values from (chDB needs it)."""
    value = plain_value(value)
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_TSV_ESCAPES)
    if isinstance(value, list):
        return _literal(value)
    return repr(value) if isinstance(value, float) else str(value)


# --- the stores ----------------------------------------------------------------------------------

class AnalyticsStore:
    """What the rest of servicepulse needs of ClickHouse. Table names are those of the main database."""

    kind: str
    cluster: str | None = None

    def query_arrow(self, sql: str, params: Mapping | None = None) -> pa.Table:
        raise NotImplementedError

    def command(self, sql: str, params: Mapping | None = None) -> None:
        raise NotImplementedError

    def insert_arrow(self, table: str, data: pa.Table) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def query(self, sql: str, params: Mapping | None = None) -> list[tuple]:
        table = self.query_arrow(sql, params)
        return list(zip(*(c.to_pylist() for c in table.columns))) if table.num_columns else []

    def query_df(self, sql: str, params: Mapping | None = None) -> pd.DataFrame:
        return self.query_arrow(sql, params).to_pandas()

    def scalar(self, sql: str, params: Mapping | None = None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def table_names(self) -> set[str]:
        return {r[0] for r in self.query("SELECT name FROM system.tables WHERE database = currentDatabase()")}

    def __enter__(self) -> AnalyticsStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# chDB runs one embedded server per process, on one folder at a time.
_CHDB_LOCK = threading.RLock()
_CHDB: dict[str, object] = {}


class ChdbStore(AnalyticsStore):
    kind = "chdb"

    def __init__(self, path: Path):
        from chdb import session as chdb_session  # heavy; loaded when a store is opened

        self.path = Path(path)
        with _CHDB_LOCK:
            current = _CHDB.get("path")
            if current is not None and current != str(self.path):
                _CHDB.pop("session").close()
                _CHDB.pop("path")
            if "session" not in _CHDB:
                try:
                    self.path.mkdir(parents=True, exist_ok=True)
                    _CHDB["session"] = chdb_session.Session(str(self.path))
                except Exception as exc:  # chdb raises plain RuntimeErrors
                    raise AnalyticsStoreError(f"cannot open the chDB analytics store at {self.path}: "
                                              f"{_first_line(exc)}") from None
                _CHDB["path"] = str(self.path)
            self._session = _CHDB["session"]

    def _run(self, sql: str, fmt: str, params: Mapping | None):
        bound = {k: param_text(v) for k, v in (params or {}).items()} or None
        with _CHDB_LOCK:
            try:
                return self._session.query(sql, fmt, params=bound)
            except Exception as exc:
                raise AnalyticsStoreError(f"the analytics store refused a statement: {_first_line(exc)}") from None

    def query_arrow(self, sql, params=None):
        return self._run(sql, "ArrowTable", params)

    def command(self, sql, params=None):
        self._run(sql, "CSV", params)

    def insert_arrow(self, table, data):
        if data.num_rows == 0:
            return 0
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, data.schema) as writer:
            writer.write_table(data)
        columns = ", ".join(f"`{c}`" for c in data.column_names)
        with _CHDB_LOCK:
            try:
                with self._session.send_insert(f"INSERT INTO `{table}` ({columns})", "ArrowStream") as inserter:
                    inserter.append(sink.getvalue())
                    inserter.finish()
            except Exception as exc:
                raise AnalyticsStoreError(f"the analytics store refused rows for {table}: {_first_line(exc)}") from None
        return data.num_rows

    def close(self) -> None:
        """Close the process's chDB session (the next store opened starts a new one)."""
        with _CHDB_LOCK:
            if _CHDB.get("session") is self._session:
                _CHDB.pop("session").close()
                _CHDB.pop("path")


class ClickHouseStore(AnalyticsStore):
    kind = "clickhouse"

    def __init__(self, host: str, port: int, username: str, password: str, database: str, secure: bool,
                 cluster: str | None = None):
        import clickhouse_connect  # loaded when a store is opened

        self.cluster = cluster
        self.where = f"{host}:{port}/{database}"
        try:
            self._client = clickhouse_connect.get_client(host=host, port=port, username=username, password=password,
                                                         database=database, secure=secure,
                                                         settings={"mutations_sync": 2})
        except Exception as exc:
            raise AnalyticsStoreError(f"cannot reach the ClickHouse analytics store at {self.where}: "
                                      f"{_first_line(exc)}") from None
        self._lock = threading.Lock()  # one HTTP session; statements are short

    def _params(self, params):
        return {k: plain_value(v) for k, v in (params or {}).items()}

    def query_arrow(self, sql, params=None):
        with self._lock:
            try:
                return self._client.query_arrow(sql, parameters=self._params(params), use_strings=True)
            except Exception as exc:
                raise AnalyticsStoreError(f"the analytics store refused a statement: {_first_line(exc)}") from None

    def command(self, sql, params=None):
        with self._lock:
            try:
                self._client.command(sql, parameters=self._params(params))
            except Exception as exc:
                raise AnalyticsStoreError(f"the analytics store refused a statement: {_first_line(exc)}") from None

    def insert_arrow(self, table, data):
        if data.num_rows == 0:
            return 0
        with self._lock:
            try:
                self._client.insert_arrow(table, data)
            except Exception as exc:
                raise AnalyticsStoreError(f"the analytics store refused rows for {table}: {_first_line(exc)}") from None
        return data.num_rows

    def close(self) -> None:
        self._client.close()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_store(url: str, data_dir: Path) -> AnalyticsStore:
    """The store the URL names (ConfigurationError for a bad URL, AnalyticsStoreError when unreachable)."""
    kind, options = parse_url(url, data_dir)
    if kind == "chdb":
        return ChdbStore(options["path"])
    return ClickHouseStore(**options)


def bind_names(values: Sequence) -> list:
    """Values for an `Array(T)` parameter (a list; ids from NumPy become Python ints)."""
    return [v.item() if hasattr(v, "item") else v for v in values]


_OPEN: dict[tuple[str, str], AnalyticsStore] = {}
_OPEN_LOCK = threading.Lock()


def configured_store(url: str, data_dir: Path) -> AnalyticsStore:
    """The process's store for this URL, opened once (the job worker and the pages share it)."""
    with _OPEN_LOCK:
        key = (url, str(data_dir))
        store = _OPEN.get(key)
        if store is None or (isinstance(store, ChdbStore) and _CHDB.get("session") is not store._session):
            store = _OPEN[key] = open_store(url, data_dir)
        return store
