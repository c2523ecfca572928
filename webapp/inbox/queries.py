"""Inbox queries: plain indexed SQL over the human_task projection.

Shaped for a town hall with a million tasks: the page walks the (status, assignee,
due_on) index in term order and stops after one page, checking each open task's
groups by primary key, instead of gathering every task of the groups and sorting."""
from flask import g, has_app_context
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, load_only

from engine.models import HumanTask, HumanTaskGroup, ProcessDefinition, ProcessInstance


def my_tasks(username: str):
    return select(HumanTask).where(HumanTask.status == "open", HumanTask.assignee == username)


def group_tasks(groups):
    in_groups = exists().where(HumanTaskGroup.human_task_id == HumanTask.id,
                               HumanTaskGroup.group_code.in_(sorted(groups)))
    return select(HumanTask).where(HumanTask.status == "open", HumanTask.assignee.is_(None),
                                   in_groups)


def _order(sort: str):
    # The index order itself (id is the index's last key), so no sort step is needed.
    if sort == "-due":
        return HumanTask.due_on.desc(), HumanTask.id.desc()
    return HumanTask.due_on.asc(), HumanTask.id.asc()


def _shown(stmt):
    # What the list shows of the instance and its procedure, not their large columns.
    return stmt.options(
        joinedload(HumanTask.instance).load_only(
            ProcessInstance.id, ProcessInstance.title, ProcessInstance.definition_id)
        .joinedload(ProcessInstance.definition).load_only(ProcessDefinition.id,
                                                          ProcessDefinition.title))


def count(session, stmt) -> int:
    """Tasks the statement selects, counted once per request (the tab and the page
    total ask for the same number)."""
    # SQLAlchemy's own statement cache key: far cheaper than compiling to SQL.
    cache_key = stmt._generate_cache_key()
    key = (cache_key.key, repr([b.effective_value for b in cache_key.bindparams]))
    cache = g.setdefault("inbox_counts", {}) if has_app_context() else {}
    if key not in cache:
        cache[key] = session.execute(
            select(func.count()).select_from(stmt.with_only_columns(HumanTask.id).subquery())
        ).scalar_one()
    return cache[key]


def waiting_count(session, groups) -> int:
    """How many tasks wait in these groups: read off the groups' own rows."""
    if not groups:
        return 0
    return session.execute(select(func.count(func.distinct(HumanTaskGroup.human_task_id)))
                           .where(HumanTaskGroup.waiting.is_(True),
                                  HumanTaskGroup.group_code.in_(sorted(groups)))).scalar_one()


def page(session, stmt, sort: str, number: int, size: int, total: int | None = None):
    """One page of tasks by term, those without a term last whichever way it is sorted."""
    total = count(session, stmt) if total is None else total
    offset = (number - 1) * size
    dated = stmt.where(HumanTask.due_on.is_not(None))
    rows = session.execute(_shown(dated.order_by(*_order(sort)).offset(offset).limit(size))
                           ).unique().scalars().all()
    if len(rows) < size:
        # Past the dated tasks: how many there were tells where the undated ones start.
        dated_total = offset + len(rows) if rows or not offset else count(session, dated)
        undated = stmt.where(HumanTask.due_on.is_(None)).order_by(*_order(sort))
        rows += session.execute(_shown(undated.offset(max(offset - dated_total, 0))
                                       .limit(size - len(rows)))).unique().scalars().all()
    return rows, total
