"""Render the certificate or permit a submission issues, as an A4 PDF.

The engine hands over a `document` mapping whose texts are already in the citizen's language
(English or Dzongkha):

    {"title": "Certificate of Business Registration",
     "issuer": "Ministry of Industry, Commerce and Employment",
     "holder": "Pema Wangmo",
     "fields": [{"label": "Business name", "value": "Pema Tshering Shop"}, ...]}

The page shows the issuer, the title, the holder and the fields as a label/value table, and at
the foot the reference, the date of issue and a QR code pointing to the page that verifies the
document, with that address printed beside it for people without a scanner.

Dzongkha is written in Tibetan script, whose letters stack vertically and take vowel signs
above and below: it is unreadable without OpenType shaping. fpdf2 shapes text with HarfBuzz
(the `uharfbuzz` package), and the fonts (Noto Sans for Latin, Noto Serif Tibetan as the
fallback for Tibetan letters) ship in `fonts/` beside this module, so rendering needs nothing
from the machine beyond `pip install`.

Rendering is CPU-bound (on one core of a CI machine, a median of about 65 ms for a Latin
document and 90 ms for a Dzongkha one, most of it parsing and subsetting the fonts): call it
through `asyncio.to_thread` from async code. Calls share no mutable state of ours, so they may
run in parallel threads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from io import BytesIO
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, VAlign, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from gateway.documents.qr import qr_png

KINDS: Final = frozenset({"certificate", "permit"})

FONT_DIR: Final = Path(__file__).with_name("fonts")
LATIN_FAMILY: Final = "notosans"
TIBETAN_FAMILY: Final = "notoseriftibetan"
_FONT_FILES: Final = {
    (LATIN_FAMILY, ""): "NotoSans-Regular.ttf",
    (LATIN_FAMILY, "B"): "NotoSans-Bold.ttf",
    (TIBETAN_FAMILY, ""): "NotoSerifTibetan-Regular.ttf",
    (TIBETAN_FAMILY, "B"): "NotoSerifTibetan-Bold.ttf",
}

# Geometry, in millimetres, on a portrait A4 page.
PAGE_WIDTH: Final = 210.0
PAGE_HEIGHT: Final = 297.0
MARGIN: Final = 20.0
CONTENT_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN
QR_SIZE: Final = 32.0  # big enough for a phone at arm's length, modules of about 0.8 mm
FOOTER_HEIGHT: Final = 50.0  # reference, date, QR code and verify address
POINT: Final = 25.4 / 72  # one typographic point in millimetres

ACCENT: Final = (31, 58, 95)
MUTED: Final = (88, 96, 105)
RULE: Final = (190, 196, 204)
BLACK: Final = (0, 0, 0)

# Tibetan stacks reach far above and below the line, so lines holding it need more leading.
LEADING_LATIN: Final = 1.35
LEADING_TIBETAN: Final = 1.8
# At the same point size Tibetan letters look a third smaller than Latin ones (their body sits
# low in the em square): texts holding Tibetan are set larger so both read alike.
TIBETAN_SCALE: Final = 1.3

_CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Labels:
    """The few words the layout adds around the issuer's own texts.

    The engine localises the document's texts but not these, so they default to English and a
    caller issuing a Dzongkha document passes Dzongkha ones. In `verify`, `{kind}` stands for
    the document's kind ("certificate" or "permit").
    """

    issued_to: str = "Issued to"
    reference: str = "Reference"
    issued_on: str = "Date of issue"
    verify: str = "Scan the code or open this address to check that this {kind} is genuine:"


@dataclass(frozen=True, slots=True)
class _Content:
    """The document's texts, checked and cleaned, plus what the layout derives from them."""

    title: str
    issuer: str
    holder: str
    fields: tuple[tuple[str, str], ...]
    reference: str
    issued_on: str
    verify_url: str
    verify_text: str
    labels: Labels

    def texts(self) -> list[str]:
        return [
            self.title,
            self.issuer,
            self.holder,
            *(text for field in self.fields for text in field),
            self.verify_text,
            *(self.labels.issued_to, self.labels.reference, self.labels.issued_on),
        ]


def render_certificate(
    document: Mapping[str, Any],
    *,
    reference: str,
    issued_at: datetime,
    verify_url: str,
    kind: str = "certificate",
    labels: Labels | None = None,
    timezone: tzinfo | None = None,
) -> bytes:
    """The PDF of `document` (see the module docstring for its shape), as bytes.

    `reference` is the submission's reference (e.g. BR-2026-000123), `issued_at` when the
    document was issued (a naive datetime is UTC, as everywhere in the gateway), `verify_url`
    the public address that confirms the document, and `kind` one of `KINDS`. The date printed
    is the one in `timezone` (default: `issued_at`'s own, so UTC for a naive one): pass the
    country's zone, or a document issued at 2 a.m. in Thimphu shows the day before.
    Raises ValueError if the document or an argument is malformed.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}: expected one of {sorted(KINDS)}")
    if not verify_url.startswith(("https://", "http://")):
        raise ValueError(f"verify_url must be an http(s) address, got {verify_url!r}")
    labels = labels or Labels()
    issued = issued_at if issued_at.tzinfo else issued_at.replace(tzinfo=UTC)
    if timezone is not None:
        issued = issued.astimezone(timezone)
    content = _Content(
        title=_required_text(document, "title"),
        issuer=_required_text(document, "issuer"),
        holder=_clean(document.get("holder") or ""),
        fields=_fields(document.get("fields") or ()),
        reference=_clean(reference),
        # ISO 8601 reads the same in English and Dzongkha and needs no month names.
        issued_on=issued.strftime("%Y-%m-%d"),
        verify_url=verify_url,
        verify_text=labels.verify.replace("{kind}", kind),
        labels=labels,
    )
    if not content.reference:
        raise ValueError("reference must not be empty")
    tibetan = any(_has_tibetan(text) for text in content.texts())

    pdf = _DocumentPDF(content, tibetan=tibetan)
    pdf.set_title(content.title)
    pdf.set_author(content.issuer)
    pdf.set_subject(kind.capitalize())
    pdf.set_keywords(content.reference)
    pdf.set_creator("gov-gateway")
    pdf.set_lang("dz" if tibetan else "en")
    # A fixed date (not "now"), in an explicit zone (not the machine's), makes the output a
    # pure function of its inputs: re-issuing a document yields the very same bytes.
    pdf.set_creation_date(issued)
    pdf.add_page()
    pdf.body()
    _drop_layout_tables(pdf)
    return bytes(pdf.output())


class _DocumentPDF(FPDF):
    """One document: a frame on every page, the body, and the verification footer.

    The footer is drawn by fpdf2's `footer()` hook, so a document whose fields run onto a
    second page carries its reference and QR code on every page.
    """

    def __init__(self, content: _Content, *, tibetan: bool) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.content = content
        # Encoded once: a document running onto several pages draws it on each of them, and
        # fpdf2 embeds identical images only once.
        self.qr_image = qr_png(content.verify_url)
        self.leading = LEADING_TIBETAN if tibetan else LEADING_LATIN
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + FOOTER_HEIGHT + 4)
        fonts = _font_files()
        for (family, style), path in fonts.items():
            # The Tibetan faces cost time to load and subset: only documents using them do.
            if family == LATIN_FAMILY or tibetan:
                self.add_font(family, style, path)
        if tibetan:
            # Latin text stays in Noto Sans; a character Noto Sans lacks (every Tibetan one)
            # is looked up in Noto Serif Tibetan, in the same weight.
            self.set_fallback_fonts([TIBETAN_FAMILY], exact_match=False)
        self.set_text_shaping(True)

    def line_height(self, size_pt: float) -> float:
        return size_pt * POINT * self.leading

    def use(
        self, size_pt: float, *, bold: bool = False, color: tuple[int, int, int] = BLACK
    ) -> None:
        self.set_font(LATIN_FAMILY, "B" if bold else "", size_pt)
        self.set_text_color(*color)

    def write_lines(
        self, text: str, size_pt: float, *, width: float, align: Align = Align.L, **style: Any
    ) -> None:
        """`text` wrapped to `width` from the current position, then move to the next line."""
        size = _size_for(text, size_pt)
        self.use(size, **style)
        self.multi_cell(
            width,
            self.line_height(size),
            text,
            align=align,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def centered(self, text: str, size_pt: float, **style: Any) -> None:
        self.write_lines(text, size_pt, width=CONTENT_WIDTH, align=Align.C, **style)

    def header(self) -> None:
        """A double rule framing the page, in the accent colour."""
        self.set_draw_color(*ACCENT)
        self.set_line_width(0.8)
        self.rect(9, 9, PAGE_WIDTH - 18, PAGE_HEIGHT - 18)
        self.set_line_width(0.2)
        self.rect(11, 11, PAGE_WIDTH - 22, PAGE_HEIGHT - 22)
        self.set_y(MARGIN + 4)

    def body(self) -> None:
        content = self.content
        self.centered(content.issuer, 12, bold=True, color=ACCENT)
        self.set_draw_color(*ACCENT)
        self.set_line_width(0.4)
        middle = PAGE_WIDTH / 2
        self.line(middle - 25, self.get_y() + 3, middle + 25, self.get_y() + 3)
        self.ln(12)
        self.centered(content.title, 22, bold=True)
        if content.holder:
            self.ln(8)
            self.centered(content.labels.issued_to, 10, color=MUTED)
            self.centered(content.holder, 16, bold=True)
        if content.fields:
            self.ln(10)
            self.fields_table(content.fields)

    def fields_table(self, fields: Sequence[tuple[str, str]]) -> None:
        self.use(11)
        # One line height serves the whole table: the one the tallest text needs.
        size = max(_size_for(text, 11) for field in fields for text in field)
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        with self.table(
            width=CONTENT_WIDTH,
            col_widths=(36, 64),
            first_row_as_headings=False,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            text_align=(Align.L, Align.L),
            v_align=VAlign.T,
            line_height=self.line_height(size),
            padding=(2.5, 2),
        ) as table:
            for label, value in fields:
                row = table.row()
                row.cell(label, style=FontFace(color=MUTED, size_pt=_size_for(label, 11)))
                row.cell(value, style=FontFace(size_pt=_size_for(value, 11)))

    def footer(self) -> None:
        """Reference and date on the left, the QR code on the right, the address below them."""
        content = self.content
        top = PAGE_HEIGHT - MARGIN - FOOTER_HEIGHT
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(MARGIN, top, PAGE_WIDTH - MARGIN, top)

        qr_x = PAGE_WIDTH - MARGIN - QR_SIZE
        self.image(
            BytesIO(self.qr_image),
            x=qr_x,
            y=top + 4,
            w=QR_SIZE,
            h=QR_SIZE,
            link=content.verify_url,
            alt_text=content.verify_url,
        )

        text_width = qr_x - MARGIN - 6
        self.set_xy(MARGIN, top + 4)
        for label, value, size in (
            (content.labels.reference, content.reference, 13),
            (content.labels.issued_on, content.issued_on, 11),
        ):
            self.write_lines(label, 8.5, width=text_width, color=MUTED)
            self.write_lines(value, size, width=text_width, bold=True)
            self.ln(1.5)
        self.write_lines(content.verify_text, 7.5, width=text_width, color=MUTED)
        start = self.get_y()
        self.write_lines(content.verify_url, 7.5, width=text_width, color=ACCENT)
        self.link(MARGIN, start, text_width, self.get_y() - start, content.verify_url)


@cache
def _font_files() -> Mapping[tuple[str, str], Path]:
    """The font files by (family, style), checked once per process."""
    files = {key: FONT_DIR / name for key, name in _FONT_FILES.items()}
    missing = sorted(str(path) for path in files.values() if not path.is_file())
    if missing:
        raise FileNotFoundError(
            f"document fonts missing: {', '.join(missing)} (is the package data installed?)"
        )
    return MappingProxyType(files)


def _drop_layout_tables(pdf: FPDF) -> None:
    """Free the in-memory fonts of their OpenType layout tables before the PDF is written.

    HarfBuzz has already shaped every line, reading the font files themselves, and fpdf2
    leaves these tables out of the embedded subsets anyway. But fontTools' subsetter decompiles
    every lookup in them before dropping them: with Noto Serif Tibetan's large tables, that was
    two thirds of the time of a Dzongkha document (a median of 250 ms, 80 ms without). Dropping
    them first embeds the same glyphs (only those the shaped text uses), faster. `FPDF.fonts`
    and `TTFFont.ttfont` are public attributes of fpdf2; the shaping tests would catch a change
    in fpdf2 that made these tables needed after layout.
    """
    for font in pdf.fonts.values():
        if isinstance(font, TTFFont):
            for tag in ("GSUB", "GPOS", "GDEF"):
                if tag in font.ttfont:
                    del font.ttfont[tag]


def _required_text(document: Mapping[str, Any], key: str) -> str:
    text = _clean(document.get(key) or "")
    if not text:
        raise ValueError(f"the document needs a non-empty {key!r}")
    return text


def _fields(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValueError("the document's 'fields' must be a list of {label, value} mappings")
    fields = []
    for field in raw:
        if not isinstance(field, Mapping) or "label" not in field or "value" not in field:
            raise ValueError(f"a document field needs a label and a value, got {field!r}")
        fields.append((_clean(field["label"]), _clean(field["value"])))
    return tuple(fields)


def _clean(value: object) -> str:
    """`value` as one printable text: answers come from phones and may hold control codes."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL_CHARACTERS.sub("", text).strip()


def _size_for(text: str, size_pt: float) -> float:
    return size_pt * TIBETAN_SCALE if _has_tibetan(text) else size_pt


def _has_tibetan(text: str) -> bool:
    return any("\u0f00" <= character <= "\u0fff" for character in text)
