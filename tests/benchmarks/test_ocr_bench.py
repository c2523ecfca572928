"""`dosar bench ocr`: Tesseract alone against the whole text-extraction job, and the
job's output is a searchable PDF holding the letter's words."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

DOSAR = Path(sys.executable).with_name("dosar")

pytestmark = pytest.mark.slow


def test_one_page_run_reports_both_measures_and_a_readable_result():
    run = subprocess.run([str(DOSAR), "bench", "ocr", "--pages", "1", "--rounds", "2"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert (report["pages"], report["rounds"], report["languages"]) == (1, 2, "ron+eng")
    assert report["text_ok"] and report["text_characters"] > 500
    assert report["tesseract_raw_s"] > 0 and report["pipeline_s"] > 0
    assert report["overhead_ratio"] == round(report["pipeline_s"] / report["tesseract_raw_s"], 3)
    # Our side adds little CPU to Tesseract's own (generous bound: CI machines are noisy).
    assert report["cpu_overhead_ratio"] < 1.5
