"""The QR code printed on an issued document, pointing to the page that verifies it.

Anyone handed a certificate (a bank, an officer at a checkpoint) scans the code to see the
registry's own record, so a forged or altered paper is caught. The symbol is made by segno, a
maintained pure-Python encoder, never by hand.
"""

from __future__ import annotations

import io

import segno

# The quiet zone the QR standard requires around the symbol, in modules. Scanners miss codes
# printed without it, so it is part of the image rather than left to the page layout.
QUIET_ZONE = 4

# Level M restores up to 15% of damaged modules, which is enough for paper that gets folded or
# stamped, while keeping the symbol small enough for large modules at a fixed printed size.
# segno raises the level further when that does not need a bigger symbol.
ERROR_LEVEL = "m"


def qr_code(data: str) -> segno.QRCode:
    """The QR symbol for `data`; always a full QR code, since phones often cannot read Micro QR."""
    return segno.make_qr(data, error=ERROR_LEVEL)


def qr_png(data: str, *, module_px: int = 8) -> bytes:
    """A black-on-white PNG of the QR symbol for `data`, quiet zone included.

    Each module is `module_px` pixels square. A whole number of pixels per module keeps every
    edge sharp when a viewer or printer scales the image, instead of relying on its smoothing.
    """
    buffer = io.BytesIO()
    qr_code(data).save(buffer, kind="png", scale=module_px, border=QUIET_ZONE)
    return buffer.getvalue()
