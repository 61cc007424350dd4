"""A stand-in for Supabase's REST layer (PostgREST) for the requests our Supabase store makes.

It answers over HTTP the way PostgREST does — table reads with filters, ordering, ranges
and exact counts, inserts and upserts, updates, RPC calls, PostgREST-shaped errors — by
translating each request into SQL on a real PostgreSQL that has schema.sql applied. So
the store's requests, the functions in schema.sql and the tenant scoping are all exercised
for real; only PostgREST itself (and Supabase's gateway) is replaced. Every request is
recorded so tests can check that each one is scoped to a tenant.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_OPERATORS = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "like": "LIKE",
    "ilike": "ILIKE",
}
_RESERVED = {"select", "order", "limit", "offset", "on_conflict", "or", "columns"}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the double received it."""

    method: str
    target: str
    params: tuple[tuple[str, str], ...]
    body: Any

    def has_param(self, name: str, prefix: str) -> bool:
        """True when a query parameter `name` starts with `prefix` (e.g. tenant_id, "eq.")."""
        return any(key == name and value.startswith(prefix) for key, value in self.params)


class PostgrestError(Exception):
    """An error answer in PostgREST's shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise PostgrestError(400, "PGRST100", f"invalid identifier {name!r}")
    return name


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside double quotes and parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and not quoted and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


class _Translator:
    """Turns PostgREST syntax into SQL with parameters cast to each column's type."""

    def __init__(self, columns: dict[str, dict[str, str]]) -> None:
        self._columns = columns

    def column_type(self, table: str, column: str) -> str:
        if table not in self._columns:
            raise PostgrestError(
                404, "PGRST205", f"Could not find the table 'public.{table}' in the schema cache"
            )
        kind = self._columns[table].get(column)
        if kind is None:
            raise PostgrestError(400, "42703", f"column {table}.{column} does not exist")
        return kind

    def value(self, table: str, column: str, raw: Any) -> sql.Composable:
        kind = self.column_type(table, column)
        if raw is None:
            return sql.SQL("NULL")
        if kind in ("json", "jsonb"):
            return sql.SQL("{}::jsonb").format(sql.Literal(json.dumps(raw)))
        return sql.SQL("{}::{}").format(sql.Literal(str(raw)), sql.SQL(kind))

    def condition(self, table: str, column: str, expression: str) -> sql.Composable:
        operator, _, raw = expression.partition(".")
        target = sql.Identifier(_identifier(column))
        if operator == "is":
            if raw not in ("null", "true", "false"):
                raise PostgrestError(400, "PGRST100", f"bad is.{raw}")
            self.column_type(table, column)
            return sql.SQL("{} IS {}").format(target, sql.SQL(raw.upper()))
        if operator == "in":
            items = [_unquote(v) for v in _split_top_level(raw.strip("()"))] if raw.strip("()") else []
            if not items:
                return sql.SQL("FALSE")
            values = sql.SQL(", ").join(self.value(table, column, v) for v in items)
            return sql.SQL("{} IN ({})").format(target, values)
        if operator not in _OPERATORS:
            raise PostgrestError(400, "PGRST100", f"unknown operator {operator!r}")
        raw = _unquote(raw)
        if operator in ("like", "ilike"):
            return sql.SQL("{} {} {}").format(
                target, sql.SQL(_OPERATORS[operator]), sql.Literal(raw.replace("*", "%"))
            )
        return sql.SQL("{} {} {}").format(
            target, sql.SQL(_OPERATORS[operator]), self.value(table, column, raw)
        )

    def where(self, table: str, params: list[tuple[str, str]]) -> sql.Composable:
        conditions: list[sql.Composable] = []
        for key, value in params:
            if key == "or":
                alternatives = []
                for part in _split_top_level(value.strip()[1:-1]):
                    column, _, expression = part.partition(".")
                    alternatives.append(self.condition(table, column, expression))
                conditions.append(sql.SQL("({})").format(sql.SQL(" OR ").join(alternatives)))
            elif key not in _RESERVED:
                conditions.append(self.condition(table, key, value))
        if not conditions:
            return sql.SQL("")
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)

    def order(self, table: str, text: str | None) -> sql.Composable:
        if not text:
            return sql.SQL("")
        terms = []
        for term in text.split(","):
            column, *flags = term.split(".")
            self.column_type(table, column)
            direction = "DESC" if "desc" in flags else "ASC"
            nulls = " NULLS LAST" if "nullslast" in flags else " NULLS FIRST" if "nullsfirst" in flags else ""
            terms.append(
                sql.SQL("{} {}{}").format(sql.Identifier(column), sql.SQL(direction), sql.SQL(nulls))
            )
        return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(terms)


class PostgrestDouble:
    """Serves /rest/v1 on 127.0.0.1 over a PostgreSQL database; `key` is the only valid apikey."""

    def __init__(self, conninfo: str, key: str) -> None:
        self.key = key
        self.requests: list[RecordedRequest] = []
        self.available = True
        self._conninfo = conninfo
        self._lock = threading.Lock()
        self.reload_schema()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo, min_size=1, max_size=8, kwargs={"row_factory": dict_row}, open=True
        )
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def reload_schema(self) -> None:
        """Read the tables and columns again (PostgREST does on `NOTIFY pgrst, 'reload schema'`)."""
        with psycopg.connect(self._conninfo) as connection:
            rows = connection.execute(
                "SELECT table_name, column_name, udt_name FROM information_schema.columns"
                " WHERE table_schema = 'public'"
            ).fetchall()
        columns: dict[str, dict[str, str]] = {}
        for table, column, udt in rows:
            columns.setdefault(table, {})[column] = udt
        self._translate = _Translator(columns)

    @property
    def url(self) -> str:
        """What SUPABASE_URL would be."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> PostgrestDouble:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._pool.close()

    def _answer(
        self, method: str, path: str, query: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("apikey") != self.key:
            return (
                401,
                {
                    "message": "Invalid API key",
                    "hint": "Double check your Supabase `anon` or `service_role` API key.",
                },
                {},
            )
        if not path.startswith("/rest/v1/"):
            return 404, {"message": "not found"}, {}
        params = parse_qsl(query, keep_blank_values=True)
        target = path.removeprefix("/rest/v1/")
        with self._lock:
            self.requests.append(RecordedRequest(method, target, tuple(params), body))
        prefer = headers.get("prefer", "")
        try:
            with self._pool.connection() as connection:
                if target.startswith("rpc/") and method == "POST":
                    return (
                        200,
                        self._rpc(connection, _identifier(target.removeprefix("rpc/")), body or {}),
                        {},
                    )
                table = _identifier(target)
                if method == "GET":
                    return self._select(connection, table, params, headers, prefer)
                if method == "POST":
                    return self._insert(connection, table, params, body, prefer)
                if method == "PATCH":
                    return self._update(connection, table, params, body)
                if method == "DELETE":
                    return self._delete(connection, table, params)
                return 405, {"message": f"{method} not supported by the double"}, {}
        except PostgrestError as error:
            return (
                error.status,
                {"code": error.code, "message": error.message, "details": None, "hint": None},
                {},
            )
        except psycopg.Error as error:
            state = error.sqlstate or "XX000"
            status = {"23505": 409, "23503": 409, "P0002": 404, "42883": 404, "22P02": 400}.get(state, 400)
            message = error.diag.message_primary or str(error)
            return status, {"code": state, "message": message, "details": None, "hint": None}, {}

    def _select(
        self,
        connection: psycopg.Connection[Any],
        table: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        prefer: str,
    ) -> tuple[int, Any, dict[str, str]]:
        lookup = dict(params)
        select = lookup.get("select", "*")
        if select == "*":
            columns: sql.Composable = sql.SQL("*")
        else:
            names = [_identifier(c) for c in select.split(",")]
            for name in names:
                self._translate.column_type(table, name)
            columns = sql.SQL(", ").join(sql.Identifier(n) for n in names)
        where = self._translate.where(table, params)
        query = sql.SQL("SELECT {} FROM public.{}{}{}").format(
            columns, sql.Identifier(table), where, self._translate.order(table, lookup.get("order"))
        )
        offset = int(lookup.get("offset", "0"))
        if "limit" in lookup:
            query += sql.SQL(" LIMIT {}").format(sql.Literal(int(lookup["limit"])))
        if offset:
            query += sql.SQL(" OFFSET {}").format(sql.Literal(offset))
        rows = connection.execute(query).fetchall()
        extra: dict[str, str] = {}
        if "count=exact" in prefer:
            total = connection.execute(
                sql.SQL("SELECT count(*) AS n FROM public.{}{}").format(sql.Identifier(table), where)
            ).fetchone()
            count = int(total["n"]) if total else 0
            extra["Content-Range"] = f"{offset}-{offset + len(rows) - 1}/{count}" if rows else f"*/{count}"
        return 200, rows, extra

    def _insert(
        self,
        connection: psycopg.Connection[Any],
        table: str,
        params: list[tuple[str, str]],
        body: Any,
        prefer: str,
    ) -> tuple[int, Any, dict[str, str]]:
        records = body if isinstance(body, list) else [body]
        if not records:
            return 201, [], {}
        names = [_identifier(c) for c in records[0]]
        values = sql.SQL(", ").join(
            sql.SQL("({})").format(
                sql.SQL(", ").join(self._translate.value(table, n, r.get(n)) for n in names)
            )
            for r in records
        )
        query = sql.SQL("INSERT INTO public.{} ({}) VALUES {}").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(n) for n in names), values
        )
        conflict = dict(params).get("on_conflict")
        if conflict:
            target = sql.SQL(", ").join(sql.Identifier(_identifier(c)) for c in conflict.split(","))
            if "resolution=ignore-duplicates" in prefer:
                query += sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(target)
            elif "resolution=merge-duplicates" in prefer:
                updates = sql.SQL(", ").join(
                    sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n)) for n in names
                )
                query += sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(target, updates)
        query += sql.SQL(" RETURNING *")
        return 201, connection.execute(query).fetchall(), {}

    def _update(
        self, connection: psycopg.Connection[Any], table: str, params: list[tuple[str, str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(_identifier(k)), self._translate.value(table, k, v))
            for k, v in body.items()
        )
        query = sql.SQL("UPDATE public.{} SET {}{} RETURNING *").format(
            sql.Identifier(table), assignments, self._translate.where(table, params)
        )
        return 200, connection.execute(query).fetchall(), {}

    def _delete(
        self, connection: psycopg.Connection[Any], table: str, params: list[tuple[str, str]]
    ) -> tuple[int, Any, dict[str, str]]:
        query = sql.SQL("DELETE FROM public.{}{} RETURNING *").format(
            sql.Identifier(table), self._translate.where(table, params)
        )
        return 200, connection.execute(query).fetchall(), {}

    def _rpc(self, connection: psycopg.Connection[Any], function: str, arguments: dict[str, Any]) -> Any:
        found = connection.execute(
            "SELECT proargnames AS names, proargtypes::regtype[]::text[] AS types,"
            " proretset AS returns_set, prorettype::regtype::text AS returns"
            " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public' AND p.proname = %s",
            (function,),
        ).fetchone()
        if found is None:
            raise PostgrestError(
                404, "PGRST202", f"Could not find the function public.{function} in the schema cache"
            )
        kinds = dict(zip(found["names"] or [], found["types"], strict=False))
        parts = []
        for name, value in arguments.items():
            kind = kinds.get(name)
            if kind is None:
                raise PostgrestError(404, "PGRST202", f"public.{function} has no parameter {name}")
            literal = sql.Literal(json.dumps(value) if kind in ("json", "jsonb") else value)
            parts.append(sql.SQL("{} => {}::{}").format(sql.Identifier(name), literal, sql.SQL(kind)))
        call = sql.SQL("public.{}({})").format(sql.Identifier(function), sql.SQL(", ").join(parts))
        if found["returns_set"] or found["returns"] not in (
            "jsonb",
            "json",
            "uuid",
            "text",
            "integer",
            "void",
            "boolean",
        ):
            return connection.execute(sql.SQL("SELECT * FROM {}").format(call)).fetchall()
        row = connection.execute(sql.SQL("SELECT {} AS result").format(call)).fetchone()
        return None if row is None else row["result"]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this, Nagle's algorithm
            # and delayed ACKs add ~40 ms to every keep-alive response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if not double.available:
                    self.close_connection = True
                    return
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, extra = double._answer(
                    self.command, parts.path, parts.query, headers, json.loads(raw) if raw else None
                )
                data = json.dumps(payload, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        return Handler
