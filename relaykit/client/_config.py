"""Constructor arguments, environment fallbacks and endpoint validation for ``RelayClient``.

Precedence (highest first):

* credentials: ``project=``/``token=``/``jwt_token=`` arguments, then
  ``SIGNALWIRE_PROJECT_ID`` / ``SIGNALWIRE_API_TOKEN`` / ``SIGNALWIRE_JWT_TOKEN``;
* endpoint: the ``url=`` argument, then ``SIGNALWIRE_RELAY_URL`` (``ws://`` or
  ``wss://``; this is how an unchanged program is pointed at the local emulator),
  then ``wss://<host>`` from ``host=`` or ``SIGNALWIRE_SPACE`` (default
  ``relay.signalwire.com``);
* ``max_active_calls=``, then ``RELAY_MAX_ACTIVE_CALLS`` (default 1000, minimum 1);
* ``SIGNALWIRE_RELAY_CA_FILE``: a PEM file of extra trusted CAs for ``wss://``.

Everything is validated here, at construction, so a misconfigured program
fails before it opens a socket, with a message naming the argument or the
environment variable to fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._constants import DEFAULT_RELAY_HOST

__all__ = ["ClientConfig", "max_connections", "resolve_config", "validate_host"]

DEFAULT_MAX_ACTIVE_CALLS = 1000
DEFAULT_MAX_CONNECTIONS = 1


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """The resolved, validated connection settings of one client.

    Attributes:
        project: Project id (``""`` in JWT mode when not given).
        token: API token (``""`` in JWT mode).
        jwt_token: JWT (``""`` in project+token mode).
        host: ``host`` or ``host:port`` as used in the ``Host`` header.
        hostname: The name (or IP) to connect to.
        port: The TCP port.
        tls: True for ``wss://``.
        url: The full WebSocket URL.
        target: The handshake's request target (``"/"`` unless the URL has a path).
        contexts: The initial contexts.
        max_active_calls: The call registry cap.
        ca_file: Extra CA bundle for TLS, or ``None``.
    """

    project: str
    token: str
    jwt_token: str
    host: str
    hostname: str
    port: int
    tls: bool
    url: str
    target: str
    contexts: tuple[str, ...]
    max_active_calls: int
    ca_file: str | None

    def __repr__(self) -> str:
        # Never show credentials, not even in a traceback's locals.
        return (
            f"ClientConfig(url={self.url!r}, project={self.project!r}, contexts={self.contexts!r})"
        )


def validate_host(host: str) -> tuple[str, int | None]:
    """Split and validate ``host`` or ``host:port``.

    Returns:
        ``(hostname, port)``; *port* is ``None`` when absent.

    Raises:
        ValueError: The host contains ``/``, ``@``, ``?``, ``#``, whitespace or
            control characters, or the port is not a number in 1..65535.
    """
    if not isinstance(host, str) or not host:
        raise ValueError("host must be a non-empty hostname such as 'example.signalwire.com'")
    for ch in host:
        if ch in "/@?#\\" or ch.isspace() or ord(ch) < 32 or ord(ch) == 127:
            raise ValueError(
                f"Invalid host {host!r}: it must be a hostname (optionally host:port), "
                f"not a URL; found {ch!r}. Use url='wss://...' to give a full URL."
            )
    hostname, port_text = host, ""
    if host.startswith("["):  # IPv6 literal: [::1] or [::1]:8080
        end = host.find("]")
        if end < 0:
            raise ValueError(f"Invalid host {host!r}: unterminated IPv6 literal")
        hostname, rest = host[1:end], host[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"Invalid host {host!r}")
        port_text = rest[1:]
    elif host.count(":") == 1:
        hostname, port_text = host.split(":")
    elif ":" in host:
        raise ValueError(f"Invalid host {host!r}: write IPv6 addresses as [addr]:port")
    if not hostname:
        raise ValueError(f"Invalid host {host!r}: empty hostname")
    if not port_text:
        return hostname, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"Invalid host {host!r}: port must be a number in 1..65535")
    return hostname, int(port_text)


def _parse_url(url: str, source: str) -> tuple[str, str, int, bool, str]:
    """Return ``(host, hostname, port, tls, target)`` for a ws/wss URL."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(f"Invalid {source} {url!r}: {exc}") from exc
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"Invalid {source} {url!r}: the scheme must be ws:// or wss://")
    if parts.query or parts.fragment:
        raise ValueError(f"Invalid {source} {url!r}: no query string or fragment allowed")
    netloc = parts.netloc
    try:
        hostname, port = validate_host(netloc)
    except ValueError as exc:
        raise ValueError(f"Invalid {source} {url!r}: {exc}") from None
    tls = parts.scheme == "wss"
    path = parts.path or "/"
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in path):
        raise ValueError(f"Invalid {source} {url!r}: bad characters in the path")
    return netloc, hostname, port if port is not None else (443 if tls else 80), tls, path


def _env(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def resolve_config(
    *,
    project: str | None,
    token: str | None,
    jwt_token: str | None,
    host: str | None,
    contexts: Iterable[str] | None,
    max_active_calls: int | None,
    url: str | None,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Combine constructor arguments with the environment and validate the result.

    Raises:
        ValueError: Missing credentials (the message names the exact argument and
            environment variable), an invalid host/URL, bad contexts, or a bad
            ``max_active_calls`` / ``RELAY_MAX_ACTIVE_CALLS``.
    """
    env = os.environ if environ is None else environ
    project = project or _env(env, "SIGNALWIRE_PROJECT_ID")
    token = token or _env(env, "SIGNALWIRE_API_TOKEN")
    jwt_token = jwt_token or _env(env, "SIGNALWIRE_JWT_TOKEN")
    if not jwt_token:
        if not project:
            raise ValueError(
                "project is required: pass project=... or set the SIGNALWIRE_PROJECT_ID "
                "environment variable (or use jwt_token=... / SIGNALWIRE_JWT_TOKEN)"
            )
        if not token:
            raise ValueError(
                "token is required: pass token=... or set the SIGNALWIRE_API_TOKEN "
                "environment variable (or use jwt_token=... / SIGNALWIRE_JWT_TOKEN)"
            )

    source = "url" if url else "SIGNALWIRE_RELAY_URL"
    url = url or _env(env, "SIGNALWIRE_RELAY_URL")
    if url:
        netloc, hostname, port, tls, target = _parse_url(url, source)
    else:
        netloc = host or _env(env, "SIGNALWIRE_SPACE") or DEFAULT_RELAY_HOST
        hostname, maybe_port = validate_host(netloc)
        port, tls, target = maybe_port or 443, True, "/"
        url = f"wss://{netloc}"

    if contexts is None:
        context_list: tuple[str, ...] = ()
    elif isinstance(contexts, str):
        raise ValueError("contexts must be a list of strings, e.g. contexts=['default']")
    else:
        context_list = tuple(contexts)
        for ctx in context_list:
            if not isinstance(ctx, str) or not ctx:
                raise ValueError(f"contexts must be non-empty strings, got {ctx!r}")

    if max_active_calls is None:
        raw = _env(env, "RELAY_MAX_ACTIVE_CALLS")
        if raw:
            try:
                max_active_calls = int(raw)
            except ValueError:
                raise ValueError(
                    f"RELAY_MAX_ACTIVE_CALLS must be an integer, got {raw!r}"
                ) from None
        else:
            max_active_calls = DEFAULT_MAX_ACTIVE_CALLS
    if isinstance(max_active_calls, bool) or not isinstance(max_active_calls, int):
        raise ValueError(f"max_active_calls must be an integer, got {max_active_calls!r}")

    ca_file = _env(env, "SIGNALWIRE_RELAY_CA_FILE") or None
    return ClientConfig(
        project=project or "",
        token=token or "",
        jwt_token=jwt_token or "",
        host=netloc,
        hostname=hostname,
        port=port,
        tls=tls,
        url=url,
        target=target,
        contexts=context_list,
        max_active_calls=max(1, max_active_calls),
        ca_file=ca_file,
    )


def max_connections(environ: Mapping[str, str] | None = None) -> int:
    """``RELAY_MAX_CONNECTIONS`` (default 1, minimum 1).

    Raises:
        ValueError: The variable is set but is not an integer.
    """
    raw = _env(os.environ if environ is None else environ, "RELAY_MAX_CONNECTIONS")
    if not raw:
        return DEFAULT_MAX_CONNECTIONS
    try:
        return max(1, int(raw))
    except ValueError:
        raise ValueError(f"RELAY_MAX_CONNECTIONS must be an integer, got {raw!r}") from None
