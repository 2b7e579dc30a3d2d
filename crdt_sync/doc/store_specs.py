"""Store specs: the strings that name a store (``"diskcache:PATH"``, ``"memory"``, ...).

A table maps each scheme (a prefix of the spec) to what opens it. The engine fills in its
own stores; a package adds its schemes with `register_scheme` when it is imported (the
``redis://``, ``rediss://`` and ``unix://`` schemes come from `crdt_sync.net`). Schemes
that a package provides are listed with `provide_scheme`: the engine imports that package
the first time such a spec is opened, and never otherwise, so Redis stays out of a
process that does not use it.

Any spec may end with ``?history=off`` (or ``&history=off`` after other parameters): its
rooms keep no history (``history=on``: the default `Retention`).

```py
store = open_store("diskcache:.crdt_sync")
store = open_store("diskcache:.crdt_sync?history=off")
register_scheme(("mem2:",), lambda spec: MemoryStore(), form='"mem2:"')
```
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from .diskcache_store import DiskCacheStore
from .memory_store import MemoryStore
from .retention import DEFAULT_RETENTION, Retention
from .store import UpdateStore

DEFAULT_STORE = "diskcache:.crdt_sync"
ENV_VAR = "CRDT_SYNC_STORE"

StoreOpener = Callable[[str], UpdateStore]
"""Builds the store a spec names; raises ValueError for a spec it cannot use."""

_lock = threading.Lock()
_openers: dict[str, StoreOpener] = {}  # prefix -> opener
_providers: dict[str, str] = {}  # prefix -> module that registers it when imported
_forms: list[str] = []  # how the schemes are written, for messages


def accepted() -> str:
    """The accepted spec forms, for messages."""
    with _lock:
        return ", ".join(_forms)


def register_scheme(prefixes: Sequence[str], opener: StoreOpener, *, form: str) -> None:
    """Open the specs that start with one of ``prefixes`` with ``opener``.

    Args:
        prefixes: Spec prefixes, e.g. ``("redis://", "rediss://")``.
        opener: Builds the store from the whole spec.
        form: How such a spec is written, for messages (e.g. ``'"redis://HOST:PORT/DB"'``).
    """
    with _lock:
        for prefix in prefixes:
            _openers[prefix] = opener
            _providers.pop(prefix, None)
        if form not in _forms:
            _forms.append(form)


def provide_scheme(prefixes: Sequence[str], module: str, *, form: str) -> None:
    """Declare that importing ``module`` registers ``prefixes`` (imported on first use).

    Args:
        prefixes: Spec prefixes the module registers.
        module: The module's absolute name.
        form: How such a spec is written, for messages.
    """
    with _lock:
        for prefix in prefixes:
            if prefix not in _openers:
                _providers[prefix] = module
        if form not in _forms:
            _forms.append(form)


_HISTORY_OPTION = re.compile(r"([?&])history=([^&]*)")


class StoreDefault:
    """No history setting given: the store's own default."""


KEEP_DEFAULT = StoreDefault()


def split_history_option(spec: str) -> tuple[str, Retention | StoreDefault | None]:
    """A spec without its ``history=on|off`` parameter, and what that parameter says.

    ```py
    split_history_option("memory?history=off")   # ("memory", None)
    ```

    Raises:
        ValueError: For a value other than ``on`` or ``off``.
    """
    found = _HISTORY_OPTION.search(spec)
    if found is None:
        return spec, KEEP_DEFAULT
    value = found.group(2).lower()
    if value not in ("on", "off"):
        raise ValueError(f"store {spec!r}: history must be 'on' or 'off', got {value!r}")
    rest = spec[: found.start()] + (found.group(1) if found.group(1) == "?" else "")
    rest += spec[found.end() :].lstrip("&")
    rest = rest.rstrip("?")
    return rest, DEFAULT_RETENTION if value == "on" else None


def open_store(
    spec: str, *, history: Retention | StoreDefault | None = KEEP_DEFAULT
) -> UpdateStore:
    """Build the store a spec names.

    Args:
        spec: ``"diskcache:PATH"``, ``"memory"``, ``"redis://HOST:PORT/DB"`` or any other
            registered form, optionally with ``?history=off``.
        history: What room history keeps (`Retention`), None for no history; a
            ``history=`` parameter of the spec wins.

    Raises:
        ValueError: If the spec is none of the accepted forms.
    """
    if not isinstance(spec, str):
        raise ValueError(f"store must be a str, one of {accepted()}; got {spec!r}")
    spec, option = split_history_option(spec)
    if not isinstance(option, StoreDefault):
        history = option
    store = _open(spec)
    if not isinstance(history, StoreDefault):
        configure_history = getattr(store, "configure_history", None)
        if configure_history is not None:
            configure_history(history)
    return store


def _open(spec: str) -> UpdateStore:
    opener = _opener(spec)
    if opener is None:
        with _lock:
            module = next((m for p, m in _providers.items() if spec.startswith(p)), None)
        if module is not None:
            importlib.import_module(module)  # registers its schemes
            opener = _opener(spec)
    if opener is None:
        raise unknown_store(spec)
    return opener(spec)


def unknown_store(spec: str) -> ValueError:
    """The error for a spec of none of the accepted forms."""
    return ValueError(f"unknown store {spec!r}; accepted forms: {accepted()}")


def _opener(spec: str) -> StoreOpener | None:
    with _lock:
        matches = [p for p in _openers if spec.startswith(p)]
        return _openers[max(matches, key=len)] if matches else None


def _open_diskcache(spec: str) -> UpdateStore:
    path = spec.removeprefix("diskcache:")
    if not path:
        raise unknown_store(spec)
    return DiskCacheStore(Path(path).expanduser())


def _open_memory(spec: str) -> UpdateStore:
    if spec != "memory":
        raise unknown_store(spec)
    return MemoryStore()


register_scheme(
    ("diskcache:",), _open_diskcache, form=f'"diskcache:PATH" (the default, "{DEFAULT_STORE}")'
)
register_scheme(("memory",), _open_memory, form='"memory"')
provide_scheme(("redis://", "rediss://", "unix://"), "crdt_sync.net", form='"redis://HOST:PORT/DB"')
