"""Inbox queries: plain indexed SQL over the human_task projection."""
from sqlalchemy import func, select

from engine.models import HumanTask, HumanTaskGroup


def _ordered(stmt, sort: str):
    # Tasks without a term go last whichever way the due date is sorted.
    no_due = HumanTask.due_on.is_(None)
    due = HumanTask.due_on.desc() if sort == "-due" else HumanTask.due_on.asc()
    return stmt.order_by(no_due, due, HumanTask.id)


def my_tasks(username: str):
    return select(HumanTask).where(HumanTask.status == "open", HumanTask.assignee == username)


def group_tasks(groups):
    in_groups = select(HumanTaskGroup.human_task_id).where(
        HumanTaskGroup.group_code.in_(sorted(groups)))
    return select(HumanTask).where(HumanTask.status == "open", HumanTask.assignee.is_(None),
                                   HumanTask.id.in_(in_groups))


def page(session, stmt, sort: str, number: int, size: int):
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(_ordered(stmt, sort).offset((number - 1) * size).limit(size)
                           ).scalars().all()
    return rows, total
