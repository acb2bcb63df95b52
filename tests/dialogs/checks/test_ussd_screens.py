"""A question too long for one USSD screen (E250) is reported at the text that makes it so."""

from __future__ import annotations

import textwrap

from dialogs.checker import check
from dialogs.loader import load_text

HEAD = "format: 1\nid: fixture\nversion: 1\ntitle: Fixture\nsteps:\n"
END = "- id: done\n  type: end\n  prompt: Thank you\n"


def located(step: str) -> set[tuple[str, int]]:
    body = textwrap.dedent(step).strip("\n") + "\n" + END
    loaded = load_text(HEAD + textwrap.indent(body, "  "), "service.yaml")
    return {(p.code, p.line) for p in loaded.problems + check(loaded)}


def test_a_long_error_message_is_reported_at_its_own_line() -> None:
    assert ("E250", 9) in located(f"""
    - id: cid
      type: national_id
      prompt: Your citizenship ID?
      error: {"Please type the eleven digits of the ID card. " * 5}
    """)


def test_a_long_prompt_is_reported_at_the_prompt() -> None:
    assert ("E250", 8) in located(f"""
    - id: cid
      type: national_id
      prompt: {"Please type the eleven digits of your citizenship ID card. " * 4}
      error: Eleven digits, please.
    """)
