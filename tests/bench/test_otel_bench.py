"""``python -m benchmarks --otel``: the three modes run, interleaved, and pair up.

Tiny counts, one repetition: the figures only have to exist and be sane; the
pairing of the ratios is checked on made-up runs.  Nothing asserts on timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.otel_overhead import FIGURES, MODES, cpu_seconds, format_table, rotate, summarize
from benchmarks.runner import main as bench_main


def test_cpu_seconds_counts_this_process() -> None:
    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(200_000))  # some CPU work
    assert cpu_seconds(os.getpid()) > before > 0


def test_the_order_rotates_over_the_rounds() -> None:
    assert [rotate(n) for n in range(4)] == [
        ("off", "api", "sdk"),
        ("api", "sdk", "off"),
        ("sdk", "off", "api"),
        ("off", "api", "sdk"),
    ]


def _row(n: int, mode: str, value: float) -> dict[str, float | int | str]:
    row: dict[str, float | int | str] = {"round": n, "mode": mode}
    for key, _, _ in FIGURES:
        row[key] = value
    return row


def test_ratios_are_paired_within_a_round() -> None:
    # Round 1 ran on a slow machine: every mode twice as slow.  The paired ratios
    # stay 1.0 and 1.5; the ratio of the medians would not (18 / 12).
    rows = [
        _row(0, "off", 10.0),
        _row(0, "api", 10.0),
        _row(0, "sdk", 15.0),
        _row(1, "sdk", 30.0),
        _row(1, "off", 20.0),
        _row(1, "api", 20.0),
        _row(2, "api", 12.0),
        _row(2, "sdk", 18.0),
        _row(2, "off", 14.0),
    ]
    summary = summarize(rows)
    assert summary["ratios"]["sdk"]["cpu_us_per_event"] == pytest.approx(1.5)
    assert summary["ratios"]["api"]["cpu_us_per_event"] == pytest.approx(1.0)
    assert summary["medians"]["off"]["cpu_us_per_event"] == 14.0
    meta = {"date": "d", "rounds": 3, "scale": 1.0, "python": "3.x", "cpus": 2}
    table = format_table(summary, meta)
    assert "| `sdk` | 18.00 (1.50x; 1.29-1.50) |" in table


@pytest.mark.timeout(180)
def test_otel_option_runs_every_mode(tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.sdk.trace")
    code = bench_main(
        ["--otel", "--repeat", "2", "--scale", "0.02", "--results-dir", str(tmp_path)]
    )
    assert code == 0
    (path,) = tmp_path.glob("otel-*.json")
    results = json.loads(path.read_text())
    rows = results["rows"]
    assert [(row["round"], row["mode"]) for row in rows] == [
        (n, mode)
        for n in range(6)
        for mode in rotate(n)  # three sessions of two rounds
    ]
    for row in rows:
        for key, _, _ in FIGURES:
            assert row[key] > 0, (key, row)
    assert set(results["summary"]["ratios"]) == set(MODES) - {"off"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("mode", "records"), [("off", False), ("api", False), ("sdk", True)])
def test_each_mode_sets_up_what_it_says(mode: str, records: bool) -> None:
    """In a fresh interpreter (global providers cannot be unset): does relaykit record?"""
    if mode != "off":
        pytest.importorskip("opentelemetry.sdk.trace")
    program = (
        "import sys\n"
        "from benchmarks.otel_client import configure\n"
        f"configure({mode!r})\n"
        "from relaykit.client._telemetry import _global_providers_configured\n"
        "print(_global_providers_configured(), 'opentelemetry' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", program], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(records), str(mode != "off")]
