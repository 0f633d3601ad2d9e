"""Observability: connection state you can watch, health for probes, OpenTelemetry settings.

The names a program needs to watch a :class:`~relay_anyio.RelayClient` in
production (docs/observability.md):

* ``@client.on_connection_state`` receives one of the frozen dataclasses
  below (:class:`Connecting`, :class:`Connected`, :class:`Disconnected`,
  :class:`Reconnecting`, :class:`SessionResumed`, :class:`SessionStartedFresh`,
  :class:`AuthenticationRefused`, :class:`AuthenticationAbandoned`), all :class:`ConnectionChange`;
* ``client.health()`` returns a :class:`Health` snapshot (``as_dict()`` for JSON);
* ``RelayClient(telemetry=Telemetry(...))`` sends spans and metrics to the
  OpenTelemetry providers it names (the ``otel`` extra).

Importing this module imports no OpenTelemetry.
"""

from __future__ import annotations

from .client._health import (
    AuthenticationAbandoned,
    AuthenticationRefused,
    Connected,
    Connecting,
    ConnectionChange,
    Disconnected,
    Health,
    Reconnecting,
    SessionResumed,
    SessionStartedFresh,
)
from .client._telemetry import Telemetry

__all__ = [
    "AuthenticationAbandoned",
    "AuthenticationRefused",
    "Connected",
    "Connecting",
    "ConnectionChange",
    "Disconnected",
    "Health",
    "Reconnecting",
    "SessionResumed",
    "SessionStartedFresh",
    "Telemetry",
]
