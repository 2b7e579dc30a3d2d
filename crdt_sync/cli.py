"""The ``crdt-sync`` command: run the demo, and look after the rooms of a store.

```
crdt-sync demo                       # the collaborative demo; open the URL in two tabs
crdt-sync rooms                      # name, stored updates, size, last change
crdt-sync inspect plans [--json]     # what a room holds
crdt-sync export plans plans.ydoc    # offline copy (any Yjs client reads it)
crdt-sync import plans plans.ydoc    # merge it back (never overwrites; creates the room)
crdt-sync compact [plans]            # one snapshot per room; prints size before -> after
```

Every subcommand takes ``--store`` (default: ``$CRDT_SYNC_STORE`` or the embedded
``diskcache:.crdt_sync``). Errors (unknown room, unreadable file, bad store) print one line
on stderr, change nothing and exit with status 2.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import click

from .cli_text import json_printable, printable
from .doc import InvalidUpdate, Room, UpdateStore, codec, validate_room_name
from .doc.inspection import RoomStats, room_contents, room_stats
from .doc.store_specs import DEFAULT_STORE, ENV_VAR, open_store
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
    if spec.startswith("diskcache:") and not create:
        path = Path(spec.removeprefix("diskcache:")).expanduser()
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


def _updates(n: int | None) -> str:
    return "? updates" if n is None else f"{n} update{'' if n == 1 else 's'}"


@contextmanager
def _progress(items: list[str], label: str) -> Iterator[Iterator[str]]:
    """A progress bar on stderr when it is a terminal (silent otherwise)."""
    if not sys.stderr.isatty():
        yield iter(items)
        return
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield iter(bar)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).isoformat(sep=" ", timespec="seconds")


# ------------------------------------------------------------------------------- files


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


# ------------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crdt-sync", prog_name="crdt-sync")
def cli() -> None:
    """crdt-sync: collaborative Streamlit apps whose rooms are Yjs documents."""


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port to serve on (default: Streamlit's own setting, e.g. $STREAMLIT_SERVER_PORT, "
    "else 8501).",
)
@click.option(
    "--store",
    "store_spec",
    default=None,
    metavar="SPEC",
    help=f"Store for the demo's rooms (default ${ENV_VAR} or {DEFAULT_STORE}).",
)
@click.argument("streamlit_args", nargs=-1, type=click.UNPROCESSED)
def demo(port: int | None, store_spec: str | None, streamlit_args: tuple[str, ...]) -> None:
    """Start the collaborative demo; open the URL it prints in two browser tabs.

    Extra arguments go to ``streamlit run`` (e.g. ``--server.headless true``).
    """
    app = Path(__file__).parent / "demo" / "server.py"
    env = dict(os.environ)
    if store_spec:
        try:
            open_store(store_spec).close()
        except ValueError as exc:
            raise CliError(str(exc)) from None
        env[ENV_VAR] = store_spec
    # Streamlit reads its settings from the environment and its config files: pass only
    # what was asked for here, so STREAMLIT_SERVER_PORT and the rest keep working.
    shown_port = port or env.get("STREAMLIT_SERVER_PORT") or 8501
    click.echo(
        f"crdt-sync demo on store {env.get(ENV_VAR, DEFAULT_STORE)}: open "
        f"http://localhost:{shown_port} in two browser tabs and edit in both."
    )
    cmd = [sys.executable, "-m", "streamlit", "run", str(app)]
    if port is not None:
        cmd += ["--server.port", str(port)]
    if not any(arg.startswith("--browser.gatherUsageStats") for arg in streamlit_args):
        cmd += ["--browser.gatherUsageStats", "false"]  # no calls home from a local demo
    sys.stdout.flush()
    if os.name == "posix":  # become the server: one process, stopped by its own pid
        os.execve(sys.executable, [*cmd, *streamlit_args], env)
    raise SystemExit(subprocess.call([*cmd, *streamlit_args], env=env))


@cli.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per room, for machines.")
def rooms(store_spec: str, as_json: bool) -> None:
    """List the rooms: name, stored updates, size on disk, last change."""
    with _store(store_spec) as store:
        rows = [(name, room_stats(store, name)) for name in _rooms(store)]
    if as_json:
        out = [
            {"room": n, "updates": s.updates, "bytes": s.size, "last_change": s.last_change}
            for n, s in rows
        ]
        click.echo(json.dumps(out, indent=2))
        return
    if not rows:
        click.echo(f"no rooms in {store_spec}")
        return
    table = [("ROOM", "UPDATES", "SIZE", "LAST CHANGE")]
    table += [
        (n, "-" if s.updates is None else str(s.updates), _size(s.size), _when(s.last_change))
        for n, s in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for r in table:
        click.echo(
            f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}".rstrip()
        )


@cli.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="JSON in the document's value form.")
@click.argument("room")
def inspect(store_spec: str, as_json: bool, room: str) -> None:
    """Show what ROOM holds: registers and containers, with their values."""
    with _store(store_spec) as store:
        contents = room_contents(store.load(_existing(store, room)))
    if as_json:
        encoded = {
            k: {"kind": v["kind"], "value": codec.encode(v["value"], k, ordered=False)}
            for k, v in contents.items()
        }
        text = json.dumps({"room": room, "keys": encoded}, indent=2, ensure_ascii=False)
        click.echo(json_printable(text))  # keys and values come from any client
        return
    click.echo(f"room {room!r}: {len(contents)} key{'s' if len(contents) != 1 else ''}")
    keys = {key: printable(key) for key in contents}
    width = max((len(k) for k in keys.values()), default=0)
    for key, entry in contents.items():
        click.echo(f"  {keys[key]:<{width}}  {entry['kind']:<8}  {_short(entry['value'])}")


@cli.command(name="export")
@store_option
@click.argument("room")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_(store_spec: str, room: str, file: Path) -> None:
    """Save ROOM to FILE (.ydoc: Yjs update bytes any Yjs client can apply)."""
    with _store(store_spec) as store:
        data = store.load(_existing(store, room)).export()
    _write_file(file, data)
    click.echo(f"exported room {room!r} to {file} ({_size(len(data))})")


@cli.command(name="import")
@store_option
@click.argument("room")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_(store_spec: str, room: str, file: Path) -> None:
    """Merge FILE (.ydoc) into ROOM: nothing in the room is lost; creates ROOM if missing."""
    try:
        validate_room_name(room)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    data = _read_file(file)
    try:
        if not Room(room).merge(data):  # checked on a scratch copy first
            raise CliError(
                f"{file} builds on changes it does not contain (not a whole-room .ydoc); "
                "nothing was changed"
            )
    except InvalidUpdate as exc:
        raise CliError(
            f"{file} is not a Yjs document ({exc.reason}); nothing was changed"
        ) from None
    except ValueError as exc:  # a bad room name
        raise CliError(str(exc)) from None
    with _store(store_spec, create=True) as store:
        existed = room in _rooms(store)
        target = store.load(room)
        before = set(target.kinds())
        target.merge(data)
        added = len(set(target.kinds()) - before)
        flush = getattr(store, "flush", None)
        if callable(flush) and not flush():  # a full disk, an unreachable server
            status = getattr(store, "status", None)
            why = status().error if callable(status) else "it did not take the merge"
            raise CliError(f"could not store the merge into room {room!r}: {why}")
    what = "existing room" if existed else "new room"
    click.echo(
        f"merged {file} ({_size(len(data))}) into {what} {room!r}: "
        f"{len(target.kinds())} keys, {added} new"
    )


@cli.command()
@store_option
@click.argument("room", required=False)
def compact(store_spec: str, room: str | None) -> None:
    """Compact ROOM (default: every room) into one snapshot; prints size before -> after."""
    with _store(store_spec) as store:
        names = [_existing(store, room)] if room else _rooms(store)
        results: list[tuple[str, RoomStats, RoomStats]] = []
        with _progress(names, "compacting") as bar:
            for name in bar:
                before = room_stats(store, name)
                try:
                    store.compact(name)
                except Exception as exc:
                    raise CliError(f"could not compact room {name!r}: {exc}") from None
                results.append((name, before, room_stats(store, name)))
    for name, before, after in results:
        click.echo(
            f"{name}: {_updates(before.updates)}, {_size(before.size)} -> "
            f"{_updates(after.updates)}, {_size(after.size)}"
        )
    if not results:
        click.echo(f"no rooms in {store_spec}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crdt-sync`` command; returns the exit status."""
    try:
        cli.main(args=argv, prog_name="crdt-sync", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
