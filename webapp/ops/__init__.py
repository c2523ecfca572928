"""Running Dosar in production: health and metrics endpoints, scheduler leadership,
backups. Command modules (`commands_*.py`) each list their click commands in
`COMMANDS`; the app factory adds them to the `dosar` command."""
import importlib
import pkgutil


def register_commands(app) -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("commands_"):
            loaded = importlib.import_module(f"{__name__}.{module.name}")
            for command in getattr(loaded, "COMMANDS", ()):
                app.cli.add_command(command)
