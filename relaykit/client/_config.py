"""Constructor arguments, environment fallbacks and endpoint validation for ``RelayClient``.

Precedence (highest first):

* credentials: ``project=``/``token=``/``jwt_token=`` arguments, then
  ``SIGNALWIRE_PROJECT_ID`` / ``SIGNALWIRE_API_TOKEN`` / ``SIGNALWIRE_JWT_TOKEN``;
* endpoint, as a whole: an argument wins over the environment, always.  The
  ``url=`` argument, else ``wss://<host>`` from the ``host=`` argument; only when
  neither is given, ``SIGNALWIRE_RELAY_URL`` (``ws://`` or ``wss://``; how a
  program without a hard-coded endpoint is pointed at the local emulator), else
  ``wss://<host>`` from ``SIGNALWIRE_SPACE`` (default ``relay.signalwire.com``).
  An explicit ``host=`` is never replaced by ``SIGNALWIRE_RELAY_URL``;
* ``ws://`` (credentials in clear text) only to loopback (127.0.0.0/8, ``::1``,
  ``localhost``) or to the in-memory emulator's reserved ``*.invalid`` host (it
  never resolves, so nothing can leave the process); anywhere else only with
  ``allow_insecure=True``;
* ``max_active_calls=``, then ``RELAY_MAX_ACTIVE_CALLS`` (default 1000): a
  positive integer, else ``ValueError`` (never clamped); likewise
  ``RELAY_MAX_CONNECTIONS`` (default 1);
* ``SIGNALWIRE_RELAY_CA_FILE``: a PEM file of extra trusted CAs for ``wss://``,
  added to the system's (``relaykit._tls.create_tls_context``);
* ``record=``, then ``RELAYKIT_RECORD`` (a path): where the session's frames are
  journaled, secrets scrubbed (``relaykit.recording``).

Where each credential came from (the argument or the variable) is kept in the
config, so that a rejected login can say which one to fix
(:func:`authentication_failure`): a hard-coded ``project="your-project-id"``
wins over ``SIGNALWIRE_PROJECT_ID``, and setting the variable alone cannot help.

URLs shown in error messages are scrubbed (:func:`redact_url`): userinfo and
query values never appear.

Everything is validated here, at construction, so a misconfigured program
fails before it opens a socket, with a message naming the argument or the
environment variable to fix.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, cast
from urllib.parse import urlsplit, urlunsplit

from ._constants import DEFAULT_RELAY_HOST

__all__ = [
    "ClientConfig",
    "authentication_failure",
    "check_ca_file",
    "is_local_host",
    "max_connections",
    "redact_url",
    "resolve_config",
    "resolve_record",
    "validate_host",
]

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
        project_source: Where the project id came from: ``"project="``,
            ``"SIGNALWIRE_PROJECT_ID"`` or ``""`` (none).
        token_source: Likewise ``"token="`` / ``"SIGNALWIRE_API_TOKEN"`` / ``""``.
        jwt_source: Likewise ``"jwt_token="`` / ``"SIGNALWIRE_JWT_TOKEN"`` / ``""``.
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
    project_source: str = ""
    token_source: str = ""
    jwt_source: str = ""

    def __repr__(self) -> str:
        # Never show credentials, not even in a traceback's locals.
        return (
            f"ClientConfig(url={self.url!r}, project={self.project!r}, contexts={self.contexts!r})"
        )


_POSITIVE_INT = re.compile(r"\+?[0-9]+")


def redact_url(url: object) -> str:
    """*url* as safe to show: userinfo becomes ``***@``, every query value ``***``.

    ``wss://user:pass@host/?token=abc&x`` -> ``wss://***@host/?token=***&***``.
    The fragment is dropped.  Anything that is not a parseable string is shown
    as a placeholder, never verbatim.
    """
    if not isinstance(url, str):
        return f"<{type(url).__name__}>"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "&".join(
        f"{item.partition('=')[0]}=***" if "=" in item else "***"
        for item in parts.query.split("&")
        if item
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, "***" if parts.fragment else ""))


def _shown_host(host: str) -> str:
    """*host* as safe to show in a message (credentials before an ``@`` hidden)."""
    return "***@" + host.rpartition("@")[2] if "@" in host else host


def is_local_host(hostname: str) -> bool:
    """True when *hostname* cannot be reached off this machine.

    Loopback addresses (127.0.0.0/8, ``::1``), ``localhost``, and names under the
    reserved ``.invalid`` domain (RFC 6761: they never resolve; the in-memory
    emulator's URL is ``ws://relaykit-emulator-N.invalid``, reachable only
    through its memory transport).
    """
    name = hostname.lower().rstrip(".")
    if name == "localhost" or name == "invalid" or name.endswith(".invalid"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_ca_file(ca_file: str) -> None:
    """Check that *ca_file* (``SIGNALWIRE_RELAY_CA_FILE``) is a readable PEM bundle.

    The transports load it (``relaykit._tls.create_tls_context``); checking it
    here makes a typo fail at construction instead of on every reconnect.

    Raises:
        ValueError: the file cannot be read or holds no PEM certificate (the
            message names ``SIGNALWIRE_RELAY_CA_FILE``).
    """
    try:
        with open(ca_file, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise ValueError(
            f"SIGNALWIRE_RELAY_CA_FILE={ca_file!r} cannot be read: {exc.strerror or exc}"
        ) from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError(
            f"SIGNALWIRE_RELAY_CA_FILE={ca_file!r} holds no PEM certificate "
            "('-----BEGIN CERTIFICATE-----')"
        )


def _positive_int(value: object, source: str, *, from_text: bool = False) -> int:
    """*value* as an integer >= 1: an ``int`` argument, or (*from_text*) a variable's text.

    Raises:
        ValueError: not an integer (``bool``, ``float``, ``"1.5"``, ``"abc"``, a
            string given as an argument), or less than 1; the message names *source*.
    """
    if from_text and isinstance(value, str):
        text = value.strip()
        if not _POSITIVE_INT.fullmatch(text):
            raise ValueError(f"{source} must be a positive integer, got {value!r}")
        number = int(text)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError(
            f"{source} must be a positive integer, got {value!r} ({type(value).__name__})"
        )
    if number < 1:
        raise ValueError(f"{source} must be a positive integer (at least 1), got {value!r}")
    return number


def validate_host(host: str) -> tuple[str, int | None]:
    """Split and validate ``host`` or ``host:port``.

    Returns:
        ``(hostname, port)``; *port* is ``None`` when absent.

    Raises:
        TypeError: *host* is not a string.
        ValueError: The host contains ``/``, ``@``, ``?``, ``#``, whitespace or
            control characters, or the port is not a number in 1..65535.  The
            message never shows what precedes an ``@`` (it may be a password).
    """
    if not isinstance(host, str):
        raise TypeError(f"host must be a string such as 'example.signalwire.com', not {host!r}")
    if not host:
        raise ValueError("host must be a non-empty hostname such as 'example.signalwire.com'")
    shown = _shown_host(host)
    for ch in host:
        if ch in "/@?#\\" or ch.isspace() or ord(ch) < 32 or ord(ch) == 127:
            found = "credentials ('user:password@')" if ch == "@" else repr(ch)
            raise ValueError(
                f"Invalid host {shown!r}: it must be a hostname (optionally host:port), "
                f"not a URL; found {found}. Use url='wss://...' to give a full URL."
            )
    hostname, port_text = host, ""
    if host.startswith("["):  # IPv6 literal: [::1] or [::1]:8080
        end = host.find("]")
        if end < 0:
            raise ValueError(f"Invalid host {shown!r}: unterminated IPv6 literal")
        hostname, rest = host[1:end], host[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"Invalid host {shown!r}")
        port_text = rest[1:]
    elif host.count(":") == 1:
        hostname, port_text = host.split(":")
    elif ":" in host:
        raise ValueError(f"Invalid host {shown!r}: write IPv6 addresses as [addr]:port")
    if not hostname:
        raise ValueError(f"Invalid host {shown!r}: empty hostname")
    if not port_text:
        return hostname, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"Invalid host {shown!r}: port must be a number in 1..65535")
    return hostname, int(port_text)


def _parse_url(url: str, source: str) -> tuple[str, str, int, bool, str]:
    """Return ``(host, hostname, port, tls, target)`` for a ws/wss URL.

    Every message shows the URL scrubbed (:func:`redact_url`).
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(f"Invalid {source} {shown!r}: {exc}") from None
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"Invalid {source} {shown!r}: the scheme must be ws:// or wss://")
    netloc = parts.netloc
    if "@" in netloc:
        raise ValueError(
            f"Invalid {source} {shown!r}: no credentials in the URL; pass project= and "
            "token= (or jwt_token=) instead"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            f"Invalid {source} {shown!r}: no query string or fragment allowed (credentials "
            "go in project= and token=, or jwt_token=)"
        )
    try:
        hostname, port = validate_host(netloc)
    except ValueError as exc:
        raise ValueError(f"Invalid {source} {shown!r}: {exc}") from None
    tls = parts.scheme == "wss"
    path = parts.path or "/"
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in path):
        raise ValueError(f"Invalid {source} {shown!r}: bad characters in the path")
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
    allow_insecure: bool = False,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Combine constructor arguments with the environment and validate the result.

    Args:
        allow_insecure: Accept a ``ws://`` URL to a host that is not local
            (see :func:`is_local_host`): the project and token then travel
            unencrypted.

    Raises:
        TypeError: *url* or *host* is not a string.
        ValueError: Missing credentials (the message names the exact argument and
            environment variable), an invalid host/URL, ``ws://`` to a remote
            host without *allow_insecure*, bad contexts, a bad
            ``max_active_calls`` / ``RELAY_MAX_ACTIVE_CALLS`` /
            ``RELAY_MAX_CONNECTIONS``, or an unreadable ``SIGNALWIRE_RELAY_CA_FILE``.
    """
    env = os.environ if environ is None else environ
    project, project_source = _credential(project, "project=", env, "SIGNALWIRE_PROJECT_ID")
    token, token_source = _credential(token, "token=", env, "SIGNALWIRE_API_TOKEN")
    jwt_token, jwt_source = _credential(jwt_token, "jwt_token=", env, "SIGNALWIRE_JWT_TOKEN")
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
    if url is not None and not isinstance(url, str):
        raise TypeError(f"url must be a string such as 'wss://example.signalwire.com', not {url!r}")
    if host is not None and not isinstance(host, str):
        raise TypeError(f"host must be a string such as 'example.signalwire.com', not {host!r}")
    if not isinstance(allow_insecure, bool):
        raise TypeError(f"allow_insecure must be True or False, not {allow_insecure!r}")

    # The endpoint as a whole: an argument (url=, else host=) always wins; the
    # environment is only consulted when the program names no endpoint at all.
    source = ""
    if url:
        source = "url"
    elif not host and _env(env, "SIGNALWIRE_RELAY_URL"):
        source, url = "SIGNALWIRE_RELAY_URL", _env(env, "SIGNALWIRE_RELAY_URL")
    if source:
        assert url
        netloc, hostname, port, tls, target = _parse_url(url, source)
        if not tls and not allow_insecure and not is_local_host(hostname):
            raise ValueError(
                f"Refusing {source}={redact_url(url)!r}: ws:// would send the project and "
                "token unencrypted, and is only accepted to loopback addresses (127.0.0.0/8, "
                "::1, localhost). Use wss://, or pass allow_insecure=True to RelayClient to "
                "accept sending credentials in clear text."
            )
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

    if max_active_calls is not None:
        active = _positive_int(max_active_calls, "max_active_calls")
    elif _env(env, "RELAY_MAX_ACTIVE_CALLS"):
        active = _positive_int(
            env["RELAY_MAX_ACTIVE_CALLS"], "RELAY_MAX_ACTIVE_CALLS", from_text=True
        )
    else:
        active = DEFAULT_MAX_ACTIVE_CALLS
    max_connections(env)  # a bad RELAY_MAX_CONNECTIONS fails here, not at connect()

    ca_file = _env(env, "SIGNALWIRE_RELAY_CA_FILE") or None
    if ca_file is not None and tls:
        check_ca_file(ca_file)  # an unreadable file fails now, not at every retry
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
        max_active_calls=active,
        ca_file=ca_file,
        project_source=project_source,
        token_source=token_source,
        jwt_source=jwt_source,
    )


def _credential(
    value: str | None, argument: str, env: Mapping[str, str], variable: str
) -> tuple[str, str]:
    """``(value, source)``: the argument when given, else the variable, else ``("", "")``."""
    if value:
        return value, argument
    from_env = _env(env, variable)
    return (from_env, variable) if from_env else ("", "")


def authentication_failure(config: ClientConfig, detail: str) -> str:
    """One line for a login the server rejected for good: where, who, what to check.

    Names the URL (scrubbed) and the project, and where each credential came
    from; never the token or the JWT, nor any part of them (*detail*, the
    server's message, is cleaned of both too).  It reminds that constructor
    arguments win over the ``SIGNALWIRE_*`` variables.
    """
    for secret in (config.token, config.jwt_token):
        if secret:
            detail = detail.replace(secret, "***")
    if config.jwt_token:
        who = f"the JWT (from {config.jwt_source})"
        if config.project:
            who = f"project {config.project!r} with " + who
        given = config.jwt_source == "jwt_token="
        names = "jwt_token=", "SIGNALWIRE_JWT_TOKEN"
    else:
        who = f"project {config.project!r} (from {config.project_source}, {config.token_source})"
        given = "=" in config.project_source + config.token_source
        names = "project=/token=", "SIGNALWIRE_PROJECT_ID/SIGNALWIRE_API_TOKEN"
    if given:
        hint = (
            f"arguments passed to RelayClient(...) win over the SIGNALWIRE_* variables: "
            f"setting {names[1]} changes nothing while {names[0]} is in the code"
        )
    else:
        hint = f"check {names[1]} (arguments passed to RelayClient(...) would win over them)"
    return f"authentication failed at {redact_url(config.url)} for {who}: {detail}; {hint}"


def resolve_record(
    record: object, environ: Mapping[str, str] | None = None
) -> str | os.PathLike[str] | IO[str] | None:
    """Where to journal the session: *record* (a path or a text file), else ``RELAYKIT_RECORD``.

    Returns ``None`` when neither is set.

    Raises:
        TypeError: *record* is neither a path nor something with ``write``.
        ValueError: *record* is an empty string.
    """
    env = os.environ if environ is None else environ
    if record is None:
        return _env(env, "RELAYKIT_RECORD") or None
    if isinstance(record, str):
        if not record.strip():
            raise ValueError("record= must be a file path or an open text file, got ''")
        return record
    if isinstance(record, os.PathLike):
        return cast("os.PathLike[str]", record)
    if callable(getattr(record, "write", None)):
        return cast("IO[str]", record)
    raise TypeError(f"record= takes a file path or an open text file, not {type(record).__name__}")


def max_connections(environ: Mapping[str, str] | None = None) -> int:
    """``RELAY_MAX_CONNECTIONS`` (default 1).

    Raises:
        ValueError: The variable is set but is not a positive integer (``"0"``,
            ``"-3"``, ``"1.5"``, ``"abc"``).
    """
    env = os.environ if environ is None else environ
    if not _env(env, "RELAY_MAX_CONNECTIONS"):
        return DEFAULT_MAX_CONNECTIONS
    return _positive_int(env["RELAY_MAX_CONNECTIONS"], "RELAY_MAX_CONNECTIONS", from_text=True)
