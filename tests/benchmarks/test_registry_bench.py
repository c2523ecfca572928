"""`dosar bench registry`: eight clerk processes at once, and the report says the
register came out without gaps or duplicates."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOSAR = Path(sys.executable).with_name("dosar")

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", [
    pytest.param("mariadb", marks=pytest.mark.skipif(
        os.environ.get("DOSAR_SKIP_MARIADB") == "1", reason="MariaDB is skipped")),
    "sqlite"])
def test_quick_run_reports_a_register_without_gaps_or_duplicates(backend):
    run = subprocess.run(
        [str(DOSAR), "bench", "registry", "--quick", "--workers", "8", "--backend", backend,
         "--database", f"dosar_bench_registry_test_{os.getpid()}"],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert (report["backend"], report["workers"]) == (backend, 8)
    assert (report["gaps"], report["duplicates"], report["errors"]) == (0, 0, 0)
    assert report["registrations"] == report["rows"] > 0 and report["rows_match_committed"]
    assert report["rolled_back"] > 0 and report["cancelled"] > 0
    assert report["registrations_per_s"] > 0 and report["baseline_insert_per_s"] > 0
    # The run crossed New Year in both registers, each year numbered from 1.
    assert set(report["last_numbers"]) == {"general/2026", "general/2027", "URB/2026", "URB/2027"}
