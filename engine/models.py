"""Tables of the BPMN runtime.

Definitions are stored once per version (by the hash of their files); an instance is
a small row plus one row per SpiffWorkflow task; task data is content-addressed, so
identical data copied from task to task is stored once. Waiting user tasks are
projected into `human_task` rows so inboxes are plain indexed SQL.
"""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (Boolean, Date, DateTime, Double, ForeignKey, Index, Integer, false,
                        String, Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connectors.db import Base, LongText, utcnow


class ProcessDefinition(Base):
    """One immutable deployed version of a procedure folder."""
    __tablename__ = "process_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    version_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    department: Mapped[Optional[str]] = mapped_column(String(100))
    process_id: Mapped[str] = mapped_column(String(255))
    metadata_json: Mapped[str] = mapped_column(Text)
    files_json: Mapped[str] = mapped_column(LongText)   # path -> text of every file
    spec_json: Mapped[str] = mapped_column(LongText)    # serialized SpiffWorkflow specs
    deployed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deployed_by: Mapped[Optional[str]] = mapped_column(String(100))
    # Raised each time this version is (re)deployed: the highest one is what new
    # instances use, so deploying an older version's files again rolls back to it.
    activation: Mapped[int] = mapped_column(Integer, default=1)


class ProcessInstance(Base):
    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    # Bumped by every saved step: a second writer holding a stale copy cannot save.
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    workflow_json: Mapped[str] = mapped_column(LongText)  # workflow attributes, no tasks
    title: Mapped[str] = mapped_column(String(500), default="")
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("register_entry.id"), index=True)
    due_on: Mapped[Optional[date]] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_by: Mapped[Optional[str]] = mapped_column(String(100))
    completed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    definition: Mapped[ProcessDefinition] = relationship()


class EngineTask(Base):
    """One SpiffWorkflow task. `live` rows form the tree that is loaded to run the
    instance; rows pruned from it stay as history but are never read on the hot path."""
    __tablename__ = "engine_task"
    __table_args__ = (Index("ix_engine_task_live", "instance_id", "live"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    workflow_key: Mapped[str] = mapped_column(String(36), default="")  # "" = top process
    parent_id: Mapped[Optional[str]] = mapped_column(String(36))
    children_json: Mapped[str] = mapped_column(Text, default="[]")
    spec_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[int] = mapped_column(Integer)
    last_state_change: Mapped[float] = mapped_column(Double)
    triggered: Mapped[bool] = mapped_column(Boolean, default=False)
    internal_json: Mapped[str] = mapped_column(Text, default="{}")
    data_hash: Mapped[str] = mapped_column(String(64))
    live: Mapped[bool] = mapped_column(Boolean, default=True)


class TaskData(Base):
    """Task data, content-addressed by the SHA-256 of its canonical JSON."""
    __tablename__ = "task_data"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(LongText)


class HumanTask(Base):
    """Projection of a user task: everything an inbox shows, without the engine."""
    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_assignee", "status", "assignee", "due_on"),
        Index("ix_human_task_open_due", "status", "due_on"),
        Index("ix_human_task_instance", "instance_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    engine_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    procedure: Mapped[str] = mapped_column(String(100))
    spec_name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    form_name: Mapped[Optional[str]] = mapped_column(String(255))
    lane: Mapped[Optional[str]] = mapped_column(String(255))
    assignee: Mapped[Optional[str]] = mapped_column(String(100))
    due_on: Mapped[Optional[date]] = mapped_column(Date)
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("register_entry.id"))
    department: Mapped[Optional[str]] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open/completed/cancelled
    # Set when the deadline passed and the head was told (escalation timer).
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whose task this was before an absence or a head's reassignment moved it.
    delegated_from: Mapped[Optional[str]] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    completed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    completed_by: Mapped[Optional[str]] = mapped_column(String(100))

    groups: Mapped[list["HumanTaskGroup"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")
    instance: Mapped[ProcessInstance] = relationship()

    @property
    def group_codes(self) -> list[str]:
        return sorted(g.group_code for g in self.groups)


class HumanTaskGroup(Base):
    """Candidate groups of a human task, one row each, for indexed inbox queries.
    `waiting` mirrors "open and nobody has claimed it" on the group row itself, so a
    group inbox's count reads only its groups' rows, not every open task of the town
    hall; kept in step on every flush (engine/projection.py)."""
    __tablename__ = "human_task_group"
    __table_args__ = (Index("ix_human_task_group_code", "group_code", "human_task_id"),
                      Index("ix_human_task_group_waiting", "waiting", "group_code",
                            "human_task_id"))

    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(100), primary_key=True)
    waiting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# The audit trail is written by every layer, so its table lives in connectors/.
from connectors.audit import AuditEvent  # noqa: E402,F401


# Tables of deadlines, timers and who stands in for whom live beside their logic.
from . import models_org, models_sla  # noqa: E402,F401  (register their tables)
