"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from dialogs.catalog import Catalog
from gateway.catalog.repository import Repository, load_repository
from tests.dialogs.helpers import NOW, SERVICES_DIR
from tests.redis_databases import RedisDatabase, leased_database


@pytest.fixture(scope="session")
def repository() -> Repository:
    """The real services folder, loaded, checked and compiled once."""
    return load_repository([SERVICES_DIR])


@pytest.fixture(scope="session")
def services_catalog(repository: Repository) -> Catalog:
    return repository.catalog


@pytest.fixture
def now() -> datetime:
    """The fixed clock of the tests."""
    return NOW


@pytest.fixture
def redis_database() -> Iterator[RedisDatabase]:
    """A database of the shared Redis that is this test's alone, empty (see
    tests/redis_databases.py)."""
    with leased_database() as database:
        yield database
