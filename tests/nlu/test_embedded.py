"""The embedded classifier: intents, typos and shorthand, entities, junk, confidence."""

from __future__ import annotations

import asyncio

import pytest

from dialogs.catalog import Catalog
from dialogs.messages import BUILTIN_INTENTS, Entity, Meaning
from nlu.embedded import ACT, UNDERSTOOD, EmbeddedClassifier
from nlu.evaluation import EvalCase, evaluate
from nlu.training import EntityList, IntentData, TrainingData

BR = "business-registration"
DR = "drone-flight-authorization"
BUS = "bus-service-permit"
IP = "industrial-park-lease"
# A small development set of our own (not the held-out evaluation set).
DEV: list[tuple[str, str | None]] = [
    ("i would like to register a business", BR),
    ("registr my new shop la", BR),
    ("need licence for my small shop", BR),
    ("how to open a restaurant business", BR),
    ("bizness registration", BR),
    ("I want to start a tailoring shop in Thimphu", BR),
    ("trade lisence", BR),
    ("new company registration pls", BR),
    ("tshong khang thokoed bae go", BR),
    ("ཚོང་ལས་ཐོ་བཀོད་འབད་ནི", BR),
    ("register my bakery", BR),
    ("drone", DR),
    ("fly drone in bumthang", DR),
    ("permission for aerial photos", DR),
    ("can i fly my quadcopter", DR),
    ("uav permit", DR),
    ("drone lisence pls", DR),
    ("I want to take drone shots of the dzong", DR),
    ("droen flight", DR),
    ("bus route permit for thimphu to punakha", BUS),
    ("i want to operate a bus", BUS),
    ("passenger bus licence", BUS),
    ("start bus service", BUS),
    ("bus permt", BUS),
    ("run buses between paro and haa", BUS),
    ("lease plot in industrial estate", IP),
    ("land for my factory", IP),
    ("industrial park plot", IP),
    ("i need a plot at jigmeling", IP),
    ("lease land for manufacturing", IP),
    ("indstrial park", IP),
    ("help pls", "help"),
    ("i need some help", "help"),
    ("what can u do", "help"),
    ("how does it work", "help"),
    ("hlp", "help"),
    ("status of my application", "status"),
    ("check status", "status"),
    ("is my application approved", "status"),
    ("track my appl", "status"),
    ("any update on my permit", "status"),
    ("stop it", "stop"),
    ("cancel pls", "stop"),
    ("i want to exit", "stop"),
    ("quit now", "stop"),
    ("main menu pls", "menu"),
    ("show services", "menu"),
    ("back to menu", "menu"),
    ("hello there", "greet"),
    ("hii", "greet"),
    ("good morning la", "greet"),
    ("kuzu zangpo", "greet"),
    ("yes", "affirm"),
    ("yup", "affirm"),
    ("ok la", "affirm"),
    ("yes correct", "affirm"),
    ("ing lasso", "affirm"),
    ("no", "deny"),
    ("nope", "deny"),
    ("no that's wrong", "deny"),
    ("men", "deny"),
    ("asdfgh", None),
    ("Pema Wangmo", None),
    ("12345", None),
    ("Tashi Enterprises", None),
    ("Sonam Dorji", None),
    ("qwerty uiop", None),
    ("the weather is nice", None),
    ("😀😀", None),
    ("11501001234", None),
    ("Druk Foods Pvt Ltd", None),
    ("Karma Store", None),
]
# Longer, chattier messages.
DEV2: list[tuple[str, str | None]] = [
    (
        "hello, my cousin and I are thinking of opening a momo stall near the bus station,"
        " what paperwork do we need",
        BR,
    ),
    ("sir i have small grocery, need to make it official", BR),
    ("how much does it cost to register a cafe", BR),
    ("my wife sells handicrafts at home, should she register", BR),
    ("got a new DJI mini, am I allowed to fly it around Thimphu", DR),
    ("need clearance for filming with a drone at a festival", DR),
    ("is flying a camera drone legal here", DR),
    ("want to shoot aerial footage for a documentary", DR),
    ("we have two coaches and want to start a service to Gelephu", BUS),
    ("how do I get permission to carry passengers on the Paro route", BUS),
    ("apply bus permit for school children transport", BUS),
    ("looking for a site to put up a small cement factory", IP),
    ("can my company get an industrial plot in Samtse", IP),
    ("any vacant land in the industrial estate for rent", IP),
    ("I don't know what to do", "help"),
    ("can someone explain this to me", "help"),
    ("i'm stuck", "help"),
    ("has my drone permit been approved yet", "status"),
    ("what is happening with my registration", "status"),
    ("I submitted my lease application, any news?", "status"),
    ("stop messaging me", "stop"),
    ("i dont want to do this anymore", "stop"),
    ("cancel everything", "stop"),
    ("take me back to the main menu", "menu"),
    ("what else can i apply for", "menu"),
    ("show me the list of services please", "menu"),
    ("hey good afternoon", "greet"),
    ("hello la", "greet"),
    ("sure, go ahead", "affirm"),
    ("yes that's right", "affirm"),
    ("correct la", "affirm"),
    ("no, that's not right", "deny"),
    ("nah not that", "deny"),
    ("wrong one", "deny"),
    ("Dorji Wangchuk", None),
    ("Yangchen Hardware", None),
    ("how is the weather in paro", None),
    ("17123456", None),
    ("lol", None),
    ("what time is the football match", None),
]


@pytest.fixture(scope="module")
def classifier(services_catalog: Catalog) -> EmbeddedClassifier:
    return EmbeddedClassifier.from_catalog(services_catalog)


def intent_of(classifier: EmbeddedClassifier, text: str) -> str | None:
    return classifier.understand(text, "en").intent


def test_dev_set_accuracy(classifier: EmbeddedClassifier) -> None:
    report = asyncio.run(evaluate(classifier.classify, [EvalCase(t, i) for t, i in DEV + DEV2]))
    assert report.accuracy >= 0.9, report.format()


@pytest.mark.parametrize(("text", "intent"), DEV)
def test_dev_messages(classifier: EmbeddedClassifier, text: str, intent: str | None) -> None:
    assert intent_of(classifier, text) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("reg biz", BR),
        ("regstr my bussiness", BR),
        ("biz lic pls", BR),
        ("drone permit pls", DR),
        ("dron permt", DR),
        ("buss route permt", BUS),
        ("industral plot leese", IP),
        ("appl status", "status"),
        ("chk my appln", "status"),
        ("hlp", "help"),
        ("yep", "affirm"),
        ("nah", "deny"),
    ],
)
def test_typos_and_shorthand(classifier: EmbeddedClassifier, text: str, intent: str) -> None:
    meaning = classifier.understand(text, "en")
    assert meaning.intent == intent, meaning


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("help", "help"),
        ("what is the status of my application", "status"),
        ("stop", "stop"),
        ("menu", "menu"),
        ("hello", "greet"),
        ("yes", "affirm"),
        ("no", "deny"),
        ("གྲོགས་རམ", "help"),
        ("གནས་སྟངས", "status"),
        ("kuzuzangpo la", "greet"),
        ("lasso", "affirm"),
        ("mena", "deny"),
    ],
)
def test_each_builtin_intent(classifier: EmbeddedClassifier, text: str, intent: str) -> None:
    meaning = classifier.understand(text, "en")
    assert (meaning.intent, meaning.confidence >= ACT) == (intent, True), meaning


def test_every_builtin_intent_is_trained(classifier: EmbeddedClassifier) -> None:
    trained = {item.intent for item in classifier.data.intents}
    assert set(BUILTIN_INTENTS) <= trained


@pytest.mark.parametrize(
    "text",
    [
        "nga gi tshong khang tho bkod",
        "tshongkhang thokoed",
        "ང་ཚོང་ཁང་ཐོ་བཀོད་འབད་དགོ",
        "ཚོང་ལག་ཁྱེར",
    ],
)
def test_dzongkha_script_and_romanised(classifier: EmbeddedClassifier, text: str) -> None:
    assert intent_of(classifier, text) == BR


def test_status_of_a_service_is_status(classifier: EmbeddedClassifier) -> None:
    assert intent_of(classifier, "status of my drone permit") == "status"
    assert intent_of(classifier, "drone permit") == DR


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "asdfgh",
        "Pema Wangmo",
        "Tashi Enterprises",
        "12345",
        "2",  # shorthand for "to": only a stopword is left
        "🙂🙂🙂",
        "\x00\x07\x1b[31m",
        "?!?!",
        "x" * 10_000,
        "drone " * 2_000,
        "༡༢༣",
        "ཀཁག",
    ],
)
def test_odd_input_never_raises(classifier: EmbeddedClassifier, text: str) -> None:
    meaning = classifier.understand(text, "en")
    assert 0.0 <= meaning.confidence <= 1.0
    assert meaning.source == "embedded"
    assert meaning.text == text
    if text.strip() and not text.startswith("drone"):
        assert meaning.intent is None, meaning


def test_confidence_bands(classifier: EmbeddedClassifier) -> None:
    clear = classifier.understand("I want to register my business", "en")
    assert clear.confidence >= ACT
    # "permit" alone could be a drone or a bus permit: not acted on.
    vague = classifier.understand("permit", "en")
    assert vague.confidence < ACT
    assert classifier.understand("asdfgh", "en").confidence < UNDERSTOOD
    # A business name: one service word beside an unknown name is not acted on.
    assert classifier.understand("Karma Store", "en").confidence < UNDERSTOOD


def test_none_below_the_threshold(classifier: EmbeddedClassifier) -> None:
    for text, _ in DEV + DEV2:
        meaning = classifier.understand(text, "en")
        assert (meaning.intent is None) == (meaning.confidence < UNDERSTOOD), meaning


def test_ranking(classifier: EmbeddedClassifier) -> None:
    meaning = classifier.understand("permit for my bus route", "en")
    assert meaning.intent == BUS
    assert 1 < len(meaning.ranking) <= 5
    assert meaning.ranking[0] == (meaning.intent, meaning.confidence)
    values = [value for _, value in meaning.ranking]
    assert values == sorted(values, reverse=True)
    assert len({intent for intent, _ in meaning.ranking}) == len(meaning.ranking)
    assert all(0.0 <= value <= 1.0 for value in values)


def test_deterministic(services_catalog: Catalog) -> None:
    texts = [text for text, _ in DEV + DEV2]
    first = EmbeddedClassifier.from_catalog(services_catalog)
    second = EmbeddedClassifier.from_catalog(services_catalog)
    once = [first.understand(t, "en") for t in texts]
    assert once == [first.understand(t, "en") for t in texts]
    assert once == [second.understand(t, "en") for t in texts]


async def test_classify_is_understand(classifier: EmbeddedClassifier) -> None:
    meaning = await classifier.classify("drone permit in paro", "dz")
    assert isinstance(meaning, Meaning)
    assert meaning == classifier.understand("drone permit in paro", "dz")
    assert classifier.name == "embedded"


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        ("drone in Paro", [Entity("dzongkhags", "paro")]),
        ("drone in Paaro", [Entity("dzongkhags", "paro")]),
        ("fly over སྤ་རོ་", [Entity("dzongkhags", "paro")]),
        (
            "bus from thimpu to samdrup jongkhar",
            [Entity("dzongkhags", "thimphu"), Entity("dzongkhags", "samdrup_jongkhar")],
        ),
        ("I want to run a bus", []),
        ("lease a plot in Pasakha", [Entity("industrial_parks", "pasakha")]),
        ("register my bakery", [Entity("business_activities", "bakery")]),
        ("my cid is 11501001234", [Entity("cid", "11501001234")]),
        ("call me on +975 17123456", [Entity("phone", "17123456")]),
        ("97577123456", [Entity("phone", "77123456")]),
        ("ངོ་སྤྲོད ༡༡༥༠༡༠༠༡༢༣༤", [Entity("cid", "11501001234")]),
        ("a park near my house", []),
        ("gas station", []),
    ],
)
def test_entities(classifier: EmbeddedClassifier, text: str, entities: list[Entity]) -> None:
    assert list(classifier.understand(text, "en").entities) == entities


def test_entities_do_not_make_an_intent(classifier: EmbeddedClassifier) -> None:
    meaning = classifier.understand("Paro", "en")
    assert meaning.intent is None
    assert meaning.entities == (Entity("dzongkhags", "paro"),)


def test_from_training_with_handmade_data() -> None:
    data = TrainingData(
        [
            IntentData(
                "fishing-licence",
                examples={"en": ["I want to go fishing"]},
                keywords={"en": ["fishing licence", "angling"]},
            ),
            IntentData("help", examples={"en": ["help me"]}),
        ],
        [EntityList("rivers", {"punatsangchhu": ["Punatsangchhu"]})],
    )
    classifier = EmbeddedClassifier.from_training(data)
    meaning = classifier.understand("fishng licence on the punatsangchu", "en")
    assert meaning.intent == "fishing-licence"
    assert meaning.entities == (Entity("rivers", "punatsangchhu"),)
    assert classifier.understand("angling", "en").intent == "fishing-licence"
    assert classifier.understand("drone", "en").intent is None
