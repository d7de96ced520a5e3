"""Kind `sql`: one table or one SELECT from a partner's database through SQLAlchemy (PostgreSQL with psycopg 3:
`postgresql+psycopg://user@host:5432/db`). Credentials come only from environment variables and never reach
provenance, rejects, logs or outputs: those show the URL with the password masked."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import Field, model_validator

from expectations.errors import SourceError
from sources.base import ROW_COLUMN, KindOptions, RawTables, SourceKind, SourceRequest, register
from sources.tabular import header_names

if TYPE_CHECKING:
    from sqlalchemy import URL

# SQLAlchemy and psycopg (about 0.4 s of imports) are imported where a SQL source is configured or read, not when
# the package registers its kinds.

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
LEADING_COMMENTS = re.compile(r"^(\s*--[^\n]*(\n|$)|\s*/\*.*?\*/)*", re.DOTALL)


class SqlOptions(KindOptions):
    url_env: str | None = Field(default=None, pattern=ENV_NAME)  # NAME of the variable holding the whole URL
    url: str | None = None  # the URL without its password; the password then comes from `password_env`
    password_env: str | None = Field(default=None, pattern=ENV_NAME)
    table: str | None = None  # a table or view, optionally schema-qualified: "reporting.services"
    query: str | None = None  # one SELECT (or WITH ... SELECT), written in the map config, never from data
    order_by: list[str] = Field(default_factory=list)  # columns that order the rows; the others break ties
    connect_timeout_seconds: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> SqlOptions:
        # messages never echo the URL: it may carry a password written where it must not be
        if (self.url_env is None) == (self.url is None):
            raise ValueError("set exactly one of url_env (the NAME of an environment variable holding the database "
                             "URL) or url (the URL without a password, with password_env)")
        if self.url_env is not None and self.password_env is not None:
            raise ValueError("password_env goes with url; with url_env the password is part of that URL")
        if self.url is not None:
            from sqlalchemy import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                parsed = make_url(self.url)
            except ArgumentError:
                raise ValueError("url is not a database URL such as postgresql+psycopg://user@host:5432/db") from None
            if parsed.password is not None:
                raise ValueError("url must not contain a password: remove it and name an environment variable "
                                 "holding it in password_env")
        if (self.table is None) == (self.query is None):
            raise ValueError("set exactly one of table or query")
        if self.table is not None and not TABLE_NAME.match(self.table):
            raise ValueError(f"table {self.table!r} is not a table name (letters, digits and _, "
                             "optionally schema.table)")
        if self.query is not None:
            single_select(self.query)
        return self


def single_select(query: str) -> str:
    """The query without its trailing `;`; anything but one SELECT (or WITH ... SELECT) is a ValueError."""
    statement = query.strip().removesuffix(";").strip()
    if ";" in statement:
        raise ValueError("query must be one statement: remove the `;` inside it (also inside string literals)")
    words = LEADING_COMMENTS.sub("", statement).split(None, 1)
    if not words or words[0].lower() not in ("select", "with"):
        raise ValueError("query must be one SELECT (or WITH ... SELECT) statement")
    return statement


def _url(options: SqlOptions, where: str) -> tuple[URL, str | None]:
    """The connection URL with its credentials, and the password (to scrub from messages)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    if options.url_env is not None:
        value = os.environ.get(options.url_env)
        if not value:
            raise SourceError(f"{where}: environment variable {options.url_env} (options.url_env) is not set; "
                              f"export {options.url_env}=postgresql+psycopg://user:password@host:5432/db where "
                              "the refresh runs")
        try:
            url = make_url(value)
        except ArgumentError:
            raise SourceError(f"{where}: environment variable {options.url_env} does not hold a database URL "
                              "such as postgresql+psycopg://user:password@host:5432/db") from None
        return url, url.password if isinstance(url.password, str) else None
    url = make_url(options.url or "")
    if options.password_env is None:
        return url, None
    password = os.environ.get(options.password_env)
    if password is None:
        raise SourceError(f"{where}: environment variable {options.password_env} (options.password_env) is not "
                          "set; export it with the database password where the refresh runs")
    return url.set(password=password), password


def masked_location(options: SqlOptions, folder: Path = Path(".")) -> str:
    """Where the rows come from, safe to show: the URL with its password as ***, a database file named relative to
    the map config's `folder` (never by the machine's absolute path), and the table (or `query`)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    what = options.table or "query"
    if options.url_env is not None:
        value = os.environ.get(options.url_env)
        try:
            shown = _shown_url(make_url(value), folder) if value else f"${options.url_env}"
        except ArgumentError:
            shown = f"${options.url_env}"
    else:
        shown = _shown_url(make_url(options.url or ""), folder)
    return f"{shown} ({what})"


def _shown_url(url: URL, folder: Path) -> str:
    database = url.database
    if url.drivername.startswith("sqlite") and database and Path(database).is_absolute():
        path = Path(database)
        try:
            url = url.set(database=str(path.resolve().relative_to(folder.resolve())))
        except ValueError:
            url = url.set(database=path.name)  # outside the config's folder: its name only
    return url.render_as_string(hide_password=True)


def _scrubbed(message: str, secret: str | None) -> str:
    message = message.split("\n(Background on this error", 1)[0].strip()
    return message.replace(secret, "***") if secret else message


def _text(value: Any) -> str | None:
    """A database value as the text a partner's file would carry."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def rows_sha256(columns: list[str], rows: list[list[str | None]]) -> str:
    """The hash of a result: its column names and its rows, in the order given."""
    digest = hashlib.sha256(json.dumps(columns).encode())
    for row in rows:
        digest.update(b"\n" + json.dumps(row, ensure_ascii=False).encode())
    return digest.hexdigest()


def _read_sql(request: SourceRequest) -> RawTables:
    from sqlalchemy import MetaData, Table, create_engine, select, text
    from sqlalchemy.exc import (
        ArgumentError,
        DBAPIError,
        InterfaceError,
        NoSuchModuleError,
        NoSuchTableError,
        SQLAlchemyError,
    )
    from sqlalchemy.pool import NullPool

    options: SqlOptions = request.options  # type: ignore[assignment]
    where = f"{request.source_id}: {masked_location(options, request.folder)}"
    url, secret = _url(options, where)
    connect_args = {"connect_timeout": options.connect_timeout_seconds} if url.get_backend_name() == "postgresql" \
        else {}
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except (ArgumentError, NoSuchModuleError) as error:
        raise SourceError(f"{where}: SQLAlchemy cannot use this URL: {_scrubbed(str(error), secret)}") from None
    try:
        # read only, so a query can never change the partner's database
        connection = engine.connect().execution_options(postgresql_readonly=True)
    except DBAPIError as error:
        # the network, the server or the credentials: an IO error, so the refresh retries it
        engine.dispose()
        detail = _scrubbed(str(error.orig or error), secret)
        raise ConnectionError(f"{where}: cannot read from the database: {detail}") from None
    try:
        with connection:
            if options.table is not None:
                schema, _, name = options.table.rpartition(".")
                statement: Any = select(Table(name, MetaData(), schema=schema or None, autoload_with=connection))
            else:
                statement = text(single_select(options.query or ""))
            result = connection.execute(statement)
            columns = header_names(list(map(str, result.keys())), where)
            rows = [[_text(value) for value in row] for row in result.fetchall()]
    except NoSuchTableError:
        raise SourceError(f"{where}: the database has no table {options.table!r} (check options.table)") from None
    except DBAPIError as error:
        detail = _scrubbed(str(error.orig or error), secret)
        if error.connection_invalidated or isinstance(error, InterfaceError):
            raise ConnectionError(f"{where}: lost the database connection: {detail}") from None
        raise SourceError(f"{where}: the database refused the query: {detail}") from None
    except SQLAlchemyError as error:
        raise SourceError(f"{where}: {_scrubbed(str(error), secret)}") from None
    finally:
        engine.dispose()
    missing = [c for c in options.order_by if c not in columns]
    if missing:
        raise SourceError(f"{where}: options.order_by names {', '.join(map(repr, missing))}, which the result does "
                          f"not have; its columns: {', '.join(columns)}")
    frame = pd.DataFrame(rows, columns=columns, dtype="str")
    # a stable order whatever order the database returns rows in: row numbers and the hash depend on it
    order = [*options.order_by, *(c for c in columns if c not in options.order_by)]
    if len(frame) and order:
        frame = frame.sort_values(order, na_position="first", kind="mergesort").reset_index(drop=True)
    ordered = [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False, name=None)]
    frame.insert(0, ROW_COLUMN, pd.Series(range(1, len(frame) + 1), dtype="int64"))
    return RawTables({request.table or "": frame}, sha256=rows_sha256(columns, ordered))


SQL = register(SourceKind(name="sql", read=_read_sql, options=SqlOptions,
                          describe=lambda request: masked_location(request.options, request.folder)))  # type: ignore[arg-type]
