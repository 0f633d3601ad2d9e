"""``benchmarks/lifecycle_timings.py`` runs, and its figures keep issue 11's promises.

The figures come from the real client under trio's virtual clock, so they are
deadlines of the code, not speeds of the machine: exact and repeatable.
"""

from __future__ import annotations

import pytest

from benchmarks.lifecycle_timings import main, measure

pytestmark = pytest.mark.timeout(60)


def test_half_open_detection_and_backoff_gaps() -> None:
    figures = measure(seed=11)
    busy, idle_pinged, idle_silent = (row["seconds"] for row in figures["half_open"])
    assert 0 < busy <= 10.0  # a request in flight: its timeout (10 s)
    assert 0 < idle_pinged <= 15.0  # the server-ping watchdog (15 s)
    assert 0 < idle_silent <= 25.0  # the client's ping (15 s) + its timeout (10 s)

    drops = figures["backoff"]["drops"]
    flapping = [row["gap_s"] for row in drops[:8]]
    for expected, gap in zip([1, 2, 4, 8, 16, 30, 30, 30], flapping, strict=True):
        assert expected <= gap <= min(30.0, expected * 1.1)  # grows, jitter <= 10 %, cap 30 s
    held_9, held_11 = drops[8], drops[9]
    assert held_9["session_held_s"] == 9.0
    assert held_9["gap_s"] == 30.0  # 9 s is not stable: no reset
    assert held_11["session_held_s"] == 11.0
    assert 1.0 <= held_11["gap_s"] <= 1.1  # stable for 10 s: back to 1 s
    assert 2.0 <= drops[10]["gap_s"] <= 2.2  # and growing again


def test_same_seed_same_figures() -> None:
    assert measure(seed=3) == measure(seed=3)


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "Half-open detection" in out
    assert "next attempt after" in out
