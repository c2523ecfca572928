"""Procedure folders: reading, hashing and parsing them into SpiffWorkflow specs.

A procedure lives in `processes/<name>/`: `procedure.json` (title, department,
process id, start form, register), one or more `.bpmn` files, `forms/*.json` and
`sla.json`. Its version is the SHA-256 of all of its files, so deploying the same
folder twice yields the same version and any change yields a new one.
"""
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.spiff.parser import SpiffBpmnParser, VALIDATOR

from .dialects import library_refusal, translate_diagram
from .errors import ProcedureError
from .sla import SlaProfile, SlaProfileError

# Analysts' files are untrusted input: no entities, no DTDs, no network.
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True)

PROCEDURE_KEYS = {"name", "title", "department", "process_id", "start_form", "register",
                  "document_type", "lanes", "description", "libraries", "connectors"}
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class ProcedurePackage:
    """Everything deployed as one version of a procedure."""
    name: str
    metadata: dict
    files: dict[str, str]            # relative path -> text
    version_hash: str
    spec: object = None              # BpmnProcessSpec
    subprocess_specs: dict = field(default_factory=dict)

    @property
    def process_id(self) -> str:
        return self.metadata["process_id"]

    def form(self, name: str) -> dict | None:
        text = self.files.get(f"forms/{name}.json")
        return json.loads(text) if text is not None else None

    @property
    def sla(self) -> dict | None:
        text = self.files.get("sla.json")
        return json.loads(text) if text is not None else None


def read_folder(folder: Path) -> dict[str, str]:
    """A procedure's files, plus those of the libraries it calls (see `read_library`)."""
    folder = Path(folder)
    if not (folder / "procedure.json").is_file():
        raise ProcedureError("Dosarul procedurii nu are procedure.json", file=str(folder))
    files = _read_files(folder)
    try:
        libraries = json.loads(files["procedure.json"]).get("libraries", [])
    except json.JSONDecodeError:
        return files       # build_package names the error
    for name in libraries:
        files.update(read_library(folder.parent, name))
    return files


def read_library(processes_dir: Path, name: str) -> dict[str, str]:
    """A library of reusable diagrams (e.g. the document circuit's steps), copied into
    every procedure that calls it: its diagrams under `<name>/`, its forms under
    `forms/<name>/` (a user task names them `<name>/<form>`). Copying makes each
    procedure version self-contained: a change to the library is a new version of
    every procedure using it, and running instances keep the steps they started with."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ProcedureError(f"nume de bibliotecă invalid: {name!r}", file="procedure.json")
    folder = Path(processes_dir) / name
    if not (folder / "library.json").is_file():
        raise ProcedureError(f"biblioteca «{name}» nu există (lipsește {name}/library.json)",
                             file="procedure.json")
    merged = {}
    for rel, text in _read_files(folder).items():
        target = f"forms/{name}/{rel[len('forms/'):]}" if rel.startswith("forms/") else f"{name}/{rel}"
        merged[target] = text
    return merged


def _read_files(folder: Path) -> dict[str, str]:
    files = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        rel = path.relative_to(folder).as_posix()
        if path.suffix not in {".json", ".bpmn", ".dmn"}:
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ProcedureError("Fișier prea mare (maximum 5 MiB)", file=rel)
        try:
            files[rel] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ProcedureError("Fișierul nu este text UTF-8", file=rel) from None
    return files


def version_hash(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(rel.encode() + b"\0" + files[rel].encode() + b"\0")
    return digest.hexdigest()


def parse_xml(text: str, filename: str):
    """The one parser for XML that comes from outside (diagrams, decision tables): a
    DOCTYPE or an entity (billion laughs, XXE, external or parameter entities) is
    refused before parsing, so nothing is expanded, read or fetched; size is bounded
    by MAX_FILE_BYTES and nesting by libxml2's default depth (no `huge_tree`)."""
    if not isinstance(text, str):
        raise ProcedureError("Fișierul nu este text UTF-8", file=filename)
    if len(text) > MAX_FILE_BYTES:
        raise ProcedureError("Fișier prea mare (maximum 5 MiB)", file=filename)
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper or "<!ATTLIST" in upper or "<!ELEMENT" in upper:
        raise ProcedureError("Diagramele nu pot conține DOCTYPE sau entități XML", file=filename)
    try:
        root = etree.fromstring(text.encode("utf-8"), SAFE_XML)
    except etree.XMLSyntaxError as err:
        raise ProcedureError(f"XML invalid: {err}", file=filename) from None
    except ValueError as err:       # e.g. an encoding declaration lxml refuses for str
        raise ProcedureError(f"XML invalid: {err}", file=filename) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise ProcedureError("Diagramele nu pot conține DOCTYPE sau entități XML", file=filename)
    return root


def build_package(files: dict[str, str]) -> ProcedurePackage:
    """Check and parse a procedure's files; raise ProcedureError naming what is wrong."""
    try:
        metadata = json.loads(files["procedure.json"])
    except (KeyError, json.JSONDecodeError) as err:
        raise ProcedureError(f"procedure.json lipsește sau nu este JSON valid: {err}",
                             file="procedure.json") from None
    missing = {"name", "title", "process_id"} - set(metadata)
    if missing:
        raise ProcedureError(f"lipsesc cheile {', '.join(sorted(missing))}", file="procedure.json")
    unknown = set(metadata) - PROCEDURE_KEYS
    if unknown:
        raise ProcedureError(f"chei necunoscute: {', '.join(sorted(unknown))}",
                             file="procedure.json")
    for rel, text in files.items():
        if rel.endswith(".json"):
            try:
                json.loads(text)
            except json.JSONDecodeError as err:
                raise ProcedureError(f"JSON invalid: {err}", file=rel) from None

    parser = SpiffBpmnParser(validator=VALIDATOR)
    bpmn_files = [rel for rel in files if rel.endswith(".bpmn")]
    if not bpmn_files:
        raise ProcedureError("Procedura nu are nicio diagramă .bpmn", file="procedure.json")
    try:
        for rel in bpmn_files:
            # Camunda / bpmn.io diagrams are translated first (engine/dialects).
            parser.add_bpmn_xml(translate_diagram(parse_xml(files[rel], rel), rel, metadata,
                                                  files), filename=rel)
        for rel in (r for r in files if r.endswith(".dmn")):
            parser.add_dmn_xml(parse_xml(files[rel], rel), filename=rel)
        spec = parser.get_spec(metadata["process_id"])
        subprocess_specs = parser.get_subprocess_specs(metadata["process_id"])
    except ProcedureError:
        raise
    except Exception as err:     # the library's errors, in Romanian (engine/dialects)
        raise library_refusal(err, files) from None
    _check_forms(files)
    _check_sla(files)
    package = ProcedurePackage(name=metadata["name"], metadata=metadata, files=files,
                               version_hash=version_hash(files), spec=spec,
                               subprocess_specs=subprocess_specs)
    _check_user_tasks(package)
    _check_scripts(package)
    return package


def _condition_text(condition):
    """A gateway's condition: SpiffWorkflow keeps the expression as its first argument."""
    args = getattr(condition, "args", None)
    return args[0] if args and isinstance(args[0], str) else condition


def _check_scripts(package: ProcedurePackage) -> None:
    """Every script and gateway condition passes the script engine's static check now,
    so the analyst sees what is refused (and where) before deploying, not a clerk later."""
    from .script_engine import UnsafeScript, check_source
    for spec in [package.spec, *package.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            sources = [getattr(task_spec, "script", None), getattr(task_spec, "prescript", None),
                       getattr(task_spec, "postscript", None),
                       *(_condition_text(c)
                         for c, _ in getattr(task_spec, "cond_task_specs", None) or [])]
            for source in sources:
                if not isinstance(source, str):
                    continue
                try:
                    check_source(source)
                except UnsafeScript as err:
                    raise ProcedureError(
                        f"script sau condiție refuzată: {err}", file=getattr(spec, "file", None),
                        element=f"{getattr(task_spec, 'bpmn_name', None) or ''} "
                                f"({getattr(task_spec, 'bpmn_id', None) or task_spec.name})"
                    ) from None


def _check_forms(files: dict[str, str]) -> None:
    """Each form must load; a list filled in at run time (`options_from`) is checked
    with a stand-in choice."""
    from forms import FormDefinition, FormDefinitionError
    for rel in (r for r in files if r.startswith("forms/") and r.endswith(".json")):
        raw = json.loads(files[rel])
        for name, hints in (raw.get("ui") or {}).items():
            if isinstance(hints, dict) and hints.pop("options_from", None):
                raw["schema"]["properties"][name]["enum"] = ["-"]
        try:
            FormDefinition.from_dict(raw, name=rel)
        except FormDefinitionError as err:
            raise ProcedureError(f"formular invalid: {err}", file=rel) from None
        except (KeyError, TypeError, AttributeError) as err:
            raise ProcedureError(f"formular invalid: lipsește {err}", file=rel) from None


def _check_sla(files: dict[str, str]) -> None:
    if "sla.json" in files:
        try:
            SlaProfile.from_dict(json.loads(files["sla.json"]))
        except SlaProfileError as err:
            raise ProcedureError(f"profil de termen invalid: {err}", file="sla.json") from None


def _check_user_tasks(package: ProcedurePackage) -> None:
    """Every form a user task names must exist: refuse now, not when a clerk opens it."""
    for spec in [package.spec, *package.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            form = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get("form")
            if form and f"forms/{form}.json" not in package.files:
                raise ProcedureError(f"formularul «{form}» nu există în forms/",
                                     element=f"{task_spec.bpmn_name or ''} ({task_spec.bpmn_id})")
    start_form = package.metadata.get("start_form")
    if start_form and f"forms/{start_form}.json" not in package.files:
        raise ProcedureError(f"formularul de start «{start_form}» nu există în forms/",
                             file="procedure.json")


def load_package(folder: Path) -> ProcedurePackage:
    return build_package(read_folder(folder))
