"""Inbox queries: plain indexed SQL over the human_task projection.

Shaped for a town hall with a million tasks: the page walks the (status, assignee,
due_on) index in term order and stops after one page, checking each open task's
groups by primary key, instead of gathering every task of the groups and sorting."""
from flask import g, has_app_context
from sqlalchemy import exists, func, select, true
from sqlalchemy.orm import joinedload, lazyload, load_only

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
    # Only what the list shows of the task, its instance and its procedure: every
    # column fetched is decoded fifty times a page.
    return stmt.options(
        load_only(HumanTask.id, HumanTask.title, HumanTask.due_on, HumanTask.document_id,
                  HumanTask.instance_id, HumanTask.status, HumanTask.assignee),
        lazyload(HumanTask.groups),
        joinedload(HumanTask.instance).load_only(
            ProcessInstance.id, ProcessInstance.title, ProcessInstance.definition_id)
        .joinedload(ProcessInstance.definition).load_only(ProcessDefinition.id,
                                                          ProcessDefinition.title))


def count(session, stmt, limit: int | None = None) -> int:
    """Tasks the statement selects, counted once per request (the tab and the page
    total ask for the same number). With a `limit`, counting stops at limit + 1:
    a larger number reads as "more than limit" (see `bounded`)."""
    # SQLAlchemy's own statement cache key: far cheaper than compiling to SQL.
    cache_key = stmt._generate_cache_key()
    key = (cache_key.key, repr([b.effective_value for b in cache_key.bindparams]), limit)
    cache = g.setdefault("inbox_counts", {}) if has_app_context() else {}
    if key not in cache:
        ids = stmt.with_only_columns(HumanTask.id)
        if limit is not None:
            ids = ids.limit(limit + 1)
        cache[key] = session.execute(select(func.count()).select_from(ids.subquery())
                                     ).scalar_one()
    return cache[key]


def waiting_count_query(groups, limit: int | None = None):
    """How many tasks wait in these groups, read off the groups' own rows; with a
    `limit`, up to limit + 1. A backlog of ten thousand tasks would otherwise be
    walked on every page view only to print its exact size."""
    ids = (select(HumanTaskGroup.human_task_id).distinct()
           .where(HumanTaskGroup.waiting == true(),
                  HumanTaskGroup.group_code.in_(sorted(groups))))
    if limit is not None:
        ids = ids.limit(limit + 1)
    return select(func.count()).select_from(ids.subquery())


def waiting_count(session, groups, limit: int | None = None) -> int:
    return session.execute(waiting_count_query(groups, limit)).scalar_one() if groups else 0


def _load(session, stmt) -> list[HumanTask]:
    """The tasks a page statement picks, in its order. The ids come first, from the
    index alone; joining the instance and its procedure into that walk makes MariaDB
    weed out duplicates through a temporary table, three times slower."""
    ids = session.execute(stmt.with_only_columns(HumanTask.id)).scalars().all()
    if not ids:
        return []
    found = {t.id: t for t in session.execute(
        _shown(select(HumanTask).where(HumanTask.id.in_(ids)))).unique().scalars()}
    return [found[i] for i in ids if i in found]


def page(session, stmt, sort: str, number: int, size: int) -> list[HumanTask]:
    """One page of tasks by term, those without a term last whichever way it is sorted."""
    offset = (number - 1) * size
    dated = stmt.where(HumanTask.due_on.is_not(None))
    rows = _load(session, dated.order_by(*_order(sort)).offset(offset).limit(size))
    if len(rows) < size:
        # Past the dated tasks: how many there were tells where the undated ones start.
        dated_total = offset + len(rows) if rows or not offset else count(session, dated)
        undated = stmt.where(HumanTask.due_on.is_(None)).order_by(*_order(sort))
        rows += _load(session, undated.offset(max(offset - dated_total, 0))
                      .limit(size - len(rows)))
    return rows
