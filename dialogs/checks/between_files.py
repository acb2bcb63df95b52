"""E360/E361/E362: what must hold between the definitions of one folder.

Run over the whole folder (`run_folder`), not one definition: two files with the same `id`
would have one replace the other in the catalog without a word; an `id` that is not the
file's name sends whoever looks for the service to the wrong file; two services giving
references with the same prefix could not be told apart by an officer or a citizen
quoting one.

A conflict is reported in the file that most likely made it, naming the other: an id
belongs to the file named after it, a prefix to the service whose initials it spells
(`BR` for business-registration), else to the earlier file in the folder. So a copied
file is the one told to change, and the service it was copied from goes on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps.submit import SubmitStep

CODES = ("E360", "E361", "E362")


def run_folder(loaded: Sequence[Loaded]) -> list[Problem]:
    readable: dict[str, Loaded] = {}
    for item in loaded:
        if item.definition is not None:  # unreadable ones: their own problems say why
            readable.setdefault(item.file, item)  # a file named twice is still one file
    items = list(readable.values())
    return [*_names(items), *_same_ids(items), *_same_prefixes(items)]


def _names(items: list[Loaded]) -> Iterator[Problem]:
    for item in items:
        service_id, name = _id(item), file_name(item.file)
        if not _named_after(item):
            yield item.at(
                ["id"],
                "E361",
                f"id {service_id!r} is not the file's name {name!r}",
                f"Write `id: {name}`, or name the file `{service_id}.yaml`: a service is "
                "found by its file name.",
            )


def _same_ids(items: list[Loaded]) -> Iterator[Problem]:
    by_id: dict[str, list[Loaded]] = {}
    for item in items:
        by_id.setdefault(_id(item), []).append(item)
    for holders in by_id.values():
        owner = min(holders, key=lambda item: not _named_after(item))  # stable: folder order
        for item in holders:
            if item is not owner:
                yield item.at(
                    ["id"],
                    "E360",
                    f"id {_id(item)!r} is already the id of {owner.file}",
                    "Give every service its own id: one file would replace the other.",
                )


def _same_prefixes(items: list[Loaded]) -> Iterator[Problem]:
    users: dict[str, list[tuple[Loaded, int]]] = {}
    for item in items:
        seen: set[str] = set()  # a service may submit in several steps under one prefix
        for index, prefix in _prefixes(item):
            if prefix not in seen:
                seen.add(prefix)
                users.setdefault(prefix, []).append((item, index))
    for prefix, using in users.items():
        services = {_id(item) for item, _ in using}
        if len(services) < 2:
            continue  # one service (or one id twice: E360 says so)
        owner, _ = min(using, key=lambda use: _initials(_id(use[0])) != prefix)
        for item, index in using:
            if _id(item) != _id(owner):
                yield item.at(
                    ["steps", index, "reference_prefix"],
                    "E362",
                    f"reference prefix {prefix!r} is already used by {_id(owner)!r} ({owner.file})",
                    f"Choose 2 to 4 capital letters no other service uses (e.g. "
                    f"{_initials(_id(item))!r}), so a reference tells its service.",
                )


def _prefixes(item: Loaded) -> Iterator[tuple[int, str]]:
    assert item.definition is not None
    for index, step in enumerate(item.definition.step_list):
        if isinstance(step, SubmitStep):  # the one step type that gives references
            yield index, step.reference_prefix


def _id(item: Loaded) -> str:
    assert item.definition is not None
    return item.definition.id


def _named_after(item: Loaded) -> bool:
    # An id cannot hold `_` or capitals: `step-national_id.yaml` is as near as it gets.
    return _id(item) == file_name(item.file).lower().replace("_", "-")


def _initials(service_id: str) -> str:
    return "".join(word[0] for word in service_id.split("-") if word).upper()


def file_name(file: str) -> str:
    """`services/business-registration.yaml` -> `business-registration`."""
    name = file.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name[1:] else name
