"""Deploying procedure versions and finding the one new instances use."""
import json
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .models import ProcessDefinition
from .procedure import ProcedurePackage, build_package, read_folder
from .serializer import specs_from_json, specs_to_json


def deploy_package(session: Session, package: ProcedurePackage,
                   actor: str | None = None) -> tuple[ProcessDefinition, bool]:
    """Store the version if it is new. Returns (definition, created)."""
    current = latest_definition(session, package.name)
    next_activation = (current.activation + 1) if current else 1
    existing = session.execute(select(ProcessDefinition).where(
        ProcessDefinition.version_hash == package.version_hash)).scalar_one_or_none()
    if existing is not None:
        if current is not None and current.id != existing.id:
            existing.activation = next_activation       # back to an earlier version
            audit.record(session, actor, "procedure.reactivated",
                         object_ref=f"definition:{existing.id}",
                         summary=f"{package.name} {package.version_hash[:12]}",
                         before={"version": current.version_hash},
                         after={"version": existing.version_hash})
            session.flush()
        return existing, False
    definition = ProcessDefinition(activation=next_activation,
        name=package.name, version_hash=package.version_hash,
        title=package.metadata["title"], department=package.metadata.get("department"),
        process_id=package.process_id, metadata_json=json.dumps(package.metadata),
        files_json=json.dumps(package.files, ensure_ascii=False),
        spec_json=specs_to_json(package.spec, package.subprocess_specs), deployed_by=actor)
    session.add(definition)
    session.flush()
    audit.record(session, actor, "procedure.deployed", object_ref=f"definition:{definition.id}",
                 summary=f"{package.name} {package.version_hash[:12]}",
                 after={"name": package.name, "version": package.version_hash})
    return definition, True


def deploy_folder(session: Session, folder: Path, actor: str | None = None):
    return deploy_package(session, build_package(read_folder(folder)), actor)


def latest_definition(session: Session, name: str) -> ProcessDefinition | None:
    return session.execute(
        select(ProcessDefinition).where(ProcessDefinition.name == name)
        .order_by(ProcessDefinition.activation.desc(), ProcessDefinition.id.desc()).limit(1)
    ).scalar_one_or_none()


def definition_specs(definition: ProcessDefinition):
    return specs_from_json(definition.version_hash, definition.spec_json)


def definition_files(definition: ProcessDefinition) -> dict[str, str]:
    return _files(definition.version_hash, definition.files_json)


@lru_cache(maxsize=256)
def _files(version_hash: str, files_json: str) -> dict[str, str]:
    # A version never changes, so its parsed files are cached by hash.
    return json.loads(files_json)


def definition_form(definition: ProcessDefinition, form_name: str) -> dict | None:
    text = definition_files(definition).get(f"forms/{form_name}.json")
    return json.loads(text) if text else None


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def diagram_of(definition: ProcessDefinition, process_id: str | None = None) -> str | None:
    """The text of the .bpmn file that defines a process of this version (by default
    the procedure's own; a circuit step's when named)."""
    from .procedure import parse_xml
    wanted = process_id or definition.process_id
    for path, text in sorted(definition_files(definition).items()):
        if not path.endswith(".bpmn") or f'"{wanted}"' not in text:
            continue
        root = parse_xml(text, path)
        if root.find(f"{{{BPMN_NS}}}process[@id='{wanted}']") is not None:
            return text
    return None
