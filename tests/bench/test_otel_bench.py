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

from benchmarks.otel_client import MODES
from benchmarks.otel_overhead import FIGURES, cpu_seconds, format_table, summarize
from benchmarks.runner import main as bench_main


def test_cpu_seconds_counts_this_process() -> None:
    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(200_000))  # some CPU work
    assert cpu_seconds(os.getpid()) > before > 0


def _run(rep: int, mode: str, cpu: float) -> dict[str, float | int | str]:
    figures: dict[str, float | int | str] = {"rep": rep, "mode": mode}
    for _, key, _, _, _ in FIGURES:
        figures[key] = cpu
    return figures


def test_ratios_are_paired_within_a_repetition() -> None:
    # Repetition 1 ran on a slow machine: every mode twice as slow.  Paired ratios
    # stay 1.0 and 1.5; ratios of the medians would not be exact here.
    runs = [
        _run(0, "off", 10.0),
        _run(0, "api", 10.0),
        _run(0, "sdk", 15.0),
        _run(1, "sdk", 30.0),
        _run(1, "off", 20.0),
        _run(1, "api", 20.0),
        _run(2, "api", 12.0),
        _run(2, "sdk", 18.0),
        _run(2, "off", 12.0),
    ]
    summary = summarize(runs)
    assert summary["ratios"]["api"]["cpu_us_per_event"] == pytest.approx(1.0)
    assert summary["ratios"]["sdk"]["cpu_us_per_event"] == pytest.approx(1.5)
    assert summary["medians"]["off"]["cpu_us_per_event"] == 12.0
    meta = {"date": "d", "repeat": 3, "scale": 1.0, "python": "3.x", "cpus": 2}
    table = format_table(summary, meta)
    assert "| `sdk` | 18.00 (1.50x) |" in table


@pytest.mark.timeout(180)
def test_otel_option_runs_every_mode(tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.sdk.trace")
    code = bench_main(
        ["--otel", "--repeat", "1", "--scale", "0.015", "--results-dir", str(tmp_path)]
    )
    assert code == 0
    (path,) = tmp_path.glob("otel-*.json")
    results = json.loads(path.read_text())
    assert [run["mode"] for run in results["runs"]] == list(MODES)
    for run in results["runs"]:
        assert run["events"] == 300
        assert run["plays"] == 30
        assert run["cpu_us_per_event"] > 0
        assert run["cpu_us_per_play"] > 0
    assert set(results["summary"]["ratios"]) == {"api", "sdk"}


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
