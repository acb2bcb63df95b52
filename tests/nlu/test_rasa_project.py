"""The Rasa project exported from the real services: complete, valid, deterministic.

Rasa itself reads it in `test_rasa_integration.py`; these checks need no Rasa and say
precisely what is missing when the export breaks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialogs.catalog import Catalog
from dialogs.messages import BUILTIN_INTENTS
from nlu.rasa_project import (
    HEADER,
    OUT_OF_SCOPE,
    PROJECT_FILES,
    export_project,
    original_length,
    out_of_scope_examples,
    project_files,
    rasa_text,
    segment,
)
from nlu.rasa_runtime import RasaFailedError, RasaUnavailableError, project_hash, train
from nlu.training import training_data

# Rasa's annotation: [text]{"entity": ...} or [text](entity)
ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")


@pytest.fixture(scope="module")
def project(services_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("rasa-project")
    export_project(services_catalog, directory)
    return directory


def load(project: Path, name: str) -> Any:
    return yaml.safe_load((project / name).read_text(encoding="utf-8"))


def sections(project: Path, kind: str) -> dict[str, list[str]]:
    """`intent`/`synonym`/`regex`/`lookup` sections of data/nlu.yml: name -> examples."""
    found: dict[str, list[str]] = {}
    for item in load(project, "data/nlu.yml")["nlu"]:
        if kind in item:
            lines = item["examples"].splitlines()
            assert all(line.startswith("- ") for line in lines), lines
            found[item[kind]] = [line[2:] for line in lines]
    return found


def test_every_file_is_yaml_marked_generated(project: Path) -> None:
    for name in PROJECT_FILES:
        text = (project / name).read_text(encoding="utf-8")
        assert text.startswith(HEADER)
        assert isinstance(yaml.safe_load(text), dict)


def test_config_is_a_small_data_pipeline(project: Path) -> None:
    config = load(project, "config.yml")
    assert config["recipe"] == "default.v1"
    assert (config["language"], config["assistant_id"]) == ("en", "gov-gateway")
    names = [step["name"] for step in config["pipeline"]]
    assert names[0] == "WhitespaceTokenizer"
    for name in (
        "RegexFeaturizer",
        "LexicalSyntacticFeaturizer",
        "DIETClassifier",
        "RegexEntityExtractor",
        "EntitySynonymMapper",
    ):
        assert name in names
    analyzers = [
        s.get("analyzer", "word") for s in config["pipeline"] if "CountVectors" in s["name"]
    ]
    assert analyzers == ["word", "char_wb"]
    diet = next(s for s in config["pipeline"] if s["name"] == "DIETClassifier")
    assert diet["constrain_similarities"] is True
    assert 50 <= diet["epochs"] <= 200
    extractor = next(s for s in config["pipeline"] if s["name"] == "RegexEntityExtractor")
    assert extractor["case_sensitive"] is False
    assert extractor["use_lookup_tables"]
    assert extractor["use_regexes"]
    # The synonym mapper must run after the extractor whose values it maps.
    assert names.index("EntitySynonymMapper") > names.index("RegexEntityExtractor")


def test_domain_names_every_intent_and_entity(project: Path, services_catalog: Catalog) -> None:
    domain = load(project, "domain.yml")
    assert domain["version"] == "3.1"
    services = [s.id for s in services_catalog.menu()]
    assert len(services) >= 4
    assert set(domain["intents"]) == {*services, *BUILTIN_INTENTS, OUT_OF_SCOPE}
    assert set(domain["entities"]) == {"cid", "phone", "dzongkhags", "business_activities"} | {
        e.name for e in training_data(services_catalog).lists
    }
    assert domain["session_config"]["session_expiration_time"] > 0


def test_every_intent_has_examples_and_none_is_shared(
    project: Path, services_catalog: Catalog
) -> None:
    intents = sections(project, "intent")
    assert set(intents) == {
        *(s.id for s in services_catalog.menu()),
        *BUILTIN_INTENTS,
        OUT_OF_SCOPE,
    }
    plain: dict[str, str] = {}
    for intent, examples in intents.items():
        assert len(examples) >= 2, intent
        for example in examples:
            text = ANNOTATION.sub(lambda m: m.group(1), example).casefold()
            assert text not in plain, f"{example!r} in {intent} and {plain.get(text)}"
            plain[text] = intent


def test_definition_phrases_are_examples(project: Path) -> None:
    examples = sections(project, "intent")
    business = [ANNOTATION.sub(lambda m: m.group(1), e) for e in examples["business-registration"]]
    assert "I want to register my shop" in business
    # Dzongkha keywords too, as Rasa is given them: syllables, then the English hints.
    assert rasa_text("ཚོང་ལས་ཐོ་བཀོད") == "ཚོང ལས ཐོ བཀོད business register"
    assert "ཚོང ལས ཐོ བཀོད business register" in business


def test_segment_splits_tibetan_into_syllables() -> None:
    assert segment("ཌྲོན་གཏང་ནིའི་ཆོག་ཐམ།") == "ཌྲོན གཏང ནིའི ཆོག ཐམ"
    assert segment("ང་ལུ་ བཟོ་གྲྭ།  དགོ་།") == "ང ལུ བཟོ གྲྭ དགོ"
    assert segment("  drone   permit in Paro ") == "drone permit in Paro"
    assert segment("།") == ""
    assert segment("ཁ་པར་༡༧༠༠༠༠༠༡") == "ཁ པར 17000001"  # Tibetan digits as ASCII


def test_english_keywords_are_also_examples_in_dzongkha(project: Path) -> None:
    """Where the glossary has every word: services defined in English only still have
    Dzongkha examples."""
    intents = sections(project, "intent")
    assert "ཌོན ཆོག ཐམ drone permit" in intents["drone-flight-authorization"]
    assert "བཱས ཆོག ཐམ bus permit" in intents["bus-service-permit"]
    assert "གཡར ས ཆ lease land" in intents["industrial-park-lease"]


def test_a_bare_option_of_a_shared_list_is_out_of_scope(project: Path) -> None:
    """Dzongkhags are asked for by several services: "Gasa" alone names none of them."""
    examples = sections(project, "intent")[OUT_OF_SCOPE]
    assert '[Gasa]{"entity": "dzongkhags", "value": "gasa"}' in examples
    assert not any("industrial_parks" in e or "business_activities" in e for e in examples)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("drone permit in paro", "drone permit in paro"),  # nothing to add
        ("ཌྲོན་གི་ཆོག་ཐམ།", "ཌྲོན གི ཆོག ཐམ drone permit"),  # glossary
        ("new biz lic pls", "new biz lic pls business licence please"),  # shorthand
        ("tshong khang tho koed", "tshong khang tho koed shop register"),  # romanised
        ("apply for a licence", "apply for a licence"),  # a hint it already has: none
    ],
)
def test_rasa_text_appends_english_hints_after_the_message(text: str, sent: str) -> None:
    assert rasa_text(text) == sent
    assert sent[: original_length(text)] == segment(text)


def test_out_of_scope_examples_are_general_and_deterministic(project: Path) -> None:
    examples = out_of_scope_examples()
    assert examples == out_of_scope_examples()
    assert len(examples) == len(set(examples)) >= 100
    assert "Wangchuk Sonam" in examples  # people
    assert "Karma Enterprises" in examples  # firms
    assert "ཀརྨ་བཟང་མོ" in examples  # people in Dzongkha
    assert "tell me a joke" in examples  # off-topic
    assert "25/11/2024" in examples  # numbers
    assert "zxcvbn" in examples  # keyboard mashing
    # The integration test asks about this name: it must not be learnt by heart.
    assert "Karma Wangchuk" not in examples
    # No example names a service, a list option or a command word.
    service_words = re.compile(
        r"\b(permit|licen[cs]e|regist\w*|shop|bus|drone|land|plot|help|status|cancel|stop|"
        r"menu|yes|no)\b",
        re.IGNORECASE,
    )
    assert [e for e in examples if service_words.search(e)] == []
    intent = sections(project, "intent")[OUT_OF_SCOPE]
    assert "Karma Enterprises" in intent
    assert "ཀརྨ བཟང མོ" in intent


def test_phrases_about_a_service_teach_status_and_stop(project: Path) -> None:
    intents = sections(project, "intent")
    assert "status of my bus permit" in intents["status"]
    assert "cancel my bus permit application" in intents["stop"]
    for intent in ("status", "stop"):
        about = [e for e in intents[intent] if "drone" in e]
        assert len(about) >= 3, (intent, about)


def test_list_names_in_examples_are_annotated_with_the_option_value(project: Path) -> None:
    drone = sections(project, "intent")["drone-flight-authorization"]
    assert 'permit for drone photography in [Paro]{"entity": "dzongkhags", "value": "paro"}' in (
        drone
    )


def test_every_entity_is_annotated_at_least_twice(project: Path) -> None:
    """Rasa's RegexEntityExtractor ignores a lookup or regex no example annotates, and
    warns below two annotations."""
    counts: dict[str, int] = {}
    for examples in sections(project, "intent").values():
        for example in examples:
            for match in ANNOTATION.finditer(example):
                kind = yaml.safe_load(match.group(2))["entity"]
                counts[kind] = counts.get(kind, 0) + 1
    entities = load(project, "domain.yml")["entities"]
    assert {kind: counts.get(kind, 0) >= 2 for kind in entities} == dict.fromkeys(entities, True)


def test_regexes_match_ids_and_phone_numbers(project: Path) -> None:
    regexes = sections(project, "regex")
    assert {"cid", "phone"} <= set(regexes)
    (cid,) = regexes["cid"]
    (phone,) = regexes["phone"]
    assert re.search(cid, "my cid is 11512000123 thanks")
    assert not re.search(cid, "1151200012")
    for number in ("17123456", "+975 77123456", "97517123456"):
        assert re.search(phone, f"call {number}"), number


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("drone permit in Paro", "Paro"),
        ("drone PARO", "PARO"),
        ("bus to samdrup jongkhar tomorrow", "samdrup jongkhar"),
        ("Parody", None),  # whole words only
        ("སྤ་རོ་", "སྤ རོ"),  # Tibetan: at the end, as syllables
        ("ང་སྤ་རོ་ལུ་འགྱོ་ནི", "སྤ རོ"),  # inside a sentence without spaces
        ("ང་ སྤ་རོ།", "སྤ རོ"),  # a shad, a space after a syllable mark
        ("སྤ་རོལ", None),  # not a syllable of its own
    ],
)
def test_dzongkhag_names_are_found_as_rasa_matches_them(
    project: Path, text: str, found: str | None
) -> None:
    """Patterns built as Rasa's RegexEntityExtractor builds them (lookups in `\\b`,
    regexes as written, any case), on the text the client sends."""
    text = rasa_text(text)
    lookups = sections(project, "lookup")["dzongkhags"]
    patterns = [r"(\b" + r"\b|\b".join(re.escape(e) for e in lookups) + r"\b)"]
    patterns += sections(project, "regex")["dzongkhags"]
    matches = [m.group() for p in patterns for m in re.finditer(p, text, re.IGNORECASE)]
    assert matches == ([found] if found else [])


def test_lookups_and_synonyms_map_names_to_option_values(project: Path) -> None:
    lookups = sections(project, "lookup")
    assert {"dzongkhags", "business_activities"} <= set(lookups)
    assert {"Paro", "Samdrup Jongkhar", "Thimphu"} <= set(lookups["dzongkhags"])
    assert len(lookups["dzongkhags"]) == 20
    synonyms = sections(project, "synonym")
    assert "སྤ རོ" in synonyms["paro"]  # as `segment` gives it
    assert "Samdrup Jongkhar" in synonyms["samdrup_jongkhar"]
    # Every synonym is a name the lookup tables or the (Tibetan) regexes find.
    regexes = sections(project, "regex")
    for value, texts in synonyms.items():
        for text in texts:
            assert any(text in names for names in lookups.values()) or any(
                re.fullmatch(pattern, text) for (pattern,) in regexes.values()
            ), (value, text)
    # No name means two options (Rasa's synonym mapper is global).
    owners: dict[str, str] = {}
    for value, texts in synonyms.items():
        for text in texts:
            assert owners.setdefault(text.lower(), value) == value


def test_export_is_deterministic(services_catalog: Catalog, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    export_project(services_catalog, first)
    export_project(services_catalog, second)
    for name in PROJECT_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert project_hash(first) == project_hash(second)
    assert project_files(services_catalog) == {
        name: (first / name).read_text(encoding="utf-8") for name in PROJECT_FILES
    }


def test_a_changed_project_has_another_hash(services_catalog: Catalog, tmp_path: Path) -> None:
    export_project(services_catalog, tmp_path)
    before = project_hash(tmp_path)
    nlu = tmp_path / "data" / "nlu.yml"
    nlu.write_text(nlu.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert project_hash(tmp_path) != before


# The model cache, keyed by the project's hash. A stand-in `rasa` script records each
# training (the real training is in test_rasa_integration.py and takes minutes).
FAKE_RASA = """#!/bin/sh
echo "$*" >> "$RASA_CALLS"
[ -n "$RASA_FAIL" ] && { echo "training exploded"; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in --out) out="$2"; shift;; --fixed-model-name) name="$2"; shift;; esac
  shift
done
echo "model" > "$out/$name.tar.gz"
"""


@pytest.fixture
def fake_rasa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "rasa-home"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "rasa").write_text(FAKE_RASA, encoding="utf-8")
    (home / "bin" / "rasa").chmod(0o755)
    calls = tmp_path / "calls"
    monkeypatch.setenv("GATEWAY_RASA_HOME", str(home))
    monkeypatch.setenv("GATEWAY_RASA_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("RASA_CALLS", str(calls))
    monkeypatch.delenv("RASA_FAIL", raising=False)
    return calls


def trainings(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_an_unchanged_project_is_trained_once(
    services_catalog: Catalog, tmp_path: Path, fake_rasa: Path
) -> None:
    project = tmp_path / "project"
    export_project(services_catalog, project)
    first = train(project)
    assert (first.cached, trainings(fake_rasa)) == (False, 1)
    assert first.path == tmp_path / "models" / f"{project_hash(project)}.tar.gz"
    assert "train nlu --config" in fake_rasa.read_text()
    again = train(project, tmp_path / "out")
    assert (again.cached, trainings(fake_rasa)) == (True, 1)
    assert again.path == tmp_path / "out" / first.path.name
    assert again.path.read_bytes() == first.path.read_bytes()

    nlu = project / "data" / "nlu.yml"
    nlu.write_text(nlu.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = train(project)
    assert (changed.cached, trainings(fake_rasa)) == (False, 2)
    assert changed.path != first.path
    assert not train(project, force=True).cached
    assert trainings(fake_rasa) == 3


def test_a_failed_training_leaves_no_model(
    services_catalog: Catalog, tmp_path: Path, fake_rasa: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_project(services_catalog, tmp_path / "project")
    monkeypatch.setenv("RASA_FAIL", "1")
    with pytest.raises(RasaFailedError, match="training exploded"):
        train(tmp_path / "project")
    assert list((tmp_path / "models").iterdir()) == []


def test_a_missing_rasa_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_RASA_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(RasaUnavailableError, match="make rasa"):
        train(tmp_path)
