"""Smoke run of the benchmark suite: every script still works end to end.

Tiny counts (a few hundred events, one repetition) against the real emulator,
one test per installed client.  Nothing here asserts on timings: the figures
only have to exist and be sane (positive, the right counts).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from benchmarks import import_time, report
from benchmarks._common import available_clients, percentile, read_proc
from benchmarks.runner import main as bench_main

SCALE = "0.015"  # 15 calls, 300 events, 30 timed plays


def test_read_proc_reads_this_process() -> None:
    sample = read_proc(os.getpid())
    assert sample.rss > 0
    assert sample.hwm >= sample.rss
    assert sample.cpu > 0


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert math.isnan(percentile([], 50))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("client", available_clients())
def test_client_runs_every_scenario(client: str, tmp_path: Path) -> None:
    code = bench_main(
        [
            "--repeat", "1",
            "--scale", SCALE,
            "--clients", client,
            "--no-core",
            "--no-docs",
            "--results-dir", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 0
    results = json.loads((tmp_path / "latest.json").read_text())
    assert results["errors"] == []
    by_scenario = {r["scenario"]: r for r in results["runs"]}
    imported = {"import"} if client in import_time.MODULES else set()  # not the bare ceiling
    assert set(by_scenario) == {"throughput", "roundtrip", "memory", *imported}
    thr = by_scenario["throughput"]
    assert (thr["events"], thr["calls"]) == (300, 15)
    assert thr["events_per_s"] > 0
    assert thr["peak_rss"] > 0
    rtt = by_scenario["roundtrip"]
    assert rtt["plays"] == 30
    assert 0 < rtt["p50_us"] <= rtt["p99_us"]
    mem = by_scenario["memory"]
    assert mem["calls"] == 15
    assert mem["rss_held"] > 0
    if imported:
        imp = by_scenario["import"]
        assert imp["import_runs"] == 3
        assert 0 < imp["import_ms_min"] <= imp["import_ms"]


@pytest.mark.timeout(120)
def test_core_alone_runs(tmp_path: Path) -> None:
    code = bench_main(
        [
            "--repeat", "1",
            "--scale", SCALE,
            "--clients", "",
            "--no-docs",
            "--results-dir", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 0
    results = json.loads((tmp_path / "latest.json").read_text())
    assert results["errors"] == []
    assert len(results["core"]) == 1
    assert results["core"][0]["frames_per_s"] > 0


def _fake_results() -> dict[str, object]:
    runs = []
    for rep in range(3):
        for client, speed in (("relaykit-asyncio", 3.0), ("official", 1.0), ("bare", 2.0)):
            runs.append(
                {
                    "rep": rep,
                    "scenario": "throughput",
                    "client": client,
                    "events_per_s": 1000.0 * speed + rep,
                    "cpu_us_per_event": 100.0 / speed,
                    "peak_rss": 50 * 2**20,
                }
            )
            runs.append(
                {"rep": rep, "scenario": "roundtrip", "client": client,
                 "p50_us": 300.0 / speed, "p99_us": 600.0 / speed}
            )  # fmt: skip
            runs.append(
                {
                    "rep": rep,
                    "scenario": "memory",
                    "client": client,
                    "bytes_per_call": 8192.0 / speed,
                }
            )
    meta = {
        "date": "2026-01-01T00:00:00+00:00", "repeat": 3, "scale": 1.0, "python": "3.11",
        "cpus": 2, "cpu_model": "test", "versions": {"relaykit": "0"},
    }  # fmt: skip
    return {"meta": meta, "runs": runs, "core": [{"frames_per_s": 5e5}], "errors": []}


def test_report_medians_ratios_and_targets(tmp_path: Path) -> None:
    results = _fake_results()
    summary = report.summarize(results)
    results["summary"] = summary
    cell = summary["table"]["relaykit-asyncio"]["events_per_s"]
    assert cell["median"] == 3001.0
    assert cell["ratio"] == pytest.approx(3001.0 / 1001.0)
    met = {t["target"]: t["met"] for t in summary["targets"]}
    assert met["events/s vs official"] is True
    assert met["CPU per event vs official"] is True
    assert met["memory per call vs official"] is True
    assert met["round trip p99 vs official"] is True
    table = report.format_table(summary, results["meta"])  # type: ignore[arg-type]
    assert "relaykit-asyncio" in table
    assert "(3.00x)" in table


def test_report_writes_docs_block_and_chart(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")  # installed by `make bench`, not by the dev extras
    results = _fake_results()
    results["summary"] = report.summarize(results)
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nhand-written intro\n")
    md, png = report.write_docs(results, doc, tmp_path / "img" / "perf.png")
    text = md.read_text()
    assert "hand-written intro" in text
    assert report.BEGIN in text
    assert "3,001" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A second run replaces the generated block instead of appending another one.
    report.write_docs(results, doc, tmp_path / "img" / "perf.png")
    assert doc.read_text().count(report.BEGIN) == 1
