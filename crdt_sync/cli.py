"""The ``crdt-sync`` command: run the demo, and look after the rooms of a store.

```
crdt-sync demo                       # the collaborative demo; open the URL in two tabs
crdt-sync rooms                      # name, stored updates, size, last change
crdt-sync inspect plans [--json]     # what a room holds
crdt-sync export plans plans.ydoc    # offline copy (any Yjs client reads it)
crdt-sync import plans plans.ydoc    # merge it back (never overwrites; creates the room)
crdt-sync compact [plans]            # one snapshot per room; prints size before -> after
crdt-sync history plans [--json]     # versions: who changed which keys, when (cli_history)
crdt-sync show plans --at 12         # the room at a version or time; restore writes it back
crdt-sync export plans f --with-history   # the room and its history (doc/history_file)
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .cli_common import (
    CliError,
    _existing,
    _read_file,
    _rooms,
    _size,
    _store,
    _write_file,
    print_contents,
    store_option,
)
from .cli_history import COMMANDS as HISTORY_COMMANDS
from .doc import InvalidUpdate, Room, authors, history_file, validate_room_name
from .doc.inspection import RoomStats, room_contents, room_stats
from .doc.store_specs import DEFAULT_STORE, ENV_VAR, open_store


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


# ------------------------------------------------------------------------------- values


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
    print_contents(room, contents, as_json=as_json)


@cli.command(name="export")
@store_option
@click.option(
    "--with-history",
    is_flag=True,
    help="Also save the room's history (a JSON file, see crdt_sync.doc.history_file).",
)
@click.argument("room")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_(store_spec: str, with_history: bool, room: str, file: Path) -> None:
    """Save ROOM to FILE (.ydoc: Yjs update bytes any Yjs client can apply)."""
    with _store(store_spec) as store:
        target = store.load(_existing(store, room))
        if with_history:
            try:
                document = history_file.history_document(target)
            except ValueError as exc:
                raise CliError(str(exc)) from None
            data = history_file.dumps(document)
        else:
            data = target.export()
    _write_file(file, data)
    extra = f", {len(document['versions'])} versions of history" if with_history else ""
    click.echo(f"exported room {room!r} to {file} ({_size(len(data))}{extra})")


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
        document = history_file.loads(data)
        if document is not None:  # exported --with-history
            data = history_file.ydoc_of(document)
    except ValueError as exc:
        raise CliError(f"{file}: {exc}; nothing was changed") from None
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
        kept_history = False
        if document is not None:
            try:
                kept_history = history_file.restore_history_document(target, document)
            except ValueError as exc:
                raise CliError(f"{file}: {exc}; nothing was changed") from None
        target.merge(data, origin=authors.CLI_AUTHOR)
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
    if document is not None:
        count = len(document["versions"])
        click.echo(
            f"history: {count} versions imported"
            if kept_history
            else "history: not imported (the room has history of its own)"
        )


@cli.command()
@store_option
@click.argument("room", required=False)
def compact(store_spec: str, room: str | None) -> None:
    """Compact ROOM (default: every room) into one snapshot; prints size before -> after,
    and how many versions of history the retention kept."""
    with _store(store_spec) as store:
        names = [_existing(store, room)] if room else _rooms(store)
        results: list[tuple[str, RoomStats, RoomStats, tuple[int, int] | None]] = []
        compact_history = getattr(store, "compact_history", None)
        with _progress(names, "compacting") as bar:
            for name in bar:
                before = room_stats(store, name)
                try:
                    store.compact(name)
                    kept = compact_history(name) if compact_history is not None else None
                except Exception as exc:
                    raise CliError(f"could not compact room {name!r}: {exc}") from None
                results.append((name, before, room_stats(store, name), kept))
    for name, before, after, kept in results:
        history = "" if kept is None else f"; history: {kept[0]} versions -> {kept[1]} kept"
        click.echo(
            f"{name}: {_updates(before.updates)}, {_size(before.size)} -> "
            f"{_updates(after.updates)}, {_size(after.size)}{history}"
        )
    if not results:
        click.echo(f"no rooms in {store_spec}")


for _command in HISTORY_COMMANDS:
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crdt-sync`` command; returns the exit status."""
    try:
        cli.main(args=argv, prog_name="crdt-sync", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
