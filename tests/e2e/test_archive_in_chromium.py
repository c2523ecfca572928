"""The archive as a town hall lives it, in headless Chromium against `dosar serve`: a
petition registered with its scan becomes searchable by the words on the paper (read by
OCR in the served app's own background jobs), and the cover sheet printed for it,
scanned by the scan station into its folder, lands on the same entry by its barcode."""
import io
import os
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "archive"))
from scan_testkit import fax_pdf, letter, pages_of, scan  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def archive_town(tmp_path_factory):
    """The demo town hall, serving, running jobs every second and watching its scan
    folder every second."""
    import subprocess
    from benchmarks._support import served_app
    data_dir = tmp_path_factory.mktemp("dosar-archive-e2e")
    env = {"DOSAR_DATA_DIR": str(data_dir), "DOSAR_JOB_INTERVAL_SECONDS": "1",
           "DOSAR_SCAN_POLL_SECONDS": "1"}
    subprocess.run([sys.executable, "-c", "from webapp.cli import main; main()", "demo",
                    "--no-serve"], env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                   cwd=ROOT, check=True, capture_output=True)
    with served_app(env) as base:
        yield base, data_dir


def log_in(page, base, username):
    page.goto(base + "/autentificare")
    page.fill("#username", username)
    page.fill("#password", "demo1234")
    page.press("#password", "Enter")
    page.wait_for_url(base + "/")


def wait_for(check, seconds=90, every=1.0):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def test_a_scanned_petition_is_found_by_its_words_and_its_cover_sheet_finds_its_entry(
        archive_town, browser, tmp_path):
    base, data_dir = archive_town
    # The citizen's letter, printed and scanned at the desk (no text layer: OCR must read it).
    scanned_letter = tmp_path / "petitie.pdf"
    scanned_letter.write_bytes(fax_pdf(scan(pages_of(letter("Petiție privind școala"), dpi=300),
                                            angle=0.5), dpi=300))
    page = browser.new_page()
    log_in(page, base, "registratura")
    page.goto(base + "/registratura/nou?procedura=petition")
    page.fill("#field-sender_name", "Gheorghe Ionescu")
    page.fill("#field-sender_address", "Str. Lungă nr. 3")
    page.fill("#field-summary", "Solicită sprijin pentru o problemă din cartier.")
    page.select_option("#field-department", "relatii-publice")
    page.set_input_files("#field-scan", str(scanned_letter))
    page.get_by_role("button", name="Înregistrează", exact=True).click()
    page.wait_for_url(re.compile(r".*/registratura/\d+/inregistrat$"))
    entry_id = int(re.search(r"/registratura/(\d+)/", page.url).group(1))
    label = page.locator(".registered-number").inner_text().removeprefix("Nr. ")

    # Typed without diacritics, a word only the scanned paper carries, in the page title.
    def found():
        page.goto(base + "/arhiva/?q=privind+scoala")
        return page.locator(f'.search-hits li[data-entry-id="{entry_id}"]').count() == 1
    assert wait_for(found), "the scanned petition never became searchable"
    hit = page.locator(f'.search-hits li[data-entry-id="{entry_id}"]')
    assert hit.locator("mark").count() >= 1                     # the words are highlighted
    hit.locator("a").first.click()
    page.wait_for_url(base + f"/registratura/{entry_id}")
    documents = page.locator("#documente")
    assert "text extras" in documents.inner_text()
    assert documents.locator("a.searchable").count() == 1      # the searchable PDF

    # The cover sheet printed for it goes back through the scan station's folder.
    cover = page.request.get(base + f"/registratura/{entry_id}/eticheta.pdf?format=coperta")
    assert cover.ok
    inbox = Path(data_dir) / "scanari"
    inbox.mkdir(exist_ok=True)
    dropped = fax_pdf(scan(pages_of(cover.body()) + pages_of(letter("Completare", 1)), angle=2.0))
    (inbox / ".lot.tmp").write_bytes(dropped)
    os.replace(inbox / ".lot.tmp", inbox / "lot-0001.pdf")   # the scanner's atomic save

    def filed():
        page.goto(base + f"/registratura/{entry_id}")
        return f"Scanare {label}" in page.locator("#documente").inner_text()
    assert wait_for(filed), "the scanned cover sheet never reached its entry"
    assert (inbox / "preluate" / "lot-0001.pdf").read_bytes() == dropped  # kept, not deleted
