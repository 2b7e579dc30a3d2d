"""What every ``crdt-sync`` subcommand shares: errors, the ``--store`` option, opening a
store and finding a room in it, reading and writing files, sizes.

`cli` (the command group) and `cli_history` (history, show, restore) both use it.

```py
with _store("diskcache:.crdt_sync") as store:
    _existing(store, "plans")   # CliError (exit 2) if there is no such room
```
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import click

from .cli_text import json_printable, printable
from .doc import UpdateStore, codec
from .doc.store_specs import DEFAULT_STORE, ENV_VAR, open_store, split_history_option
from .doc.update_format import DEFAULT_MAX_SIZE

PROGRESS_FROM = 1 << 20  # files this big get a progress bar (on a terminal)
CHUNK = 1 << 16


class CliError(click.ClickException):
    """An error the user can fix; exit status 2, nothing changed."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"crdt-sync: error: {self.format_message()}", err=True)


# ------------------------------------------------------------------------------- stores


def _default_store() -> str:
    return os.environ.get(ENV_VAR) or DEFAULT_STORE


store_option = click.option(
    "--store",
    "store_spec",
    default=_default_store,
    show_default=f"${ENV_VAR} or {DEFAULT_STORE}",
    metavar="SPEC",
    help='Where the rooms are: "diskcache:PATH", "memory" or "redis://HOST:PORT/DB".',
)


@contextmanager
def _store(spec: str, *, create: bool = False) -> Iterator[UpdateStore]:
    """Open the store a spec names; a diskcache directory must exist unless ``create``."""
    bare = split_history_option(spec)[0]
    if bare.startswith("diskcache:") and not create:
        path = Path(bare.removeprefix("diskcache:")).expanduser()
        if not (path / "meta").is_dir():
            raise CliError(f"no crdt_sync store at {str(path)!r} (from --store {spec!r})")
    try:
        store = open_store(spec)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:  # a directory we may not write, an unreachable server...
        raise CliError(f"cannot open store {spec!r}: {exc}") from None
    try:
        yield store
    finally:
        with suppress(Exception):
            store.close()


def _rooms(store: UpdateStore) -> list[str]:
    try:
        names = sorted(store.rooms())
    except Exception as exc:
        raise CliError(f"cannot list the rooms of {store!r}: {exc}") from None
    status = getattr(store, "status", None)  # stores with a server (Redis) report their link
    if callable(status) and not status().connected:
        raise CliError(f"cannot reach the store: {status().error}")
    return names


def _existing(store: UpdateStore, name: str) -> str:
    if name not in _rooms(store):
        raise CliError(f"no room {name!r} in store {store!r}")
    return name


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _read_file(path: Path, limit: int = DEFAULT_MAX_SIZE) -> bytes:
    """The file's bytes, in chunks; the size is checked first, and again while reading (a
    pipe has no size up front), so a file over ``limit`` costs no memory."""

    def too_big(size: str) -> CliError:
        return CliError(
            f"{str(path)!r} is {size} bytes; a .ydoc may be at most {limit} bytes "
            f"({_size(limit)}); nothing was changed"
        )

    try:
        size = path.stat().st_size
        if size > limit:
            raise too_big(str(size))
        data = bytearray()
        show = size >= PROGRESS_FROM and sys.stderr.isatty()
        label = f"reading {path.name}"
        with (
            path.open("rb") as src,
            click.progressbar(length=size, label=label, file=sys.stderr, hidden=not show) as bar,
        ):
            while chunk := src.read(CHUNK):
                data += chunk
                bar.update(len(chunk))
                if len(data) > limit:
                    raise too_big(f"over {limit}")
        return bytes(data)
    except OSError as exc:
        raise CliError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None


def _write_file(path: Path, data: bytes) -> None:
    """Write atomically (a crash or an error never leaves half a file)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ydoc-", dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise CliError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            if len(data) < PROGRESS_FROM or not sys.stderr.isatty():
                out.write(data)
            else:
                label = f"writing {path.name}"
                with click.progressbar(length=len(data), label=label, file=sys.stderr) as bar:
                    for start in range(0, len(data), CHUNK):
                        out.write(data[start : start + CHUNK])
                        bar.update(min(CHUNK, len(data) - start))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CliError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------------------- values


def _short(value: Any, width: int = 120) -> str:
    text = printable(repr(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def print_contents(
    room: str,
    contents: dict[str, dict[str, Any]],
    *,
    as_json: bool,
    where: str = "",
    **about: Any,
) -> None:
    """Print a room's contents (`inspection.room_contents`) as ``inspect`` does.

    Args:
        room: The room's name.
        contents: ``{key: {"kind": ..., "value": ...}}``.
        as_json: One JSON object (``{"room", "keys"}`` plus ``about``) instead of lines.
        where: Put after the room's name in the heading (``" at version 12 (...)"``).
        about: More fields for the JSON (``version``, ``time``...).
    """
    if as_json:
        encoded = {
            k: {"kind": v["kind"], "value": codec.encode(v["value"], k, ordered=False)}
            for k, v in contents.items()
        }
        document = {"room": room, **about, "keys": encoded}
        text = json.dumps(document, indent=2, ensure_ascii=False)
        click.echo(json_printable(text))  # keys and values come from any client
        return
    where = printable(where)
    click.echo(f"room {room!r}{where}: {len(contents)} key{'s' if len(contents) != 1 else ''}")
    keys = {key: printable(key) for key in contents}
    width = max((len(k) for k in keys.values()), default=0)
    for key, entry in contents.items():
        click.echo(f"  {keys[key]:<{width}}  {entry['kind']:<8}  {_short(entry['value'])}")
