"""A diskcache directory opened for reading only: what a store on a full disk falls back to.

``diskcache.Cache`` writes its settings into SQLite every time it opens a directory, so on
a full disk it cannot even open one (``sqlite3.OperationalError: database or disk is
full``). `ReadOnlyCache` reads the same SQLite file without writing anything, offering the
few ``diskcache.Cache`` methods the store uses; every write raises `StoreError`, which the
store treats like any failed write (kept in memory, retried, reported).

```py
cache = ReadOnlyCache("/srv/rooms/log", reason="database or disk is full")
cache.get("plans\\x1fwriter\\x1f000000000001")   # bytes, or None
cache.set("k", b"v")                             # StoreError: ... opened read-only ...
```
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import StoreError

_MODE_RAW = 1  # diskcache: the value is in the row as it is (str or bytes)


class ReadOnlyCache:
    """The ``get``/``iterkeys`` side of a ``diskcache.Cache``, without writing anything.

    Args:
        directory: The cache directory (holding ``cache.db``).
        reason: Why it is read-only (shown in the errors of writes).
    """

    def __init__(self, directory: str | Path, *, reason: str) -> None:
        self.directory = Path(directory)
        self.reason = reason
        self._lock = threading.Lock()
        self._conn = self._open()  # fail now, not on the first read

    def _open(self) -> sqlite3.Connection:
        db = self.directory / "cache.db"
        if not db.is_file():
            raise StoreError(f"no diskcache database at {str(db)!r}")
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("SELECT COUNT(*) FROM Cache").fetchone()
            return conn
        except sqlite3.Error:
            # A WAL database needs its -shm file, which a full disk may not let SQLite
            # create: read the main file as it is (what was checkpointed into it).
            return sqlite3.connect(f"file:{db}?immutable=1", uri=True, check_same_thread=False)

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        rows = self._query("SELECT mode, value FROM Cache WHERE key = ? AND raw = 1", (key,))
        if not rows:
            return default
        mode, value = rows[0]
        if mode != _MODE_RAW:
            raise StoreError(
                f"{self.directory}: the value of {key!r} is kept outside the database "
                f"(mode {mode}), which a read-only store cannot read"
            )
        return value

    def iterkeys(self) -> Iterator[Any]:
        """Every key, in key order."""
        return iter(row[0] for row in self._query("SELECT key FROM Cache ORDER BY key, raw"))

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise StoreError(f"{self.directory} is open read-only ({self.reason}): nothing written")

    set = _refuse
    delete = _refuse

    @contextmanager
    def transact(self) -> Iterator[None]:
        """Reads inside work; a write raises `StoreError`."""
        yield

    def close(self) -> None:
        with self._lock:
            self._conn.close()
