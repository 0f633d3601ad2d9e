"""The metrics table of docs/observability.md is the code's: same names, instruments, units."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relaykit.client._telemetry import METRICS

pytestmark = pytest.mark.timeout(10)

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"
ROW = re.compile(r"^\| `(relaykit\.[\w.]+)` \| (\w+) \| `([^`]+)` \|", flags=re.M)


def test_the_documented_metrics_are_the_recorded_ones() -> None:
    section = DOC.read_text().split("### Metrics", 1)[1].split("\n### ", 1)[0]
    documented = {name: (kind, unit) for name, kind, unit in ROW.findall(section)}
    assert len(documented) >= 10, "the table was not found"
    recorded = {name: (kind, unit) for name, (kind, unit, _) in METRICS.items()}
    assert documented == recorded
