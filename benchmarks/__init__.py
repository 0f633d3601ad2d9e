"""relaykit benchmarks: relaykit against the official ``signalwire-sdk``, same emulator, same run.

``make bench`` (``python -m benchmarks``) runs everything; each scenario is also a
script of its own (``python -m benchmarks.event_throughput`` ...).  See
``docs/performance.md`` for the method and the latest figures.
"""
