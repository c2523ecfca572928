"""The demo town hall on a SQLite file of its own, for test modules that share one app
among many cases (the authorization matrix, the hostile-script corpus, the API fuzzing)."""
from pathlib import Path

PROCESSES = Path(__file__).resolve().parent.parent / "processes"


def demo_town(folder: Path, **overrides):
    """A migrated app with the demo town hall loaded; no app context left pushed."""
    from webapp import create_app
    from webapp.database import db
    from webapp.demo import load_demo
    from webapp.migrations import upgrade
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'dosar.db'}",
                      "TESTING": True, "DATA_DIR": str(folder),
                      "STORAGE_DIR": str(folder / "files"),
                      "SEARCH_PATH": str(folder / "search.sqlite"),
                      "SCAN_INBOX_DIR": str(folder / "scanari"), "SECRET_KEY": "test",
                      **overrides})
    with app.app_context():
        upgrade()
        load_demo(PROCESSES)
        db.session.remove()
    return app
