"""W240 grouped: one warning per step naming every language it lacks and in which texts,
and the count of missing texts per language `gateway check` prints."""

from __future__ import annotations

from dialogs.checks import translations
from dialogs.loader import load_text

SERVICE = """\
format: 1
id: permit
version: 1
title: {en: Permit, dz: ཆོག་ཐམ, fr: Permis}
languages: [en, dz, fr]
steps:
  - id: kind
    type: choice
    prompt: {en: "Which permit?", fr: "Quel permis ?"}
    help: Daily or weekly
    options: [Daily, Weekly]
  - id: done
    type: end
    prompt: {en: Thank you., dz: བཀྲིན་ཆེ, fr: Merci.}
"""


def test_a_step_gets_one_warning_naming_its_languages_and_texts() -> None:
    loaded = load_text(SERVICE, "permit.yaml")
    assert loaded.definition is not None
    (warning,) = [p for p in translations.run(loaded) if p.code == "W240"]
    assert (warning.line, warning.col) == (9, 13)  # the first text to translate: prompt
    assert warning.message == (
        "step 'kind': no translation in dz (prompt, help, options ×2), fr (help, options ×2);"
        " English is shown instead"
    )
    assert warning.hint == "Write each text as `{dz: ..., en: ..., fr: ...}`."


def test_missing_texts_are_counted_per_language() -> None:
    loaded = load_text(SERVICE, "permit.yaml")
    assert loaded.definition is not None
    assert translations.missing_by_language(loaded.definition) == {"dz": 4, "fr": 3}
    assert translations.missing_totals([loaded.definition, loaded.definition]) == [
        "dz: 8 texts missing",
        "fr: 6 texts missing",
    ]
