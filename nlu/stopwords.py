"""Words that carry little meaning about which service is wanted.

They are not dropped: they weigh little (so "what can I do here" still matches its own
phrase best) but cannot make an intent on their own. Negations and answer words ("no",
"not", "yes", "ok") are not stopwords: they are what `affirm` and `deny` are made of.
Romanised Dzongkha particles (nga "I", gi "of", lu "to", bae "do", go "need") and the
common Dzongkha-script ones are here too.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ENGLISH = _words(
    """
    a an the i me my mine myself we us our you your yours he him his she her it its they
    them their this that these those is are am was were be been being do does did doing
    have has had having to too for of in on at by from with about into onto over under
    up out and or but so if then than as can could would should will shall may might
    must want wanted wants wish need needs needed like please thanks thank just also
    some any there here what how where when which who whom why get getting got give let
    know tell go going one very much more per via through because all am again still
    now today soon hey dear kind way able make want lets someone something anything
    """
)

# Everyday context words: when, who for, where in general. They say nothing about the
# service, and counting them as unknown would sink long, chatty messages.
CONTEXT = _words(
    """
    next last this week weeks month months year years day days tomorrow yesterday tonight
    time times later earlier soon already ago before after during while since until
    take took taking put see look come came use using used try trying think hope plan
    planning thing things stuff place there really actually maybe only even well own
    family friend friends brother sister father mother wife husband son daughter
    village town city near area local small big little few many lot lots
    """
)

ROMANISED_DZONGKHA = _words(
    """
    nga ngai nge ngi gi ki gyi kyi lu le lay bae bay bey bed bai go goh gö dgo bad
    chi ci cig gachi gachhi mo na ni zhu
    """
)

# Dzongkha-script syllables: pronouns, case particles, "do", "need", "a/one".
TIBETAN = _words(
    """
    ང ངེ ངེའི ངའི གི ཀྱི གྱི འི ཡི ལུ དང ནི འདི ཅིག གཅིག ཞིག འབད དགོ མས ཁྱོད
    """
)

# Words that introduce an entity ("my CID is ...", "phone 17...", "in Paro district"):
# the entity is extracted; the word before it says nothing about the service.
ENTITY_CUES = _words(
    """
    cid citizenship identity card id number phone mobile contact cell dzongkhag district
    """
)

STOPWORDS = ENGLISH | CONTEXT | ROMANISED_DZONGKHA | TIBETAN | ENTITY_CUES
