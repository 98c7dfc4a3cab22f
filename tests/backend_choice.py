"""Which backend a test's store is kept in, for the test and for the processes it starts.

A module marked ``both_backends`` runs each test on the data folder and on PostgreSQL (see
``store_backend`` in conftest.py). On PostgreSQL, a store opened by its data folder is kept in
a schema of the session's server named after the folder, so two processes that open the same
folder meet in the same schema; child processes learn the server from :data:`SERVER_URL_ENV`
and open their store with :func:`open_store`, just as the test does.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from tracker.defaults import LOCK_WAIT_S
from tracker.store import Backend, Store, server_backend

SERVER_URL_ENV = "TRACKER_TEST_SERVER_URL"


def schema_for(data_dir: Path) -> str:
    """The schema that stands for ``data_dir`` on the test server."""
    return "t" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:20]


def server_for(url: str, data_dir: Path, *, lock_wait: float = LOCK_WAIT_S) -> Backend:
    return server_backend(url, schema=schema_for(data_dir), lock_wait=lock_wait)


def open_store(data_dir: str | Path, *, lock_timeout: float = LOCK_WAIT_S) -> Store:
    """The store of ``data_dir`` on the backend this test runs on (for child processes)."""
    url = os.environ.get(SERVER_URL_ENV)
    if url:
        return Store(backend=server_for(url, Path(data_dir), lock_wait=lock_timeout))
    return Store(data_dir, lock_timeout=lock_timeout)


def child_env(data_dir: Path) -> dict[str, str]:
    """What a ``tracker`` command started by a test needs in its environment to open the same
    store as the test: on the server, the database URL naming the folder's schema."""
    url = os.environ.get(SERVER_URL_ENV)
    if not url:
        return {}
    options = quote(f"-csearch_path={schema_for(data_dir)}")
    return {"TRACKER_DATABASE_URL": f"{url}?options={options}"}


def stored_bytes(store: Store, data_dir: Path) -> list[bytes]:
    """Everything the store has written, as bytes: the data folder's files, or every row of
    every value of every table of the store's schema on the server."""
    url = os.environ.get(SERVER_URL_ENV)
    if not url or store.location == str(data_dir):
        return [p.read_bytes() for p in data_dir.rglob("*") if p.is_file()]
    schema = schema_for(data_dir)
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        return [
            value if isinstance(value, bytes) else str(value).encode()
            for (table,) in tables
            for row in conn.execute(
                sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            )
            for value in row
        ]
