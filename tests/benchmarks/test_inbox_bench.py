"""`dosar bench inbox`: a clerk's group inbox page on a loaded town hall, timed."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

DOSAR = Path(sys.executable).with_name("dosar")

pytestmark = pytest.mark.slow


def test_small_run_times_the_real_page_of_fifty_tasks():
    run = subprocess.run(
        [str(DOSAR), "bench", "inbox", "--tasks", "4000", "--open", "1000", "--backend", "sqlite",
         "--requests", "20"],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.strip().splitlines()
    figures, summary = json.loads(lines[0]), json.loads(lines[-1])
    assert (figures["backend"], figures["tasks"], figures["open_tasks"]) == ("sqlite", 4000, 1000)
    # The clerk's groups hold more than a page of unclaimed tasks: the page shows 50.
    assert figures["clerk_group_tasks"] > 50 and figures["rows"] == 50
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert figures["load_s"] > 0
    # The page walks the term index instead of sorting every task of the groups.
    assert not any("TEMP B-TREE" in step for step in figures["plan"]["rows"])
    assert summary["sqlite_p95_ms"] == figures["p95_ms"] and summary["tasks"] == 4000
