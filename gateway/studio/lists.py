"""The shared lists a draft is checked against: the services folder's `lists/`, and over
them the lists written in the studio (`state.lists`), which every process reads alike."""

from __future__ import annotations

import asyncio

from dialogs.loader import SharedList, read_list
from gateway.catalog.repository import LISTS_DIRNAME, load_lists
from gateway.runtime import Runtime


def list_file(name: str) -> str:
    """How a diagnostic names a list written in the studio."""
    return f"{LISTS_DIRNAME}/{name}.yaml"


async def studio_lists(runtime: Runtime) -> dict[str, SharedList]:
    lists, _ = await asyncio.to_thread(load_lists, runtime.services_dir / LISTS_DIRNAME)
    for text in await runtime.lists.all():
        lists[text.name], _ = read_list(text.source, list_file(text.name))
    return lists
