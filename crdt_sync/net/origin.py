"""Which web pages may open the rooms' websocket: the ``Origin`` check.

A browser sends the ``Origin`` of the page that opens a websocket, and lets any page open
one to any server: without this check, any site a person visits could read and rewrite
the rooms of a server on their machine or intranet (cross-site websocket hijacking).

```py
origin_allowed("http://evil.example", host="localhost:8501", allowed=())  # False
origin_allowed("http://localhost:8501", host="localhost:8501", allowed=())  # True: same origin
origin_allowed(None, host="localhost:8501", allowed=())  # True: not a browser
```

By default the rules are Streamlit's (those of its own websocket stream): the app's
own origin, plus ``server.corsAllowedOrigins`` while ``server.enableCORS`` is on; any origin
once it is off. ``server.allowedHosts``, when set, limits the ``Host`` header as well
(against DNS rebinding). Unlike Streamlit, other ports of ``localhost`` are not trusted.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalize_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case, default ports left out; None if unparsable.

    ```py
    normalize_origin("HTTPS://Example.com:443")  # "https://example.com"
    ```

    Args:
        origin: An ``Origin`` header or an entry of an allow-list.
    """
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _same_host(origin: str, host: str | None) -> bool:
    if not host:
        return False
    scheme = origin.split("://", 1)[0]
    return normalize_origin(f"{scheme}://{host}") == origin


def origin_allowed(origin: str | None, *, host: str | None, allowed: Collection[str]) -> bool:
    """Whether a websocket opened by a page of ``origin`` may connect.

    Args:
        origin: The ``Origin`` header (None: not sent, so not a browser).
        host: The ``Host`` header the client used.
        allowed: Origins trusted besides the app's own; ``"*"`` trusts every origin.

    Returns:
        True for non-browser clients, the app's own pages and the trusted origins.
    """
    if origin is None:
        return True
    if "*" in allowed:
        return True
    normal = normalize_origin(origin)
    if normal is None:  # "null" (a sandboxed frame, a file:// page) or garbage
        return False
    if _same_host(normal, host):
        return True
    return normal in {normalize_origin(o) for o in allowed}


def streamlit_allowed_origins() -> tuple[str, ...]:
    """The origins Streamlit's configuration trusts: ``("*",)`` when ``server.enableCORS``
    is off, else ``server.corsAllowedOrigins``."""
    from streamlit import config

    if not config.get_option("server.enableCORS"):
        return ("*",)
    return tuple(str(o) for o in config.get_option("server.corsAllowedOrigins") or ())


def host_allowed(host: str | None) -> bool:
    """Whether the ``Host`` header passes Streamlit's ``server.allowedHosts`` (empty: any).

    Args:
        host: The ``Host`` header.
    """
    from streamlit import config

    patterns = [
        str(p).strip().lower().rstrip(".") for p in config.get_option("server.allowedHosts") or ()
    ]
    if not patterns or "*" in patterns:
        return True
    if not host:
        return False
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return False
    if not name:
        return False
    name = name.lower().rstrip(".")
    return any(name == p or (p.startswith("*.") and name.endswith(p[1:])) for p in patterns)
