"""Two instances reaching the same task data at the same moment (two clerks completing
identical steps) both save: the content-addressed row is written once and neither
clerk gets an error. MariaDB only: SQLite lets one writer in at a time."""
import threading

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from engine.models import TaskData
from engine.store import store_task_data
from webapp.database import engine_options

pytestmark = pytest.mark.parametrize("database_url", ["mariadb"], indirect=True)


def test_the_same_new_task_data_saved_by_two_transactions_at_once(app, database_url):
    engine = create_engine(database_url, **engine_options(database_url))
    data = {"a" * 64: '{"decision": "aprobat"}', "b" * 64: '{"decision": "respins"}'}
    first, second = Session(engine), Session(engine)
    store_task_data(first, data)                  # inserted, not committed yet
    outcome = {}

    def save_second():
        try:
            store_task_data(second, data)         # waits for the first transaction
            second.commit()
            outcome["ok"] = True
        except Exception as err:                  # what a clerk would see as an error page
            outcome["error"] = err
    writer = threading.Thread(target=save_second)
    writer.start()
    writer.join(timeout=1.0)
    assert writer.is_alive()                      # blocked on the first one's rows
    first.commit()
    writer.join(timeout=30)
    assert outcome == {"ok": True}, outcome
    with Session(engine) as check:
        assert check.scalar(select(func.count()).select_from(TaskData)) == 2
    first.close(), second.close()
    engine.dispose()
