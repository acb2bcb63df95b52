"""Dzongkha words, in script and romanised, read as the English word of the same meaning.

Most services are defined in English only, yet citizens write to them in Dzongkha. This
is a small general glossary of everyday administrative words (trade, shop, register,
permit, land, factory, bus, fly...), not phrases of any service: with it a Dzongkha
message meets the English training phrases. It is applied to training phrases and
messages alike, after entities are found and before stemming. Romanised spellings vary
(Roman Dzongkha, Wylie, phonetic), so the common variants are listed; fuzzy matching
copes with the rest of the English side only.
"""

from __future__ import annotations

from nlu.normalise import words

_ENTRIES: dict[str, tuple[str, ...]] = {
    # trade and business
    "ཚོང་ལས": ("business",),
    "ཚོང": ("trade",),
    "ཚོང་ཁང": ("shop",),
    "ཐོ་བཀོད": ("register",),
    "ལག་ཁྱེར": ("licence",),
    "ཆོག་ཐམ": ("permit",),
    "ཞུ་ཡིག": ("application",),
    "གནས་སྟངས": ("status",),
    "tshong lay": ("business",),
    "tshong le": ("business",),
    "tshong lae": ("business",),
    "tshong las": ("business",),
    "tshongle": ("business",),
    "tshonglay": ("business",),
    "tshong": ("trade",),
    "tsong": ("trade",),
    "tshong khang": ("shop",),
    "tsong khang": ("shop",),
    "tshongkhang": ("shop",),
    "tsongkhang": ("shop",),
    "tho koed": ("register",),
    "tho kod": ("register",),
    "tho kö": ("register",),
    "tho bkod": ("register",),
    "tho koe": ("register",),
    "thokoed": ("register",),
    "thokod": ("register",),
    "thobkod": ("register",),
    "lag kher": ("licence",),
    "lag khyer": ("licence",),
    "lagkher": ("licence",),
    "lak kher": ("licence",),
    "chog tham": ("permit",),
    "chhog tham": ("permit",),
    "chogtham": ("permit",),
    "zhu yig": ("application",),
    "zhuyig": ("application",),
    "shu yig": ("application",),
    "ne tang": ("status",),
    "nay tang": ("status",),
    "nae tang": ("status",),
    "netang": ("status",),
    # land and industry
    "ས་ཆ": ("land",),
    "ས་ཁོངས": ("plot",),
    "བཟོ་ཁང": ("factory",),
    "བཟོ་གྲྭ": ("factory",),
    "བཟོ་ཚོང": ("industrial",),
    "གཡར": ("lease",),
    "sa cha": ("land",),
    "sacha": ("land",),
    "sa chha": ("land",),
    "sa khong": ("plot",),
    "zo khang": ("factory",),
    "zokhang": ("factory",),
    "zo dra": ("factory",),
    "zodra": ("factory",),
    "zo tshong": ("industrial",),
    "yar": ("lease",),
    # transport
    "བཱས": ("bus",),
    "བཱསི": ("bus",),
    "འགྲུལ་པ": ("passenger",),
    "འགྲུལ་འཁོར": ("transport",),
    "སྣུམ་འཁོར": ("vehicle",),
    "ལམ": ("route",),
    "bas": ("bus",),
    "baas": ("bus",),
    "drul pa": ("passenger",),
    "drulpa": ("passenger",),
    "drul khor": ("transport",),
    "drulkhor": ("transport",),
    "num khor": ("vehicle",),
    "numkhor": ("vehicle",),
    "lam": ("route",),
    # flying
    "ཌོན": ("drone",),
    "ཌྲོན": ("drone",),
    "འཕུར": ("fly",),
    "གནམ་གྲུ": ("aircraft",),
    "པར": ("photo",),
    "པར་བཏབ": ("photography",),
    "phur": ("fly",),
    "phurni": ("fly",),
    "nam dru": ("aircraft",),
    "namdru": ("aircraft",),
    "par tab": ("photography",),
    "par tap": ("photography",),
    # conversation
    "གྲོགས་རམ": ("help",),
    "drog ram": ("help",),
    "rog ram": ("help",),
    "rogram": ("help",),
    "drogram": ("help",),
    "བཀག": ("stop",),
    "kag": ("stop",),
}

# Entry -> its words as the tokeniser produces them, longest first so that "tshong khang"
# wins over "tshong".
GLOSSARY: dict[tuple[str, ...], tuple[str, ...]] = {
    tuple(words(key)): value
    for key, value in sorted(_ENTRIES.items(), key=lambda item: -len(words(item[0])))
}
_LONGEST = max(len(key) for key in GLOSSARY)
_FIRSTS = frozenset(key[0] for key in GLOSSARY)


def translate(tokens: list[str]) -> list[str]:
    """`tokens` with every glossary entry replaced by its English words."""
    out: list[str] = []
    index = 0
    while index < len(tokens):
        if tokens[index] not in _FIRSTS:
            out.append(tokens[index])
            index += 1
            continue
        for size in range(min(_LONGEST, len(tokens) - index), 0, -1):
            english = GLOSSARY.get(tuple(tokens[index : index + size]))
            if english is not None:
                out += english
                index += size
                break
        else:
            out.append(tokens[index])
            index += 1
    return out
