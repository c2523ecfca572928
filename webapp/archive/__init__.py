"""The electronic archive's screens (/arhiva): files on register entries, scan
batches and the manual-matching queue, search, the nomenclator with its yearly
folders, disposal lists. The rules live in `archive/`; these modules only check
parameters and permissions, then call them.

Each screen family has its own module; they share the blueprint and the group names.
"""
from flask import Blueprint, current_app, g

from archive.storage import LocalStorage

bp = Blueprint("archive", __name__, url_prefix="/arhiva", template_folder="templates")

ARCHIVISTS = frozenset({"arhiva", "admin"})          # keep the nomenclator and the folders
COMMISSION = frozenset({"comisie-arhiva"})          # approve disposal lists
SCANNERS = frozenset({"registratura", "arhiva"})    # feed scans, match them by hand


@bp.app_context_processor
def archive_menu_rights():
    def archive_menu() -> dict:
        groups = g.user.groups if g.get("user") else frozenset()
        return {"scans": bool(groups & SCANNERS),
                "disposal": bool(groups & (ARCHIVISTS | COMMISSION | {"secretar"}))}
    return {"archive_menu": archive_menu}


def archive_storage() -> LocalStorage:
    return LocalStorage(current_app.config["STORAGE_DIR"])


def load_views() -> None:
    """Import every screen module so its routes join the blueprint."""
    import importlib
    import pkgutil
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("views_"):
            importlib.import_module(f"{__name__}.{module.name}")
