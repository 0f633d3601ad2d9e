"""The benchmark's client with or without OpenTelemetry: ``RELAYKIT_BENCH_OTEL``.

Read in the client process (:mod:`benchmarks._child`) before the client is
made, so the parent's harness is unchanged (docs/observability.md, "What it
costs"):

* unset or ``off``: the program never imports OpenTelemetry (as without the extra);
* ``api``: the program imports the OpenTelemetry API but configures no provider
  (the extra installed, nothing set up): relaykit must record nothing;
* ``sdk``: global SDK providers with in-memory exporters -- spans through a
  ``BatchSpanProcessor`` into an ``InMemorySpanExporter``, metrics into an
  ``InMemoryMetricReader`` -- so relaykit records everything, as in production
  minus the network.
"""

from __future__ import annotations

import os

__all__ = ["MODES", "configure"]

MODES = ("off", "api", "sdk")


def configure(mode: str | None = None) -> str:
    """Set up OpenTelemetry for *mode* (default: ``$RELAYKIT_BENCH_OTEL``); returns it."""
    mode = mode or os.environ.get("RELAYKIT_BENCH_OTEL") or "off"
    if mode not in MODES:
        raise SystemExit(f"RELAYKIT_BENCH_OTEL must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "api":
        import opentelemetry.metrics
        import opentelemetry.trace  # noqa: F401
    elif mode == "sdk":
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    return mode
