"""The `dosar` command on a fresh data folder (embedded SQLite default)."""
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from webapp.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSAR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DOSAR_DATABASE_URL", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_init_creates_the_database_and_storage(cli, tmp_path):
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "dosar.db").exists()
    assert (tmp_path / "var" / "files").is_dir()
    assert cli("init").exit_code == 0          # running it again is harmless


def test_deploy_publishes_once_and_refuses_bad_folders(cli, tmp_path):
    cli("init")
    first = cli("deploy", str(ROOT / "processes"))
    assert first.exit_code == 0 and "petition: versiunea" in first.output
    assert "publicată" in first.output
    again = cli("deploy", str(ROOT / "processes" / "petition"))
    assert "neschimbată" in again.output
    broken = tmp_path / "broken"
    shutil.copytree(ROOT / "processes" / "petition", broken)
    shutil.copytree(ROOT / "processes" / "circuit", tmp_path / "circuit")   # the steps it calls
    (broken / "petition.bpmn").write_text("<nu-este-bpmn")
    result = cli("deploy", str(broken))
    assert result.exit_code != 0
    assert "XML invalid" in result.output and "petition.bpmn" in result.output


def test_demo_without_serving_prints_the_logins(cli):
    result = cli("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "demo1234" in result.output
    for username in ("registratura", "sef.relatii", "functionar.relatii", "primar"):
        assert username in result.output


def test_bench_names_the_benchmarks_it_knows(cli):
    result = cli("bench", "nu-exista")
    assert result.exit_code != 0 and "engine" in result.output


def test_add_user_creates_an_account_that_can_log_in(cli, tmp_path):
    cli("init")
    weak = cli("add-user", "ana", "--name", "Ana Pop", "--group", "registratura",
               "--password", "scurta")
    assert weak.exit_code != 0 and "cel puțin 12 caractere" in weak.output
    ok = cli("add-user", "ana", "--name", "Ana Pop", "--group", "registratura",
             "--password", "ceai de tei la Sulina")
    assert ok.exit_code == 0, ok.output
    again = cli("add-user", "ana", "--name", "Ana Pop", "--password", "ceai de tei la Sulina")
    assert "există deja" in again.output
    from webapp import create_app
    app = create_app()
    client = app.test_client()
    from webapp_testkit import csrf
    response = client.post("/autentificare", data={
        "username": "ana", "password": "ceai de tei la Sulina",
        "csrf_token": csrf(client.get("/autentificare").text)})
    assert response.status_code == 302


def test_registers_are_configured_from_the_command_line(cli):
    cli("init")
    result = cli("registers", "add", "URB", "--name", "Registrul Urbanism", "--kind",
                 "department", "--prefix", "URB-", "--department", "urbanism")
    assert result.exit_code != 0 and "Compartimentul «urbanism» nu există" in result.output
    result = cli("registers", "add", "general", "--name", "Registrul general")
    assert result.exit_code == 0, result.output
    listing = cli("registers", "list").output
    assert "general" in listing and "in_out" in listing and "Registrul general" in listing
    again = cli("registers", "add", "general", "--name", "x")
    assert again.exit_code != 0 and "există deja" in again.output
    bad = cli("registers", "add", "X", "--name", "x", "--kind", "department")
    assert bad.exit_code != 0 and "--department" in bad.output
