"""The published services: what a main menu offers, and every version still in use.

Publishing a new version keeps the older ones, so conversations pinned to them go on;
`release` drops a version once no conversation needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from dialogs.compiler import CompiledService
from dialogs.definition import Commands

LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType({"en": "English", "dz": "རྫོང་ཁ"})


@dataclass(frozen=True)
class Catalog:
    """Compiled services by id and version, with the published version of each."""

    versions: Mapping[str, Mapping[int, CompiledService]] = field(default_factory=dict)
    published: Mapping[str, int] = field(default_factory=dict)
    commands: Commands = field(default_factory=Commands)

    @classmethod
    def of(cls, services: Iterable[CompiledService]) -> Catalog:
        catalog = cls()
        for service in services:
            catalog = catalog.publish(service)
        return catalog

    def publish(self, service: CompiledService) -> Catalog:
        versions = {k: dict(v) for k, v in self.versions.items()}
        versions.setdefault(service.id, {})[service.version] = service
        published = {**self.published, service.id: service.version}
        return replace(self, versions=versions, published=published)

    def keep(self, *services: CompiledService) -> Catalog:
        """Load versions for the conversations pinned to them, without publishing them (a
        version already loaded stays as it is)."""
        versions = {k: dict(v) for k, v in self.versions.items()}
        for service in services:
            versions.setdefault(service.id, {}).setdefault(service.version, service)
        return replace(self, versions=versions)

    def release(self, service_id: str, version: int) -> Catalog:
        """Forget a version that is no longer published nor used by any conversation."""
        if self.published.get(service_id) == version:
            return self
        versions = {k: dict(v) for k, v in self.versions.items()}
        versions.get(service_id, {}).pop(version, None)
        return replace(self, versions=versions)

    def get(self, service_id: str, version: int | None = None) -> CompiledService | None:
        by_version = self.versions.get(service_id, {})
        if version is None:
            version = self.published.get(service_id)
        return by_version.get(version) if version is not None else None

    def latest(self, service_id: str) -> CompiledService | None:
        """The published version, else the highest still loaded (a withdrawn service)."""
        by_version = self.versions.get(service_id, {})
        published = self.get(service_id)
        return published or (by_version[max(by_version)] if by_version else None)

    def menu(self) -> list[CompiledService]:
        """Published services in menu order (by id, so the order is stable across languages)."""
        services = [self.versions[sid][ver] for sid, ver in self.published.items()]
        return sorted(services, key=lambda s: s.id)

    def languages(self) -> list[str]:
        found: list[str] = []
        for service in self.menu():
            found += [lang for lang in service.definition.languages if lang not in found]
        return found
