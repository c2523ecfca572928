"""Archive search (/arhiva/). Placeholder until the search screen lands."""
from flask import render_template

from webapp.auth.session import login_required

from . import bp


@bp.route("/")
@login_required
def search():
    return render_template("error.html", title="Arhivă", message="În lucru."), 200
