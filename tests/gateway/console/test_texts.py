"""The console's texts: every one the pages say is in each language's catalogue (so a
translator sees them all), and no translation breaks its placeholders."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from gateway.console.pages import LANGUAGES

CONSOLE = Path(__file__).resolve().parents[3] / "gateway" / "console"


def _said() -> set[str]:
    with (CONSOLE / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found = extract_from_dir(
        str(CONSOLE),
        method_map,
        options_map,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    )
    ids: set[str] = set()
    for _filename, _line, message, _comments, _context in found:
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def _catalog(lang: str) -> Catalog:
    with (CONSOLE / "locale" / lang / "LC_MESSAGES" / "console.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_every_text_of_the_pages_is_in_every_catalogue() -> None:
    said = _said()
    assert "Sign in" in said
    assert "Return for correction" in said
    for lang in set(LANGUAGES) - {"en"}:
        kept = {
            str(message.id if isinstance(message.id, str) else message.id[0])
            for message in _catalog(lang)
            if message.id
        }
        missing = sorted(said - kept)
        assert not missing, (
            f"not in the {lang} catalogue: {missing}; run pybabel extract and update "
            "(gateway/console/babel.cfg says how)"
        )


def test_no_translation_breaks_its_placeholders() -> None:
    for lang in set(LANGUAGES) - {"en"}:
        problems = [(message.id, errors) for message, errors in _catalog(lang).check()]
        assert problems == []
