"""Dosar's web application (Flask application factory)."""
from pathlib import Path

from flask import Flask, g, has_request_context, render_template, request
from flask_babel import Babel, gettext as _, lazy_gettext
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.timers import local_today

from . import config
from .database import db, engine_options, may_write, normalise_url
from .dates import due_badge

csrf = CSRFProtect()
babel = Babel()

# Romanian is the source language: it has no catalogue, its strings are the msgids.
LANGUAGES = ("ro", "en")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

ACTION_LABELS = {
    "instance.started": lazy_gettext("a înregistrat și a pornit procedura"),
    "instance.completed": lazy_gettext("procedura s-a încheiat"),
    "instance.cancelled": lazy_gettext("procedura a fost oprită (înregistrare anulată)"),
    "task.claimed": lazy_gettext("a preluat sarcina"),
    "task.unclaimed": lazy_gettext("a eliberat sarcina"),
    "task.completed": lazy_gettext("a finalizat"),
    "procedure.deployed": lazy_gettext("a publicat procedura"),
    "task.delegated": lazy_gettext("sarcina a trecut la înlocuitor (absență)"),
    "task.reassigned": lazy_gettext("a redistribuit sarcina"),
    "deadline.extended": lazy_gettext("a prelungit termenul"),
    "deadline.paused": lazy_gettext("termenul a fost suspendat (se așteaptă completări)"),
    "deadline.resumed": lazy_gettext("termenul curge din nou"),
    "deadline.variant": lazy_gettext("s-a aplicat alt termen legal"),
    "deadline.stopped": lazy_gettext("termenul s-a oprit (răspuns expediat)"),
    "deadline.reminder": lazy_gettext("memento: termenul se apropie"),
    "deadline.escalated": lazy_gettext("termen depășit: șeful a fost anunțat"),
    "deadline.tacit_approval": lazy_gettext("termen expirat: aprobare tacită"),
    "message.delivered": lazy_gettext("a primit un mesaj"),
    "timer.fired": lazy_gettext("un eveniment temporizat s-a declanșat"),
    "timer.failed": lazy_gettext("un eveniment temporizat a eșuat"),
    "entry.cancelled": lazy_gettext("a anulat înregistrarea"),
    "entry.linked": lazy_gettext("a conexat documentul"),
    "archive.document_added": lazy_gettext("a adăugat documentul"),
    "archive.version_added": lazy_gettext("a încărcat o versiune nouă"),
    "archive.document_read": lazy_gettext("a descărcat documentul"),
    "archive.text_extracted": lazy_gettext("textul documentului a fost extras"),
    "archive.text_failed": lazy_gettext("extragerea textului a eșuat"),
    "archive.filed": lazy_gettext("documentul a fost clasat în dosar"),
    "archive.document_destroyed": lazy_gettext("documentul a fost eliminat (termen expirat)"),
    "archive.batch_received": lazy_gettext("a primit un lot scanat"),
    "archive.batch_split": lazy_gettext("lotul scanat a fost împărțit în documente"),
    "archive.batch_failed": lazy_gettext("lotul scanat nu a putut fi citit"),
    "archive.segment_matched": lazy_gettext("a atașat documentul scanat"),
    "archive.folder_closed": lazy_gettext("a închis dosarul"),
    "archive.year_closed": lazy_gettext("a închis anul arhivistic"),
    "archive.folder_exported": lazy_gettext("a exportat dosarul"),
    "archive.folder_disposed": lazy_gettext("dosarul a fost eliminat"),
    "archive.folder_disposal_skipped": lazy_gettext("dosarul nu a fost eliminat (blocat)"),
    "archive.hold_placed": lazy_gettext("a blocat dosarul (reținere legală)"),
    "archive.hold_lifted": lazy_gettext("a ridicat reținerea legală"),
    "archive.verified": lazy_gettext("a verificat integritatea arhivei"),
    "archive.reindexed": lazy_gettext("a reindexat căutarea"),
    "disposal.proposed": lazy_gettext("a propus o listă de eliminare"),
    "disposal.approved": lazy_gettext("comisia a aprobat lista de eliminare"),
    "disposal.rejected": lazy_gettext("comisia a respins lista de eliminare"),
    "disposal.executed": lazy_gettext("a executat eliminarea aprobată"),
    "nomenclator.file_created": lazy_gettext("a adăugat un dosar în nomenclator"),
    "nomenclator.file_changed": lazy_gettext("a modificat un dosar din nomenclator"),
    "nomenclator.imported": lazy_gettext("a importat nomenclatorul"),
    "job.retried": lazy_gettext("a repus în coadă o lucrare eșuată"),
    "absence.recorded": lazy_gettext("a înregistrat o absență"),
    "absence.cancelled": lazy_gettext("a anulat o absență"),
    "delegation.revoked": lazy_gettext("a revocat o delegare de semnătură"),
    "archive.folder_opened": lazy_gettext("a deschis dosarul"),
    "register.created": lazy_gettext("a creat un registru"),
    "register.exported": lazy_gettext("a exportat registrul"),
    "registry.confidential_read": lazy_gettext("a consultat o înregistrare confidențială"),
    "user.created": lazy_gettext("a creat contul"),
    "user.logged_in": lazy_gettext("s-a autentificat"),
    "user.logged_out": lazy_gettext("a ieșit din aplicație"),
    "user.login_failed": lazy_gettext("autentificare eșuată"),
    "user.password_changed": lazy_gettext("și-a schimbat parola"),
    "user.second_factor_enabled": lazy_gettext("a activat al doilea factor"),
    "user.second_factor_disabled": lazy_gettext("a dezactivat al doilea factor"),
    "user.directory_sync": lazy_gettext("contul a fost actualizat din director"),
    "mail.sent": lazy_gettext("a fost trimis un e-mail"),
    "audit.sealed": lazy_gettext("a sigilat evenimentele noi în lanț"),
    "audit.verified": lazy_gettext("a verificat lanțul jurnalului de audit"),
    "audit.exported": lazy_gettext("a exportat jurnalul de audit"),
    "backup.created": lazy_gettext("a făcut o copie de siguranță"),
    "backup.restored": lazy_gettext("a restaurat o copie de siguranță"),
}

# Importing the models registers every table on the shared metadata.
import engine.models  # noqa: E402,F401
import connectors.registry.models  # noqa: E402,F401
import webapp.auth.models  # noqa: E402,F401
import archive.models  # noqa: E402,F401
import connectors.jobs.models  # noqa: E402,F401


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    url = normalise_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(url, app.config))

    if app.config["PROXY_HOPS"]:
        # Behind the load balancer: the client's address and scheme come from the
        # X-Forwarded-* headers the proxies set, trusted only that many hops deep
        # (login throttling per address and the audit trail depend on it).
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops)
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, default_locale="ro", default_translation_directories=str(TRANSLATIONS),
                   locale_selector=current_language)
    _register_blueprints(app)
    _register_hooks(app)
    from .archive.cli import archive_cli
    from .ops import register_commands
    app.cli.add_command(archive_cli)
    register_commands(app)
    _configure_archive(app)
    from .mailing import configure as configure_mail
    configure_mail(app)
    return app


def _configure_archive(app: Flask) -> None:
    import archive
    from archive.settings import ArchiveSettings, configure
    c = app.config
    configure(ArchiveSettings(
        storage_dir=c["STORAGE_DIR"], ocr_languages=c["OCR_LANGUAGES"],
        search_backend=c["SEARCH_BACKEND"], search_path=c["SEARCH_PATH"],
        elasticsearch_url=c["ELASTICSEARCH_URL"], elasticsearch_index=c["ELASTICSEARCH_INDEX"],
        scan_inbox_dir=c["SCAN_INBOX_DIR"], max_upload_bytes=c["MAX_CONTENT_LENGTH"]))
    archive.load()


def current_language() -> str:
    """The interface language: `?lang=`, else the cookie set by /limba/<code>, else Romanian.
    Also asked before `choose_language` has run (e.g. for a CSRF error)."""
    if not has_request_context():         # the `dosar` command speaks Romanian
        return "ro"
    lang = g.get("lang") or request.args.get("lang") or request.cookies.get("lang") or "ro"
    return lang if lang in LANGUAGES else "ro"


def _register_blueprints(app: Flask) -> None:
    from .archive import bp as archive_bp, load_views
    from .auth.views import bp as auth_bp
    from .inbox.views import bp as inbox_bp
    from .indicators.views import bp as indicators_bp
    from .instances.views import bp as instances_bp
    from .org.views import bp as org_bp
    from .registry.views import bp as registry_bp
    load_views()
    for bp in (auth_bp, inbox_bp, instances_bp, registry_bp, indicators_bp, org_bp, archive_bp):
        app.register_blueprint(bp)
    from .account.views import bp as account_bp; app.register_blueprint(account_bp)   # /cont
    from .api.views import bp as api_bp; app.register_blueprint(api_bp)   # /api/openapi.json
    from .ops.views import bp as ops_bp; app.register_blueprint(ops_bp)   # health, metrics
    from .audit.views import bp as audit_bp; app.register_blueprint(audit_bp)   # /audit


def _register_hooks(app: Flask) -> None:
    from .auth.session import load_current_user

    @app.before_request
    def declare_read_only():
        # GET and HEAD never change anything: on SQLite they need not queue for the
        # write lock (webapp/database.py).
        if request.method in ("GET", "HEAD"):
            g.read_only_token = may_write.set(False)

    @app.teardown_request
    def end_read_only(exc):
        token = g.pop("read_only_token", None)
        if token is not None:
            may_write.reset(token)

    app.before_request(load_current_user)

    @app.before_request
    def choose_language():
        # Romanian is the UI language; English where the user asks for it.
        g.lang = current_language()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'")
        return response

    @app.template_filter("action_label")
    def action_label(action: str) -> str:
        return str(ACTION_LABELS.get(action, action))

    @app.template_global("due")
    def due(on):
        # A page of tasks sorted by term shows the same few days over and over.
        badges = g.setdefault("due_badges", {})
        if on not in badges:
            badges[on] = due_badge(on, local_today())
        return badges[on]

    @app.context_processor
    def template_globals():
        return {"today": local_today(), "lang": current_language()}

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return render_template("error.html", title=_("Formular expirat"),
                               message=_("Formularul a expirat sau nu provine din aplicație. "
                                         "Reîncărcați pagina și trimiteți din nou.")), 400

    @app.errorhandler(403)
    def forbidden(err):
        return render_template("error.html", title=_("Acces interzis"),
                               message=_("Nu aveți drepturi pentru această pagină.")), 403

    @app.errorhandler(404)
    def not_found(err):
        return render_template("error.html", title=_("Pagina nu există"),
                               message=_("Pagina cerută nu există.")), 404

    @app.errorhandler(413)
    def too_large(err):
        return render_template("error.html", title=_("Fișier prea mare"),
                               message=_("Fișierele trimise depășesc dimensiunea maximă "
                                         "acceptată.")), 413

    @app.teardown_request
    def rollback_unfinished(exc):
        # Anything not committed by the handler is undone, never half-saved.
        if exc is not None:
            db.session.rollback()
