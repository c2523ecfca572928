"""`dosar bench all`: every benchmark in one report; one that fails is named with its
error, and the others still give their figures."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

DOSAR = Path(sys.executable).with_name("dosar")

pytestmark = pytest.mark.slow


def test_report_gathers_each_benchmarks_figures_and_names_the_one_that_failed():
    run = subprocess.run(
        [str(DOSAR), "bench", "all", "--only", "inbox,search,registry",
         "--pass", "inbox=--tasks 4000 --open 1000 --backend sqlite --requests 10",
         "--pass", "search=--docs 2000",
         "--pass", "registry=--no-such-option"],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    table, document = run.stdout.rsplit("\n{", 1)
    report = json.loads("{" + document)
    assert set(report["benchmarks"]) == {"inbox", "search"}
    assert report["benchmarks"]["inbox"]["sqlite_rows"] == 50
    assert report["benchmarks"]["search"]["documents"] == 2000
    assert [f["name"] for f in report["failed"]] == ["registry"]
    assert "--no-such-option" in report["failed"][0]["stderr_tail"]
    assert report["seconds"] > 0
    # The table names every benchmark run, the failed one marked.
    assert "inbox" in table and "search" in table and "registry (FAILED)" in table
    assert "sqlite_p95_ms=" in table


def test_only_refuses_a_benchmark_that_does_not_exist():
    run = subprocess.run([str(DOSAR), "bench", "all", "--only", "nosuch"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "nosuch" in run.stderr
