"""The optional second factor for staff: a time-based one-time code (TOTP, RFC 6238)
from an authenticator app. pyotp does the arithmetic; a code is accepted one step
(30 s) either side, for clocks a little apart."""
from io import StringIO

import pyotp
from markupsafe import Markup
from reportlab.graphics import renderSVG
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

ISSUER = "Dosar"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, town_hall: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=f"{ISSUER} {town_hall}")


def code_is_valid(secret: str | None, code: str) -> bool:
    code = "".join((code or "").split())
    return bool(secret) and code.isdigit() and len(code) == 6 and \
        pyotp.TOTP(secret).verify(code, valid_window=1)


def qr_svg(text: str, size: int = 200) -> Markup:
    """The enrolment QR as inline SVG (no image file, no external service)."""
    widget = QrCodeWidget(text)
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    out = StringIO()
    renderSVG.drawToFile(drawing, out)
    svg = out.getvalue()
    return Markup(svg[svg.index("<svg"):])
