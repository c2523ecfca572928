"""`dosar archive …` commands. Each screen module adds its own commands to this group
(`@archive_cli.command(...)`), so the commands sit beside the screens they mirror."""
from flask.cli import AppGroup

archive_cli = AppGroup("archive", help="Arhiva electronică: verificare, scanări, "
                                       "nomenclator, eliminare.")
