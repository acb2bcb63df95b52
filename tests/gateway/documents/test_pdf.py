"""The certificate PDF, read back the way a viewer and a scanner would: text, fonts, QR code.

pypdf extracts the text and the embedded QR image; zxing-cpp, a real barcode reader, decodes
the image, and the image's modules are also compared one by one with segno's own symbol.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import segno
import zxingcpp
from PIL import Image
from pypdf import PageObject, PdfReader
from pypdf.generic import DictionaryObject, PdfObject, StreamObject

from gateway.documents import KINDS, Labels, render_certificate
from gateway.documents.qr import QUIET_ZONE

ISSUED_AT = datetime(2026, 1, 15, 9, 30)
REFERENCE = "BR-2026-000123"
VERIFY_URL = "https://services.gov.bt/verify/BR-2026-000123?c=7f3a9c"

LATIN: Mapping[str, Any] = {
    "title": "Certificate of Business Registration",
    "issuer": "Ministry of Industry, Commerce and Employment",
    "holder": "Pema Wangmo",
    "fields": [
        {"label": "Business name", "value": "Pema Tshering Shop"},
        {"label": "Business type", "value": "Cottage"},
        {"label": "Dzongkhag", "value": "Thimphu"},
    ],
}

DZONGKHA: Mapping[str, Any] = {
    "title": "ཚོང་ལས་ཐོ་བཀོད་ལག་ཁྱེར",
    "issuer": "ཚོང་དང་འཛུགས་སྐྲུན་ལས་ཁུངས།",
    "holder": "པདྨ་དབང་མོ",
    "fields": [
        {"label": "ཚོང་ཁང་གི་མིང་", "value": "པདྨ་ཚེ་རིང་ཚོང་ཁང་"},
        {"label": "རྫོང་ཁག", "value": "ཐིམ་ཕུ་"},
    ],
}


def render(document: Mapping[str, Any] = LATIN, **options: Any) -> bytes:
    arguments: dict[str, Any] = {
        "reference": REFERENCE,
        "issued_at": ISSUED_AT,
        "verify_url": VERIFY_URL,
    }
    return render_certificate(document, **(arguments | options))


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def compact(text: str) -> str:
    """`text` without whitespace.

    Extraction of Tibetan puts spaces where a vowel sign is shifted onto its letter (pypdf reads
    the shift as a gap), so Tibetan is compared without whitespace; Tibetan separates its
    syllables with the tsheg (་), not with spaces, so nothing of meaning is lost.
    """
    return "".join(text.split())


def dictionary(value: object) -> DictionaryObject:
    """A PDF dictionary, through its indirect reference if need be."""
    if isinstance(value, PdfObject):
        value = value.get_object()
    assert isinstance(value, DictionaryObject)
    return value


def page_fonts(page: PageObject) -> dict[str, DictionaryObject]:
    """The page's fonts by family; subsets are named "ABCDEF+Family", the prefix is dropped."""
    fonts = dictionary(dictionary(page["/Resources"])["/Font"]).values()
    return {str(dictionary(font)["/BaseFont"]).split("+")[-1]: dictionary(font) for font in fonts}


def embedded_fonts(page: PageObject) -> set[str]:
    return set(page_fonts(page))


def qr_image(page: PageObject) -> Image.Image:
    (image,) = page.images
    assert image.image is not None
    return image.image


def test_a_latin_certificate_is_a_one_page_pdf_showing_every_text() -> None:
    pdf = render()

    assert pdf.startswith(b"%PDF-")
    reader = read(pdf)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    expected = [
        LATIN["title"],
        LATIN["issuer"],
        LATIN["holder"],
        *(field["label"] for field in LATIN["fields"]),
        *(field["value"] for field in LATIN["fields"]),
        REFERENCE,
        "2026-01-15",
        VERIFY_URL,
        "Issued to",
        "Date of issue",
    ]
    assert [item for item in expected if item not in text] == []


def test_the_page_is_a4_portrait() -> None:
    box = read(render()).pages[0].mediabox
    # A4 is 210 x 297 mm, i.e. 595.28 x 841.89 points.
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_a_dzongkha_certificate_shows_its_tibetan_texts_in_a_tibetan_font() -> None:
    reader = read(render(DZONGKHA))

    assert len(reader.pages) == 1
    page = reader.pages[0]
    text = compact(page.extract_text())
    expected = [
        DZONGKHA["title"],
        DZONGKHA["issuer"],
        DZONGKHA["holder"],
        *(field[part] for field in DZONGKHA["fields"] for part in ("label", "value")),
        REFERENCE,
    ]
    assert [item for item in expected if compact(item) not in text] == []
    assert {"NotoSerifTibetan", "NotoSerifTibetanBold"} <= embedded_fonts(page)
    assert str(dictionary(reader.trailer["/Root"])["/Lang"]) == "dz"


def test_a_latin_only_certificate_embeds_no_tibetan_font() -> None:
    page = read(render()).pages[0]

    assert embedded_fonts(page) == {"NotoSans", "NotoSansBold"}


def to_unicode(page: PageObject, family: str) -> str:
    """The ToUnicode map of the embedded font `family`: which text each glyph stands for."""
    stream = page_fonts(page)[family]["/ToUnicode"].get_object()
    assert isinstance(stream, StreamObject)
    return stream.get_data().decode("ascii")


def test_tibetan_stacks_are_shaped_into_one_glyph() -> None:
    """Shaping draws ཁྱ (kha with a subjoined ya) as one stacked glyph, not two side by side.

    That glyph stands for both code points, so the font's ToUnicode map pairs one glyph with
    U+0F41 U+0FB1. Without shaping, each code point would get a glyph of its own.
    """
    page = read(render({**DZONGKHA, "title": "ཁྱེར"})).pages[0]

    assert "<0F410FB1>" in to_unicode(page, "NotoSerifTibetanBold")


def test_latin_text_is_shaped_too() -> None:
    """The "fi" of "Certificate" is drawn with the font's ligature, standing for f and i."""
    page = read(render()).pages[0]

    assert "<00660069>" in to_unicode(page, "NotoSansBold")


def test_the_qr_code_decodes_to_the_verify_url() -> None:
    image = qr_image(read(render()).pages[0])

    # Enlarged without smoothing, as a phone camera would see the printed square.
    big = image.convert("L").resize((image.width * 3, image.height * 3), Image.Resampling.NEAREST)
    assert [barcode.text for barcode in zxingcpp.read_barcodes(big)] == [VERIFY_URL]


def test_the_qr_image_is_segnos_symbol_for_the_verify_url_module_by_module() -> None:
    image = qr_image(read(render()).pages[0]).convert("L")
    matrix = segno.make_qr(VERIFY_URL, error="m").matrix
    size = len(matrix) + 2 * QUIET_ZONE
    assert image.width == image.height
    assert image.width % size == 0
    module = image.width // size

    def dark(row: int, column: int) -> bool:
        centre = (
            (column + QUIET_ZONE) * module + module // 2,
            (row + QUIET_ZONE) * module + module // 2,
        )
        value = image.getpixel(centre)
        assert isinstance(value, int)
        return value < 128

    drawn = [[dark(row, column) for column in range(len(matrix))] for row in range(len(matrix))]
    assert drawn == [[bool(bit) for bit in line] for line in matrix]
    # The quiet zone around the symbol is white.
    assert image.crop((0, 0, image.width, QUIET_ZONE * module)).getextrema() == (255, 255)


def test_the_printed_date_is_the_one_in_the_given_time_zone() -> None:
    late_evening_utc = datetime(2026, 1, 15, 20, 30)  # naive: UTC, as in the gateway
    thimphu = timezone(timedelta(hours=6))

    utc_text = read(render(issued_at=late_evening_utc)).pages[0].extract_text()
    local_text = read(render(issued_at=late_evening_utc, timezone=thimphu)).pages[0].extract_text()

    assert "2026-01-15" in utc_text
    assert "2026-01-16" in local_text


def test_the_document_metadata_names_title_issuer_kind_and_reference() -> None:
    metadata = read(render()).metadata

    assert metadata is not None
    assert metadata.title == LATIN["title"]
    assert metadata.author == LATIN["issuer"]
    assert metadata.subject == "Certificate"
    assert metadata.get("/Keywords") == REFERENCE
    assert metadata.creation_date == ISSUED_AT.replace(tzinfo=UTC)


def test_a_permit_says_so_in_its_verify_line_and_metadata() -> None:
    reader = read(render(kind="permit"))

    assert "check that this permit is genuine" in reader.pages[0].extract_text()
    assert reader.metadata is not None
    assert reader.metadata.subject == "Permit"


def test_the_layout_words_can_be_localised() -> None:
    labels = Labels(
        issued_to="ལག་ཁྱེར་འཛིན་མི།",
        reference="གཞི་བསྟུན།",
        issued_on="སྤྲོད་པའི་ཚེས་གྲངས།",
        verify="ཞིབ་དཔྱད་འབད་ནི།",
    )
    text = compact(read(render(DZONGKHA, labels=labels)).pages[0].extract_text())

    for word in (labels.issued_to, labels.reference, labels.issued_on, labels.verify):
        assert compact(word) in text


def test_rendering_is_deterministic_so_a_reissue_is_byte_identical() -> None:
    assert render() == render()
    assert render(DZONGKHA) == render(DZONGKHA)


def test_renders_in_parallel_threads_match_sequential_ones() -> None:
    """Async callers render through asyncio.to_thread, so several renders can overlap."""
    documents = [LATIN, DZONGKHA] * 3
    expected = [render(document) for document in documents]

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(render, documents)) == expected


def test_a_long_document_continues_on_more_pages_each_with_reference_and_qr_code() -> None:
    fields = [{"label": f"Item {n}", "value": f"Value number {n}"} for n in range(60)]
    reader = read(render({**LATIN, "fields": fields}))

    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert REFERENCE in page.extract_text()
        assert len(page.images) == 1
    text = "".join(page.extract_text() for page in reader.pages)
    assert all(f"Value number {n}" in text for n in range(60))


def test_answers_with_control_codes_or_characters_without_glyph_still_render() -> None:
    document = {
        **LATIN,
        "holder": "Pema\x00 Wangmo\r\n",
        "fields": [
            {"label": "Business name", "value": "Shop\tNo.\x07 5 🙂"},
            {"label": "Employees", "value": 3},
        ],
    }
    text = read(render(document)).pages[0].extract_text()

    assert "Pema Wangmo\n" in text
    assert "Shop No. 5" in text
    assert "Employees 3" in text


def test_an_empty_holder_and_no_fields_leave_those_parts_out() -> None:
    text = read(render({"title": "Permit", "issuer": "Civil Aviation"})).pages[0].extract_text()

    assert "Issued to" not in text
    assert "Permit" in text


@pytest.mark.parametrize(
    ("document", "options", "message"),
    [
        ({**LATIN, "title": ""}, {}, "'title'"),
        ({key: value for key, value in LATIN.items() if key != "issuer"}, {}, "'issuer'"),
        ({**LATIN, "fields": "Business name"}, {}, "'fields'"),
        ({**LATIN, "fields": [{"label": "Business name"}]}, {}, "label and a value"),
        (LATIN, {"kind": "licence"}, "unknown document kind"),
        (LATIN, {"verify_url": "javascript:alert(1)"}, "http"),
        (LATIN, {"reference": "  "}, "reference"),
    ],
)
def test_a_malformed_document_or_argument_is_refused(
    document: Mapping[str, Any], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render(document, **options)


def test_kinds_are_certificate_and_permit() -> None:
    assert {"certificate", "permit"} == KINDS
