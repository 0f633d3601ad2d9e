"""OpenTelemetry spans and metrics against the emulator (skipped without the SDK).

The SDK's in-memory span exporter and metric reader are handed to the client
through ``Telemetry(tracer_provider=..., meter_provider=...)``, so no global
provider is set and every test has its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import anyio
import pytest

from relaykit.observability import Telemetry

from .conftest import Kit, wait_for, wait_until

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
sdk_metrics = pytest.importorskip("opentelemetry.sdk.metrics")
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


class Otel(NamedTuple):
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    telemetry: Telemetry

    def finished(self, name: str) -> list[Any]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        found.extend(m.data.data_points)
        return found

    def total(self, metric: str, **attributes: Any) -> float:
        """Sum of a counter's points whose attributes include *attributes* (dots as __)."""
        wanted = {k.replace("__", "."): v for k, v in attributes.items()}
        return sum(
            p.value
            for p in self.points(metric)
            if all(p.attributes.get(k) == v for k, v in wanted.items())
        )

    def count(self, metric: str, **attributes: Any) -> int:
        """How many values a histogram recorded (with *attributes*)."""
        wanted = {k.replace("__", "."): v for k, v in attributes.items()}
        return sum(
            p.count
            for p in self.points(metric)
            if all(p.attributes.get(k) == v for k, v in wanted.items())
        )


@pytest.fixture
def otel() -> Iterator[Otel]:
    spans = InMemorySpanExporter()
    tracer_provider = sdk_trace.TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = sdk_metrics.MeterProvider(metric_readers=[reader])
    yield Otel(
        spans,
        reader,
        Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider),
    )
    meter_provider.shutdown()
    tracer_provider.shutdown()


async def test_an_inbound_call_is_a_span_with_a_child_per_command(kit: Kit, otel: Otel) -> None:
    async with kit.emulator() as emu:
        client = kit.client(emu, telemetry=otel.telemetry)
        done = anyio.Event()

        @client.on_call
        async def handle(call: Any) -> None:
            await call.answer()
            play = await call.play_tts("Hello")
            await play.wait()
            await call.hangup()
            done.set()

        async with client:
            ecall = await emu.place_call(context="office")
            await wait_for(done)
            await ecall.wait_ended(timeout=10)
            await wait_until(lambda: bool(otel.finished("relaykit.call")))
    (span,) = otel.finished("relaykit.call")
    assert span.kind is SpanKind.SERVER
    assert span.parent is None
    assert span.attributes["relaykit.call.id"] == ecall.call_id
    assert span.attributes["relaykit.call.context"] == "office"
    assert span.attributes["relaykit.call.direction"] == "inbound"
    assert span.attributes["relaykit.call.end_reason"] == "hangup"
    states = [e.attributes["relaykit.call.state"] for e in span.events if e.name.endswith("state")]
    assert states[0] == "created"
    assert "answered" in states
    assert states[-1] == "ended"
    (completed,) = [e for e in span.events if e.name == "relaykit.action.completed"]
    assert completed.attributes["relaykit.action.kind"] == "play"
    assert completed.attributes["relaykit.action.reason"] == "finished"
    for method in ("calling.answer", "calling.play", "calling.end"):
        (command,) = otel.finished(method)
        assert command.kind is SpanKind.CLIENT
        assert command.parent is not None
        assert command.parent.span_id == span.context.span_id
        assert command.context.trace_id == span.context.trace_id
        assert command.attributes["rpc.method"] == method
        assert command.attributes["relaykit.command.outcome"] == "ok"
        assert command.attributes["relaykit.call.id"] == ecall.call_id
    (play,) = otel.finished("calling.play")
    assert play.attributes["relaykit.control_id"] == completed.attributes["relaykit.control_id"]
    assert otel.total("relaykit.events.received", relaykit__event__type="calling.call.receive") == 1
    assert otel.total("relaykit.events.received", relaykit__event__type="calling.call.play") >= 1
    assert otel.total("relaykit.commands", rpc__method="calling.answer") == 1
    assert otel.count("relaykit.command.duration", rpc__method="calling.play") == 1
    assert otel.count("relaykit.handler.duration", relaykit__handler__outcome="ok") == 1
    assert otel.total("relaykit.calls.active") == 0
    assert otel.total("relaykit.requests.in_flight") == 0


async def test_a_dial_span_covers_ringing_to_answer(kit: Kit, otel: Otel) -> None:
    async with kit.emulator() as emu:
        emu.configure_number("+15559876543", "answer", answer_after=1.0)
        client = kit.client(emu, telemetry=otel.telemetry)
        async with client:
            device = {
                "type": "phone",
                "params": {"to_number": "+15559876543", "from_number": "+15551234567"},
            }
            call = await client.dial([[device]], tag="t-1", dial_timeout=10)
            assert otel.total("relaykit.calls.active", relaykit__call__direction="outbound") == 1
            await call.hangup()
            await call.wait_for_ended(timeout=5)
            await wait_until(lambda: bool(otel.finished("relaykit.call")))
    (call_span,) = otel.finished("relaykit.call")
    (dial_span,) = otel.finished("relaykit.dial")
    (request,) = otel.finished("calling.dial")
    assert call_span.attributes["relaykit.call.direction"] == "outbound"
    assert call_span.attributes["relaykit.call.id"] == call.call_id
    assert call_span.attributes["relaykit.call.end_reason"] == "hangup"
    assert dial_span.parent.span_id == call_span.context.span_id
    assert request.parent.span_id == call_span.context.span_id
    assert dial_span.attributes["relaykit.dial.result"] == "answered"
    ringing = [e.attributes["relaykit.call.state"] for e in dial_span.events]
    assert "ringing" in ringing
    # The dial span runs from the request to the answer: it contains the request.
    assert dial_span.start_time <= request.end_time <= dial_span.end_time
    assert dial_span.end_time <= call_span.end_time
    assert otel.count("relaykit.dial.duration", relaykit__dial__result="answered") == 1
    assert otel.total("relaykit.calls.active") == 0


async def test_failed_commands_reconnects_refusals_and_protocol_errors_are_counted(
    kit: Kit, otel: Otel
) -> None:
    async with kit.emulator() as emu:
        client = kit.client(emu, telemetry=otel.telemetry, max_active_calls=1)
        answered = anyio.Event()
        release = anyio.Event()

        @client.on_call
        async def handle(call: Any) -> None:
            await call.answer()
            answered.set()
            await release.wait()
            emu.fail_next("calling.end", "500", "Injected failure")
            with pytest.raises(kit.module.RelayError):
                await call.hangup()

        async with client:
            await emu.place_call(context="office")
            await wait_for(answered)
            await emu.place_call(context="office")  # past max_active_calls
            await wait_until(lambda: otel.total("relaykit.calls.refused") == 1)
            assert await emu.inject_raw("{not json") == 1
            await wait_until(lambda: otel.total("relaykit.protocol.errors") == 1)
            assert await emu.drop_connections() == 1
            await wait_until(lambda: otel.total("relaykit.sessions.resumed") == 1)
            assert otel.total("relaykit.reconnects") == 1
            release.set()
            await wait_until(lambda: bool(otel.finished("calling.end")))
    (end,) = otel.finished("calling.end")
    assert end.status.status_code is StatusCode.ERROR
    assert end.attributes["relaykit.command.outcome"] == "error"
    assert end.attributes["relaykit.command.result_code"] == "500"
    assert (
        otel.total(
            "relaykit.commands", rpc__method="calling.end", relaykit__command__outcome="error"
        )
        == 1
    )
    refused = otel.points("relaykit.calls.refused")[0]
    assert refused.attributes["relaykit.refusal.reason"] == "max_active_calls"
    # The client closed with the call still up: its span is ended, not leaked.
    (call_span,) = otel.finished("relaykit.call")
    assert call_span.attributes["relaykit.call.end_reason"] == "client_closed"
    assert otel.total("relaykit.calls.active") == 0


async def test_queue_depth_is_observed(kit: Kit, otel: Otel) -> None:
    async with kit.emulator() as emu:
        client = kit.client(emu, telemetry=otel.telemetry)
        async with client:
            assert otel.total("relaykit.requests.queued") == 0


async def test_off_unless_asked_or_a_provider_is_configured(kit: Kit) -> None:
    async with kit.emulator() as emu:
        for option in (None, False):
            client = kit.client(emu, telemetry=option)
            async with client:
                assert client._dispatcher.telemetry is None
    with pytest.raises(TypeError, match="telemetry must be"):
        kit.client(emu, telemetry="yes")


@pytest.mark.parametrize("kit_name", ["relay_anyio-asyncio"])
async def test_blocking_code_in_a_handler_is_named(
    kit: Kit, otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    # Real time only: under a virtual clock blocking code takes no time at all.
    caplog.set_level(logging.WARNING, logger="relaykit.client")
    telemetry = Telemetry(
        tracer_provider=otel.telemetry.tracer_provider,
        meter_provider=otel.telemetry.meter_provider,
        lag_interval=0.02,
        lag_threshold=0.1,
    )
    async with kit.emulator() as emu:
        client = kit.client(emu, telemetry=telemetry)
        done = anyio.Event()

        @client.on_call
        async def slow_handler(call: Any) -> None:
            await call.answer()
            time.sleep(0.3)  # blocking: the whole client stalls  # noqa: ASYNC251
            await call.hangup()
            done.set()

        async with client:
            ecall = await emu.place_call(context="office")
            await wait_for(done)
            await wait_until(lambda: "blocked the event loop" in caplog.text)
    assert f"call handler for call {ecall.call_id} blocked the event loop" in caplog.text
    lag = otel.points("relaykit.event_loop.lag")
    assert lag
    assert max(p.max for p in lag) >= 0.1
    (duration,) = otel.points("relaykit.handler.duration")
    assert duration.sum >= 0.3
