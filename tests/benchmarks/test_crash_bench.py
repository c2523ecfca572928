"""`dosar bench crash`: processes killed at random while clerks register and work, and
the report says nothing committed was lost and nothing was done twice."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOSAR = Path(sys.executable).with_name("dosar")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    os.environ.get("DOSAR_SKIP_MARIADB") == "1", reason="the crash test runs on MariaDB")]


def test_ten_kills_lose_nothing_and_do_nothing_twice():
    run = subprocess.run(
        [str(DOSAR), "bench", "crash", "--quick", "--kills", "10", "--clients", "3",
         "--database", f"dosar_bench_crash_test_{os.getpid()}"],
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["kills"] >= 10
    assert sum(report["kills_by_role"].values()) == report["kills"]
    for figure in ("gaps", "duplicates", "lost_tasks", "half_completed_instances",
                   "timers_fired_twice", "timers_missed", "jobs_lost"):
        assert report[figure] == 0, (figure, report)
    # Work really went on during the kills: registrations confirmed (all found in the
    # register), diagram timers fired, jobs done.
    assert report["registrations"] > 0
    assert report["registrations_in_database"] >= report["registrations"]
    assert report["timers_fired"] > 0 and report["jobs_done"] >= report["registrations"]
    assert report["requests_ok"] > 0 and "problems" not in report
