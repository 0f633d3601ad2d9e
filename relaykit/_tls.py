"""The client's TLS context, shared by the bindings' transports (relay_anyio, relay_trio).

Outside :mod:`relaykit.client`, which imports no ``ssl`` (the object model
stays free of I/O libraries); the transports that do TLS import it from here.
"""

from __future__ import annotations

import ssl

__all__ = ["create_tls_context"]


def create_tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The client's TLS context: the system's trusted CAs, plus *ca_file*'s.

    ``ssl.create_default_context()`` (certificate and host name verification on,
    the system trust store), then ``load_verify_locations(cafile=ca_file)``:
    ``SIGNALWIRE_RELAY_CA_FILE`` *adds* a private CA, it does not replace the
    system store (``create_default_context(cafile=...)`` would).

    Raises:
        ValueError: *ca_file* cannot be read or holds no PEM certificate (the
            message names ``SIGNALWIRE_RELAY_CA_FILE``).
    """
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(
                f"SIGNALWIRE_RELAY_CA_FILE={ca_file!r} is not a readable PEM file of CA "
                f"certificates: {exc}"
            ) from None
    return context
