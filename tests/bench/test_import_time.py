"""The import-time benchmark's parsing and reporting (no timings asserted)."""

from __future__ import annotations

import re

import pytest

from benchmarks import report
from benchmarks.import_time import MODULES, import_us
from benchmarks.runner import SCENARIOS, applies

SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       350 |        879 | _frozen_importlib_external
import time:      1255 |       3896 | site
import time:       120 |        120 |     relay_proto._helper
import time:       251 |      1500 |   relay_proto
import time:       800 |     139197 | relay_anyio
"""


def test_import_us_reads_the_top_level_line() -> None:
    assert import_us(SAMPLE, "relay_anyio") == 139197
    assert import_us(SAMPLE, "site") == 3896


@pytest.mark.parametrize("module", ["signalwire.relay", "relay_proto", "relay_proto._helper"])
def test_import_us_says_when_the_module_has_no_top_level_line(module: str) -> None:
    # relay_proto was imported *by* relay_anyio: its line is nested, not a figure.
    with pytest.raises(ValueError, match=re.escape(repr(module))):
        import_us(SAMPLE, module)


def test_every_scenario_runs_for_the_libraries_and_import_not_for_bare() -> None:
    assert "import" in SCENARIOS
    assert MODULES["official"] == "signalwire.relay"
    assert MODULES["relaykit-asyncio"] == "relay_anyio"
    assert MODULES["relaykit-trio"] == "relay_trio"
    assert not applies("import", "bare")
    assert applies("import", "official")
    assert applies("throughput", "bare")


def test_import_time_is_reported_as_a_ratio_and_a_target() -> None:
    runs = [
        {"rep": rep, "scenario": "import", "client": client, "import_ms": ms + rep}
        for rep in range(3)
        for client, ms in (("relaykit-asyncio", 50.0), ("official", 100.0))
    ]
    summary = report.summarize({"runs": runs, "core": []})
    cell = summary["table"]["relaykit-asyncio"]["import_ms"]
    assert cell["median"] == 51.0
    assert cell["ratio"] == pytest.approx(51.0 / 101.0)
    target = {t["target"]: t for t in summary["targets"]}["import time vs official"]
    assert target["met"] is True
    meta = {"repeat": 3, "scale": 1.0}
    assert "51.0 (0.50x)" in report.format_table(summary, meta)
