"""The embedded intent classifier: nearest training phrase, with fuzzy words, no server.

How a message is read:
1. Entities first (`nlu.entities`): IDs, phone numbers and list names become placeholder
   words, so "bus from Thimphu to Paro" reads as "bus from @dzongkhags to @dzongkhags".
2. Words are normalised (`nlu.normalise`), shorthand expanded (`nlu.shorthand`: "biz"
   -> "business"), lightly stemmed.
3. Each word is mapped to a word of the training vocabulary: exactly, as a prefix
   ("regis" -> "register"), within a small edit distance ("dron", "permt", with rapidfuzz),
   or split in two ("tshongkhang"). Mappings are cached per word.
4. Words weigh by how specific they are: a word found in one intent's phrases weighs more
   than one shared by many (inverse document frequency over intents); stopwords weigh
   little; a word that matches nothing weighs like a specific word, because an unknown
   word is usually a name ("Tashi Enterprises") or another topic.
5. Each intent scores by its best training phrase: the F1 of how much of the message the
   phrase explains and how much of the phrase the message covers, blended with how much
   of the message the intent's whole vocabulary explains (long messages mix phrases).
6. Confidence is that score, lowered when the runner-up is close (an ambiguous "permit")
   and when only stopwords matched; below `UNDERSTOOD` there is no intent.

The `lang` of a message is not used to match: citizens mix languages, and romanised
Dzongkha arrives on English sessions. Everything is built once in the constructor; a
message costs a few dictionary look-ups per word and one pass over the phrases it shares
a word with.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from dialogs.messages import BUILTIN_INTENTS, Meaning
from nlu.entities import PLACEHOLDER, EntityFinder
from nlu.glossary import translate
from nlu.normalise import is_tibetan, stem, words
from nlu.shorthand import expand
from nlu.stopwords import STOPWORDS
from nlu.training import TrainingData, training_data

# The engine's thresholds: act at ACT, ask to confirm between UNDERSTOOD and ACT.
ACT = 0.8
UNDERSTOOD = 0.5

STOPWORD_WEIGHT = 0.15
UNKNOWN_WEIGHT = 1.6  # a word matching nothing: about as specific as a one-intent word
UNKNOWN_SHORT_WEIGHT = 0.4  # one or two letters, digits, an unknown Tibetan syllable
PLACEHOLDER_SHARE = 0.5  # an entity counts half: "Paro" alone asks for no service
PREFIX_SIMILARITY = 0.85
BAG_SHARE = 0.35  # how much the whole-vocabulary score counts against the best phrase
RANKED = 5
SINGLE_WORD_SHARE = 0.75
# Built-in intents that are about a service: their cue words (stemmed) combine with each
# short service phrase into a training phrase of the built-in intent.
COMPOSED: dict[str, tuple[str, ...]] = {
    "status": ("status", "approv", "track", "updat", "progress", "ready", "issu"),
    "stop": ("cancel", "stop", "withdraw"),
}


@dataclass(frozen=True, slots=True)
class _Phrase:
    intent: str
    weights: dict[str, float]  # vocabulary word -> weight
    total: float
    cue: str | None = None  # a composed phrase counts only when its cue word is there
    telling: bool = True  # has a word besides stopwords (and so is not indexed by them)


class EmbeddedClassifier:
    """Intent and entities of free text, from the catalog's own keywords and examples."""

    name = "embedded"

    def __init__(self, data: TrainingData) -> None:
        self.data = data
        texts = [(item.intent, str(text)) for item in data.intents for _, text in item.phrases()]
        # Entity names are never read as misspellings of the vocabulary: build the finder
        # with the plain vocabulary, then read the phrases with entities found.
        plain = {word for _, text in texts for word in self._tokens(words(text))}
        self._finder = EntityFinder(data.lists, data.patterns, frozenset(plain) | STOPWORDS)
        phrase_words: list[tuple[str, set[str]]] = []
        for intent, text in texts:  # str(): YAML may have read `yes` as a bool
            found = set(self._tokens(self._finder.find(text).words))
            if found:
                phrase_words.append((intent, found))

        # Weights from the catalog's own phrases: inverse frequency over intents.
        holders: dict[str, set[str]] = defaultdict(set)
        for intent, found in phrase_words:
            for word in found:
                holders[word].add(intent)
        count = max(1, len(data.intents))
        self._weight: dict[str, float] = {}
        for word, owners in holders.items():
            weight = math.log(1 + count / len(owners))
            if word in STOPWORDS:
                weight = STOPWORD_WEIGHT
            elif word.startswith(PLACEHOLDER):
                weight *= PLACEHOLDER_SHARE
            self._weight[word] = weight
        self._owners = {word: frozenset(owners) for word, owners in holders.items()}
        self._intent_words: dict[str, set[str]] = defaultdict(set)
        for intent, found in phrase_words:
            self._intent_words[intent] |= found

        self._phrases: list[_Phrase] = []
        self._index: dict[str, list[int]] = defaultdict(list)
        for intent, found in phrase_words:
            self._add_phrase(intent, found)
        for intent, found, cue in _about_services(data, phrase_words):
            self._weight.setdefault(cue, math.log(1 + count))
            self._add_phrase(intent, found | {cue}, cue)
        self._latin = sorted(
            w
            for w in self._weight
            if w not in STOPWORDS and not w.startswith(PLACEHOLDER) and not is_tibetan(w)
        )
        self._mapped: dict[str, tuple[tuple[str, float], ...]] = {}

    @classmethod
    def from_training(cls, data: TrainingData) -> EmbeddedClassifier:
        return cls(data)

    @classmethod
    def from_catalog(cls, catalog: Any) -> EmbeddedClassifier:
        """Trained on the published services of a `dialogs.catalog.Catalog`."""
        return cls(training_data(catalog))

    async def classify(self, text: str, lang: str) -> Meaning:
        return self.understand(text, lang)

    def understand(self, text: str, lang: str) -> Meaning:
        """What `text` asks for. Never raises: odd input is simply not understood."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        found = self._finder.find(text)
        weights: dict[str, float] = {}  # message word -> its weight in the message
        matches: dict[str, float] = {}  # vocabulary word -> similarity of its best match
        unknown = 0  # words that match nothing and look like words
        for token in dict.fromkeys(self._tokens(found.words)):
            mapped = self._map(token)
            if not mapped:
                weights[token] = _unknown_weight(token)
                unknown += weights[token] >= UNKNOWN_WEIGHT
                continue
            weights[token] = max(self._weight[word] for word, _ in mapped)
            for word, similarity in mapped:
                matches[word] = max(similarity, matches.get(word, 0.0))
        total = sum(weights.values())
        if not matches or total <= 0:
            return Meaning(text, entities=found.entities, source=self.name)
        scores = self._scores(matches, total)
        if not scores:  # only stopwords, or only words of phrases that need a cue
            return Meaning(text, entities=found.entities, source=self.name)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:RANKED]
        best, score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        confidence = score * (1 - 0.5 * (runner_up / score) ** 6) if score > 0 else 0.0
        evidence = sum(
            1
            for word in matches
            if word in self._intent_words[best]
            and word not in STOPWORDS
            and not word.startswith(PLACEHOLDER)
        )
        if evidence == 0 and score < 0.99:
            confidence *= 0.6  # only stopwords or entities matched, and not a whole phrase
        elif evidence == 1 and unknown:
            # One telling word beside a word we do not know is what a name looks like
            # ("Tashi Enterprises", "Karma Store"): ask rather than act, at most.
            confidence *= SINGLE_WORD_SHARE
        if evidence >= 2 and runner_up <= 0.6 * score:
            # Several telling words of one intent and no rival: worth asking about, even
            # when a long message has many words we do not know.
            confidence = max(confidence, min(ACT - 0.01, 0.5 + 0.1 * evidence))
        confidence = round(min(1.0, max(0.0, confidence)), 4)
        # The others scaled as the best was, so the ranking keeps its order and its gaps.
        scale = confidence / score if score > 0 else 0.0
        ranking = (
            (best, confidence),
            *((intent, round(min(value * scale, confidence), 4)) for intent, value in ranked[1:]),
        )
        return Meaning(
            text,
            best if confidence >= UNDERSTOOD else None,
            confidence,
            ranking,
            found.entities,
            self.name,
        )

    # --- scoring -------------------------------------------------------------------

    def _scores(self, matches: dict[str, float], total: float) -> dict[str, float]:
        """Each intent's score in [0, 1] for a message of `total` weight."""
        overlap: dict[int, float] = defaultdict(float)
        bag: dict[str, float] = defaultdict(float)
        for word, similarity in matches.items():
            gained = self._weight[word] * similarity
            for position in self._index.get(word, ()):
                overlap[position] += gained
            for intent in self._owners.get(word, ()):
                bag[intent] += gained
        stop = [(w, s) for w, s in matches.items() if w in STOPWORDS]
        best: dict[str, float] = {}
        for position, matched in overlap.items():
            phrase = self._phrases[position]
            if phrase.cue is not None and phrase.cue not in matches:
                continue
            if stop and phrase.telling:
                # Stopwords were not indexed for this phrase: add what they bring.
                matched += sum(phrase.weights.get(w, 0.0) * s for w, s in stop)
            precision = min(1.0, matched / total)
            recall = min(1.0, matched / phrase.total)
            score = 2 * precision * recall / (precision + recall)
            if phrase.cue is None:
                # Blend in how much the intent's whole vocabulary explains: long
                # messages draw on several phrases of one intent.
                explained = min(1.0, bag[phrase.intent] / total)
                score = (1 - BAG_SHARE) * score + BAG_SHARE * explained
            if score > best.get(phrase.intent, 0.0):
                best[phrase.intent] = score
        return best

    def _add_phrase(self, intent: str, found: set[str], cue: str | None = None) -> None:
        weights = {word: self._weight[word] for word in found}
        telling = [w for w in weights if w not in STOPWORDS]
        position = len(self._phrases)
        self._phrases.append(_Phrase(intent, weights, sum(weights.values()), cue, bool(telling)))
        # Index by the telling words only: a stopword is in hundreds of phrases, and a
        # phrase that shares only stopwords with a message cannot win anyway. A phrase
        # of stopwords alone ("what can I do here") is indexed by them.
        for word in telling or weights:
            self._index[word].append(position)

    # --- words ---------------------------------------------------------------------

    @staticmethod
    def _tokens(raw: list[str]) -> list[str]:
        """Shorthand expanded, stemmed (stopwords kept as written, to be recognised)."""
        return [
            word if word in STOPWORDS or word.startswith(PLACEHOLDER) else stem(word)
            for word in expand(translate(raw))
        ]

    def _map(self, token: str) -> tuple[tuple[str, float], ...]:
        """The vocabulary words `token` stands for, with a similarity in (0, 1]."""
        if token in self._weight:
            return ((token, 1.0),)
        cached = self._mapped.get(token)
        if cached is None:
            cached = self._near(token)
            if len(self._mapped) < 50_000:
                self._mapped[token] = cached
        return cached

    def _near(self, token: str) -> tuple[tuple[str, float], ...]:
        if (
            len(token) < 3
            or token in STOPWORDS
            or token.startswith(PLACEHOLDER)
            or is_tibetan(token)
            or not token.isalpha()
        ):
            return ()
        # An abbreviation: the start of a longer word ("regis", "perm", "dron").
        prefixed = [w for w in self._latin if len(w) > len(token) and w.startswith(token)]
        if prefixed:
            word = min(prefixed, key=lambda w: (len(w), w))
            return ((word, PREFIX_SIMILARITY if len(token) >= 4 else 0.75),)
        # A typo: close in edit distance, judged more strictly for short words.
        cutoff = 80.0 if len(token) <= 5 else 75.0
        found = process.extractOne(
            token,
            self._latin,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            processor=None,
        )
        if found is not None:
            word, score, _ = found
            if len(word) >= 4 and (word[0] == token[0] or len(token) >= 6):
                return ((word, score / 100),)
        # Two words run together ("tshongkhang", "dronepermit").
        for cut in range(2, len(token) - 1):
            head, tail = stem(token[:cut]), stem(token[cut:])
            if (head in self._weight or head in STOPWORDS) and tail in self._weight:
                pair = [(w, 1.0) for w in (head, tail) if w in self._weight]
                return tuple(pair)
        return ()


def _about_services(
    data: TrainingData, phrase_words: list[tuple[str, set[str]]]
) -> list[tuple[str, set[str], str]]:
    """Phrases that ask about a service rather than for it: "status of my drone permit",
    "cancel the bus permit". Without them the service's own words outweigh the one
    status or stop word. Made from each short service phrase and a cue word, they count
    only when the cue is in the message."""
    builtin = set(BUILTIN_INTENTS)
    services = {item.intent for item in data.intents if item.intent not in builtin}
    known = {intent for intent, _ in phrase_words}
    made: list[tuple[str, set[str], str]] = []
    for intent, cues in COMPOSED.items():
        if intent not in known:
            continue
        for service, found in phrase_words:
            if service in services and len(found) <= 3:
                made += [(intent, found, cue) for cue in cues]
    return made


def _unknown_weight(token: str) -> float:
    if token in STOPWORDS:
        return STOPWORD_WEIGHT
    if token.startswith(PLACEHOLDER):
        return 0.3
    if len(token) <= 2 or token.isdigit() or is_tibetan(token):
        return UNKNOWN_SHORT_WEIGHT
    return UNKNOWN_WEIGHT
