"""The corpus benchmark on a handful of real diagrams from both folders: nothing
crashes, every file is deployed or refused with a message naming where, the
Camunda dialect makes diagrams run that SpiffWorkflow alone does not finish, and
the baseline is measured on the same files."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOSAR = Path(sys.executable).with_name("dosar")
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bpmn"
CHOSEN = {
    "camunda-examples": [
        "deployment__embedded-spring-rest__src__main__resources__loanApproval.bpmn",
        "servicetask__service-invocation-synchronous__src__main__resources__"
        "synchronousServiceInvocation.bpmn",
        "startevent__message-start__src__main__resources__message_start_process.bpmn",
        "clients__java__order-handling__order-handling.bpmn",
    ],
    "spiffworkflow-tests": [
        "tests__SpiffWorkflow__bpmn__data__timer.bpmn",
        "tests__SpiffWorkflow__bpmn__data__collaboration.bpmn",
        "tests__SpiffWorkflow__bpmn__data__parallel_multiinstance_loop_input.bpmn",
        "tests__SpiffWorkflow__bpmn__data__Invalid-Workflows__non-executable-process.bpmn",
    ],
}


@pytest.fixture
def corpus(tmp_path):
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    for folder, names in CHOSEN.items():
        (tmp_path / folder).mkdir()
        for name in names:
            shutil.copy(CORPUS / folder / name, tmp_path / folder / name)
    return tmp_path


def test_every_file_deploys_or_is_refused_with_a_message_and_none_crashes(corpus):
    run = subprocess.run([str(DOSAR), "bench", "bpmn-corpus", str(corpus), "--seconds", "5"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    files = {f["file"].split("/")[-1]: f for f in report["per_file"]}
    assert report["files"] == len(files) == 8
    assert report["crashed"] == 0, [f for f in report["per_file"] if f["status"] == "crashed"]
    assert report["deployed"] + report["refused_with_message"] == report["files"]
    assert report["ran_to_completion"] + report["stuck"] == report["deployed"]
    for result in report["per_file"]:
        if result["status"] == "refused":
            assert result["message"] and result["element"], result
        if result["status"] == "stuck":
            assert result["message"], result
    # The dialect at work: a Camunda diagram with Java delegates (mapped to the no-op
    # connector) and Camunda forms runs to the end; an unquoted ISO timer fires.
    for name in ("deployment__embedded-spring-rest__src__main__resources__loanApproval.bpmn",
                 "servicetask__service-invocation-synchronous__src__main__resources__"
                 "synchronousServiceInvocation.bpmn",
                 "tests__SpiffWorkflow__bpmn__data__timer.bpmn"):
        assert files[name]["status"] == "ran_to_completion", files[name]
    assert "cron" in files["clients__java__order-handling__order-handling.bpmn"]["message"]
    # What the library raises at run time is a message here, a crash for it alone.
    collaboration = files["tests__SpiffWorkflow__bpmn__data__collaboration.bpmn"]
    assert collaboration["status"] == "stuck" and "from_name" in collaboration["message"]
    assert collaboration["bpmn_parser"]["status"] == "crashed"
    for parser in ("bpmn_parser", "camunda_parser"):
        assert sum(report["baseline"][parser].values()) == report["files"]
    assert report["ran_to_completion"] > report["baseline"]["bpmn_parser"]["ran_to_completion"]


def test_without_the_corpus_the_benchmark_says_it_skipped(tmp_path):
    run = subprocess.run([str(DOSAR), "bench", "bpmn-corpus", str(tmp_path / "absent")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["files"] == 0 and "absent" in report["skipped"]
