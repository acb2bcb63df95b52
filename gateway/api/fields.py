"""Field types the API's bodies share."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _whole(text: str) -> str:
    """JSON may carry a lone surrogate (`"\\ud800"`): it is no character, and would fail
    later, when stored or sent, as a 500. Refused where it arrives, as a 422."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("the text holds a lone surrogate, which is no character") from exc
    return text


def _one_line(text: str) -> str:
    """No control character nor line break (YAML reads U+0085 and U+2028 as breaks)."""
    if any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029" for c in text):
        raise ValueError("one line of text, without control characters")
    return text


Text = Annotated[str, AfterValidator(_whole)]  # text a person typed
Line = Annotated[Text, AfterValidator(_one_line)]  # a title, a name: one line
