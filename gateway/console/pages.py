"""The console's pages: Jinja2 templates with gettext texts (Babel catalogues).

English is written in the templates; other languages come from
`gateway/console/locale/<lang>/LC_MESSAGES/console.po`, read once at start (no compiled
`.mo` to keep in step). The person's language is their choice on the page (`?lang=`,
kept in a cookie), else their browser's, else English.

Every page is sent with a content security policy that allows nothing but the console's
own stylesheet: no script runs on these pages, so none can be injected either. The
studio's pages alone (`gateway/console/studio.py`) run a script, the studio's own file
from this origin, under a policy of their own.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.runtime import Runtime

LANGUAGES = {"en": "English", "dz": "རྫོང་ཁ"}
LANG_COOKIE = "console-lang"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",  # pages hold citizens' data: no copy in any cache
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_ROOT = files("gateway") / "console"


def _translations(lang: str) -> NullTranslations:
    source = _ROOT / "locale" / lang / "LC_MESSAGES" / "console.po"
    if lang == "en" or not source.is_file():
        return NullTranslations()
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


@cache
def _translations_for(lang: str) -> NullTranslations:
    return _translations(lang)


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(_ROOT / "templates")),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(_translations_for(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def language(request: Request) -> str:
    """The page's language: asked for, else remembered, else the browser's, else English."""
    for wanted in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if wanted in LANGUAGES:
            return wanted
    accepted = request.headers.get("accept-language", "").lower()
    return "dz" if accepted.startswith("dz") else "en"


def N_(text: str) -> str:  # noqa: N802 (gettext's name for "mark only")
    """Marks a text made in Python for the catalogue; `render` translates it."""
    return text


# Texts of the context translated by `render` (said in Python, shown by the base page).
TRANSLATED = ("notice", "error", "heading", "message")


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    lang = language(request)
    translations = _translations_for(lang)
    said = {k: translations.gettext(v) for k in TRANSLATED if isinstance(v := context.get(k), str)}
    menu = [(href, translations.gettext(label)) for href, label in context.get("menu", ())]
    page = {**context, **said, "menu": menu, "lang": lang, "languages": LANGUAGES}
    body = environment(lang).get_template(template).render({**page, "path": request.url.path})
    response = HTMLResponse(body, status_code=status_code, headers=HEADERS)
    person = context.get("person")
    sessions = Runtime.of(request.app).console
    if person is not None and sessions is not None:
        sessions.write(request, response, person.session)  # the idle timeout starts again
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, path="/console", httponly=True, samesite="lax"
        )
    return response
