#!/usr/bin/env python3
"""worker.py with metrics and traces: the OpenTelemetry SDK set up, then the worker run.

Needs `pip install 'relaykit[otel]' opentelemetry-sdk`.  With
OTEL_EXPORTER_OTLP_ENDPOINT set (and opentelemetry-exporter-otlp-proto-http
installed), spans and metrics go to that collector; otherwise they are printed
(JSON) to stderr.  The SDK's own variables apply too: OTEL_SERVICE_NAME,
OTEL_RESOURCE_ATTRIBUTES, OTEL_METRIC_EXPORT_INTERVAL (ms, default 60000).
"""

import os
import runpy
import sys
from pathlib import Path

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter


def exporters():
    """(span exporter, metric exporter): OTLP over HTTP if configured, else stderr."""
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(), OTLPMetricExporter()
    return ConsoleSpanExporter(out=sys.stderr), ConsoleMetricExporter(out=sys.stderr)


# One resource per worker process: the service, and which worker this is.
resource = Resource.create(
    {
        "service.name": os.environ.get("OTEL_SERVICE_NAME", "callcenter-worker"),
        "service.instance.id": f"{os.uname().nodename}-{os.getpid()}",
    }
)
span_exporter, metric_exporter = exporters()
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
meter_provider = MeterProvider(
    resource=resource, metric_readers=[PeriodicExportingMetricReader(metric_exporter)]
)
# Global providers, set before the client is made: RelayClient(telemetry=None),
# the default, then records (docs/observability.md).
trace.set_tracer_provider(tracer_provider)
metrics.set_meter_provider(meter_provider)

try:
    # The worker, unchanged: client.run() returns once SIGTERM has drained it.
    runpy.run_path(str(Path(__file__).with_name("worker.py")), run_name="__main__")
finally:
    # Export what is still buffered (the last spans, a last metrics reading).
    tracer_provider.shutdown()
    meter_provider.shutdown()
