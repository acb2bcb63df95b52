"""Splits a reply into screens that fit its channel: long menus and long texts.

Options keep their absolute numbers across pages ("9. Punakha" on page 2), so an answer
means the same whatever page is showing. Pages after the first end with "98 More".
"""

from __future__ import annotations

from collections.abc import Callable

from dialogs.gsm import septets, sms_size
from dialogs.messages import Reply, ReplyOption
from dialogs.profiles import MORE_KEY, ChannelProfile
from dialogs.render import renderer_for

ELLIPSIS = "..."


def fits(reply: Reply, profile: ChannelProfile) -> bool:
    """Whether one screen can show `reply` on this channel."""
    if profile.max_options is not None and len(reply.options) > profile.max_options:
        return False
    if profile.max_septets is None and profile.max_segments is None:
        return True
    text = renderer_for(profile.name).render(reply).text
    if profile.max_septets is not None and septets(text) > profile.max_septets:
        return False
    return profile.max_segments is None or sms_size(text).segments <= profile.max_segments


def paginate(reply: Reply, profile: ChannelProfile, more_label: str) -> list[Reply]:
    """The screens of `reply` in order; a single screen when it fits."""
    if fits(reply, profile):
        return [reply]
    more = ReplyOption(MORE_KEY, more_label, nav=True)
    answers = tuple(o for o in reply.options if not o.nav)
    navs = tuple(o for o in reply.options if o.nav)
    pages: list[Reply] = []
    text = reply.text

    def page(body: str, options: tuple[ReplyOption, ...], last: bool) -> Reply:
        # "98 More" comes right after the options, before "0 Back".
        shown = tuple(o for o in options if not o.nav)
        nav = tuple(o for o in options if o.nav)
        return Reply(
            body,
            (*shown, *(() if last else (more,)), *nav),
            reply.link if last else None,
            reply.end and last,
        )

    # Text too long to show with even one option: give it screens of its own first.
    while text and not fits(page(text, (*answers[:1], *navs), last=len(answers) <= 1), profile):
        if reply.end and not answers and profile.max_septets is not None:
            break  # a closing USSD screen cannot be paged: it is cut below
        head, text = _split(text, lambda t: fits(page(t, (), last=False), profile))
        pages.append(page(head, (), last=False))
    start = 0
    while True:
        count = _most_options(text, answers[start:], navs, profile, page)
        last = start + count >= len(answers)
        chosen = answers[start : start + count]
        if count == 0 and answers[start:]:
            chosen, last = (
                (_shorten(answers[start], text, navs, profile, page),),
                start + 1 >= len(answers),
            )
            count = 1
        screen = page(text, (*chosen, *navs), last)
        pages.append(screen if fits(screen, profile) else _cut_to_fit(screen, profile))
        start += count
        text = ""
        if last:
            return pages


PageFn = Callable[[str, tuple[ReplyOption, ...], bool], Reply]


def _most_options(
    text: str,
    options: tuple[ReplyOption, ...],
    navs: tuple[ReplyOption, ...],
    profile: ChannelProfile,
    page: PageFn,
) -> int:
    best = 0
    for count in range(1, len(options) + 1):
        if fits(page(text, (*options[:count], *navs), count == len(options)), profile):
            best = count
        else:
            break
    return best


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
    profile: ChannelProfile,
    page: PageFn,
) -> ReplyOption:
    label = option.label
    while len(label) > 1 and not fits(
        page(text, (ReplyOption(option.key, label + ELLIPSIS), *navs), False), profile
    ):
        label = label[: max(1, len(label) * 3 // 4)]
    return ReplyOption(option.key, label.rstrip() + ELLIPSIS, option.nav)


def _cut_to_fit(screen: Reply, profile: ChannelProfile) -> Reply:
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
