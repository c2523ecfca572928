"""Hostile XML in a procedure's diagrams and decision tables is refused, naming the
file, before anything is expanded, read or fetched, and in bounded time."""
import shutil
import socket
import time
from pathlib import Path

import pytest

from engine.deployment import deploy_folder
from engine.errors import ProcedureError
from engine.procedure import load_package, parse_xml

LOOP = Path(__file__).parent / "procedures" / "loop"
NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'

LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                    for i in range(1, 10))
          + f']>\n<bpmn:definitions {NS}>&lol9;</bpmn:definitions>')
HOSTILE = {
    "billion_laughs": LAUGHS,
    "xxe_file": ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 f'<bpmn:definitions {NS}>&x;</bpmn:definitions>'),
    "external_dtd": ('<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:{port}/evil.dtd">'
                     f'<bpmn:definitions {NS}/>'),
    "parameter_entity": ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM '
                         '"http://127.0.0.1:{port}/p.dtd"> %p;]>'
                         f'<bpmn:definitions {NS}/>'),
    "lowercase_doctype": (f'<?xml version="1.0"?><!doctype d><bpmn:definitions {NS}/>'),
    "deep_nesting": (f'<bpmn:definitions {NS}>' + "<a>" * 100_000 + "</a>" * 100_000
                     + "</bpmn:definitions>"),
    "huge": f'<bpmn:definitions {NS}>' + "<a/>" * 1_400_000 + "</bpmn:definitions>",
}


@pytest.fixture
def listener():
    """A loopback server that records whether anything connected (an external DTD or
    entity would be fetched from it)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    yield server
    server.close()


def touched(server) -> bool:
    try:
        conn, _ = server.accept()
    except (socket.timeout, TimeoutError):
        return False
    conn.close()
    return True


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("suffix", [".bpmn", ".dmn"])
def test_hostile_xml_is_refused_naming_the_file(tmp_path, listener, kind, suffix):
    folder = tmp_path / "loop"
    shutil.copytree(LOOP, folder)
    name = f"ostil{suffix}"
    port = listener.getsockname()[1]
    (folder / name).write_text(HOSTILE[kind].replace("{port}", str(port)), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ProcedureError) as error:
        load_package(folder)
    assert time.monotonic() - started < 5
    assert f"fișierul {name}" in str(error.value)
    message = str(error.value)
    if kind == "huge":
        assert "prea mare" in message
    elif kind == "deep_nesting":
        assert "XML invalid" in message
    else:
        assert "DOCTYPE" in message
    assert "root:" not in message                 # /etc/passwd was never read
    assert not touched(listener)                  # nothing was fetched


def test_the_parser_itself_expands_nothing_even_without_the_text_check(listener):
    """Past the text check (say, a DOCTYPE hidden in another encoding), the lxml parser
    neither resolves entities nor loads DTDs nor uses the network."""
    from lxml import etree
    from engine.procedure import SAFE_XML
    port = listener.getsockname()[1]
    text = HOSTILE["xxe_file"].replace("<!DOCTYPE d [", f'<!DOCTYPE d SYSTEM "http://127.0.0.1:{port}/x" [')
    root = etree.fromstring(text.encode(), SAFE_XML)
    assert "root:" not in etree.tostring(root, encoding="unicode")
    assert not touched(listener)
    with pytest.raises(ProcedureError, match="DOCTYPE"):
        parse_xml(text, "x.bpmn")


def test_a_hostile_diagram_never_reaches_the_database(session, tmp_path):
    from sqlalchemy import func, select
    from engine.models import ProcessDefinition
    folder = tmp_path / "loop"
    shutil.copytree(LOOP, folder)
    (folder / "loop.bpmn").write_text(HOSTILE["billion_laughs"], encoding="utf-8")
    with pytest.raises(ProcedureError, match="fișierul loop.bpmn"):
        deploy_folder(session, folder)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0
