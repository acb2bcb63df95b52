"""Splits a reply into screens that fit its channel: long menus and long texts.

Options keep their absolute numbers across pages ("9. Punakha" on page 2), so an answer
means the same whatever page is showing. Pages with a following page end with "98. More".
A long text with a few answers (a summary's "1. Confirm 2. Change an answer", an info
page's "1. Continue") is split with those answers repeated on every page: a key works on
every page, so every page says what it does. Only a list too long to repeat is paged.
Sizes are added up line by line (a screen is its lines joined by newlines, exactly as the
USSD and SMS renderers print them) so paging a long list costs one pass, not a render per
candidate page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from dialogs.gsm import (
    GSM_PART,
    GSM_SINGLE,
    UCS2_PART,
    UCS2_SINGLE,
    is_gsm,
    septets,
    sms_size,
    to_gsm,
)
from dialogs.media import MORE_KEY, MediumProfile
from dialogs.messages import Reply, ReplyOption
from dialogs.render import renderer_for

ELLIPSIS = "..."


def fits(reply: Reply, profile: MediumProfile) -> bool:
    """Whether one screen can show `reply` on this channel (checked on the rendered text)."""
    if profile.max_options is not None and len(reply.options) > profile.max_options:
        return False
    if profile.max_septets is None and profile.max_segments is None:
        return True
    text = renderer_for(profile.medium).render(reply).text
    if profile.max_septets is not None and septets(to_gsm(text)) > profile.max_septets:
        return False
    return profile.max_segments is None or sms_size(text).segments <= profile.max_segments


@dataclass(frozen=True, slots=True)
class _Budget:
    """How much one screen holds, and what one line costs, on a channel."""

    limit: int | None  # units per screen (septets, or SMS units), None: unlimited
    max_options: int | None
    cost: Callable[[str], int]


def _budget(reply: Reply, profile: MediumProfile, more_label: str) -> _Budget:
    if profile.max_septets is not None:
        return _Budget(profile.max_septets, profile.max_options, lambda s: septets(to_gsm(s)))
    if profile.max_segments is not None:
        everything = [reply.text, more_label, reply.link or ""]
        everything += [o.label for o in reply.options]
        segments = profile.max_segments
        if all(is_gsm(part) for part in everything):
            limit = GSM_SINGLE if segments == 1 else GSM_PART * segments
            return _Budget(limit, profile.max_options, septets)
        limit = UCS2_SINGLE if segments == 1 else UCS2_PART * segments
        return _Budget(limit, profile.max_options, lambda s: len(s.encode("utf-16-le")) // 2)
    return _Budget(None, profile.max_options, len)


def _line(option: ReplyOption) -> str:
    return f"{option.key}. {option.label}"


@lru_cache(maxsize=4096)
def paginate(reply: Reply, profile: MediumProfile, more_label: str) -> tuple[Reply, ...]:
    """The screens of `reply` in order; a single screen when it fits.

    Cached: most screens (a step's prompt and options in one language) are the same for
    every citizen, and measuring them was a fifth of an engine step.
    """
    return tuple(_paginate(reply, profile, more_label))


def _paginate(reply: Reply, profile: MediumProfile, more_label: str) -> list[Reply]:
    budget = _budget(reply, profile, more_label)
    if budget.limit is None and budget.max_options is None:
        return [reply]
    if budget.max_options is None or len(reply.options) <= budget.max_options:
        # Most screens fit: measure the whole screen in one go before any line by line.
        lines = [reply.text] if reply.text else []
        lines += [_line(o) for o in reply.options]
        if reply.link and profile.medium == "sms":
            lines.append(reply.link)
        if budget.limit is None or budget.cost("\n".join(lines)) <= budget.limit:
            return [reply]
    answers = tuple(o for o in reply.options if not o.nav)
    navs = tuple(o for o in reply.options if o.nav)
    more = ReplyOption(MORE_KEY, more_label, nav=True)
    limit = budget.limit if budget.limit is not None else 1 << 30
    max_options = budget.max_options if budget.max_options is not None else 1 << 30
    cost = budget.cost
    nav_cost = sum(cost(_line(o)) + 1 for o in navs)
    more_cost = cost(_line(more)) + 1
    link_cost = cost(reply.link) + 1 if reply.link and profile.medium == "sms" else 0
    option_costs = [cost(_line(o)) + 1 for o in answers]

    def text_cost(text: str) -> int:
        return cost(text) if text else -1  # no text: the first line has no newline before it

    def page(body: str, shown: tuple[ReplyOption, ...], last: bool) -> Reply:
        options = (*shown, *(() if last else (more,)), *navs)
        return Reply(body, options, reply.link if last else None, reply.end and last)

    answers_cost = sum(option_costs)
    whole = text_cost(reply.text) + answers_cost + nav_cost + link_cost
    if whole <= limit and len(answers) + len(navs) <= max_options:
        return [reply]
    pages: list[Reply] = []
    footer = answers_cost + nav_cost  # the answers and navigation lines of every page
    if (
        answers
        and footer + more_cost <= limit // 2  # leaves at least half a screen to the text
        and footer + link_cost < limit
        and len(answers) + len(navs) + 1 <= max_options
    ):
        text = reply.text
        while text and text_cost(text) + footer + link_cost > limit:
            head, text = _split(text, lambda t: cost(t) + footer + more_cost <= limit)
            pages.append(page(head, answers, last=False))
        pages.append(page(text, answers, last=True))
        return pages

    text = reply.text
    first_option = option_costs[0] if option_costs else 0
    room = limit - more_cost - nav_cost
    # Text too long to show with even one option: give it screens of its own first.
    while text and text_cost(text) + first_option + nav_cost + more_cost > limit:
        if reply.end and not answers and profile.max_septets is not None:
            break  # a closing USSD screen cannot be paged: it is cut below
        head, rest = _split(text, lambda t: cost(t) <= room)
        if not rest:
            break
        pages.append(page(head, (), last=False))
        text = rest
    start = 0
    while True:
        used = text_cost(text) + nav_cost
        count = 0
        remaining = len(answers) - start
        while count < remaining:
            after = used + option_costs[start + count]
            is_last = count + 1 == remaining
            extra = link_cost if is_last else more_cost
            slots = count + 1 + len(navs) + (0 if is_last else 1)
            if after + extra > limit or slots > max_options:
                # Room for this option only if it closes the list without a More line.
                break
            used = after
            count += 1
        if count < remaining and count > 0:
            # Not the last page: make sure "98. More" fits after the options taken.
            while count > 0 and (used + more_cost > limit or count + 1 + len(navs) > max_options):
                count -= 1
                used -= option_costs[start + count]
        last = start + count >= len(answers)
        chosen = answers[start : start + count]
        if count == 0 and remaining > 0:
            chosen = (_shorten(answers[start], text, navs, profile, page),)
            count, last = 1, remaining == 1
        screen = page(text, chosen, last)
        pages.append(screen if count or not screen.end else _cut_to_fit(screen, profile))
        if screen.end and not fits(screen, profile):
            pages[-1] = _cut_to_fit(screen, profile)
        start += count
        text = ""
        if last:
            return pages


PageFn = Callable[[str, tuple[ReplyOption, ...], bool], Reply]


def _split(text: str, fits_alone: Callable[[str], bool]) -> tuple[str, str]:
    """The longest head of `text` that fits, cut at a line break or space where possible."""
    low, high = 1, len(text)
    while low < high:  # binary search on the cut position
        middle = (low + high + 1) // 2
        if fits_alone(text[:middle]):
            low = middle
        else:
            high = middle - 1
    cut = low
    for separator in ("\n", " "):
        position = text.rfind(separator, 0, cut + 1)
        if position > cut // 2:
            cut = position
            break
    return text[:cut].rstrip(), text[cut:].lstrip()


def _shorten(
    option: ReplyOption,
    text: str,
    navs: tuple[ReplyOption, ...],
    profile: MediumProfile,
    page: PageFn,
) -> ReplyOption:
    # An option too long for any screen (a huge label): cut it rather than lose it.
    label = option.label
    while len(label) > 1 and not fits(
        page(text, (ReplyOption(option.key, label + ELLIPSIS), *navs), False), profile
    ):
        label = label[: max(1, len(label) * 3 // 4)]
    return ReplyOption(option.key, label.rstrip() + ELLIPSIS, option.nav)


def _cut_to_fit(screen: Reply, profile: MediumProfile) -> Reply:
    # Last resort, for a closing screen that cannot be paged: never exceed the channel.
    text = screen.text
    while text and not fits(
        Reply(text + ELLIPSIS, screen.options, screen.link, screen.end), profile
    ):
        text = text[: len(text) * 9 // 10]
    return Reply(
        text.rstrip() + ELLIPSIS if text != screen.text else text,
        screen.options,
        screen.link,
        screen.end,
    )
