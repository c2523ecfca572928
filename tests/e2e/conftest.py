"""What the browser tests share: the demo town hall served by `dosar serve` in a
child process, and headless Debian Chromium driven by Playwright."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from benchmarks._support import served_app
    data_dir = str(tmp_path_factory.mktemp("dosar-e2e"))
    env = {**os.environ, "DOSAR_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", "from webapp.cli import main; main()", "demo",
                    "--no-serve"], env=env, cwd=ROOT, check=True, capture_output=True)
    with served_app({"DOSAR_DATA_DIR": data_dir}) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()
