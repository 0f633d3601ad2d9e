"""The submodule faces of the official client: the ``signalwire.relay.<submodule>`` namespaces.

The official SDK spreads its names over ``signalwire.relay.call``, ``.client``,
``.constants``, ``.event`` and ``.message``, and seed programs import from them
(``from signalwire.relay.call import Call``).  Each module here holds the names of
one of those namespaces, taken from :mod:`relaykit.client`; each adapter
re-exports them one to one (``relay_anyio.call`` is ``sdk.call``, and its
``client`` module adds the adapter's bound ``RelayClient``).
"""
