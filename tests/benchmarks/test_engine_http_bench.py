"""`dosar bench engine_http`: the production server on MariaDB under concurrent clients."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOSAR = Path(sys.executable).with_name("dosar")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    os.environ.get("DOSAR_SKIP_MARIADB") == "1", reason="MariaDB is skipped")]


def test_clients_complete_tasks_over_http_and_the_run_reports_their_rate():
    run = subprocess.run(
        [str(DOSAR), "bench", "engine_http", "--quick", "--seconds", "4", "--clients", "3",
         "--threads", "4", "--database", f"dosar_bench_engine_http_test_{os.getpid()}"],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert (report["clients"], report["threads"], report["database"]) == (3, 4, "mariadb")
    assert report["completed"] > 0 and report["http_complete_task_per_s"] > 0
    assert 0 < report["p50_ms"] <= report["p95_ms"]
    assert report["raw_engine_tasks_per_s"] > report["http_complete_task_per_s"]
    assert report["ratio_http_to_raw"] > 0 and isinstance(report["errors"], int)
