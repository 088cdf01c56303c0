"""Fixtures: real Redis + PostgreSQL (one of each per test run) and server nodes per test.

The services are skipped only on a developer machine without the binaries; in
CI (``CI`` set) their absence fails the run, so a missing install step in
``.ci/services.sh`` cannot hide behind a green build.
"""

from __future__ import annotations

import gc
import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server.support import Api

from .netproxy import Balancer, RedisDropProxy
from .services import (
    Node,
    PostgresInstance,
    RedisInstance,
    missing_services,
    start_postgres,
    start_redis,
)

_db_numbers = itertools.count(1)


@dataclass
class Services:
    redis: RedisInstance
    postgres: PostgresInstance


def require_services() -> None:
    missing = missing_services()
    if not missing:
        return
    message = f"{', '.join(missing)} not installed (run .ci/services.sh)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the multi-node tests: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """Qt objects must die on the GUI thread. A cyclic GC that happens to run on
    another thread (our proxies' loops, a server thread) could collect a window's
    leftovers there and crash Qt later. So no automatic collection during a test;
    collect here, on the main thread, before and after it."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    require_services()
    redis = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        postgres = start_postgres()
    except BaseException:
        redis.stop()
        raise
    try:
        yield Services(redis, postgres)
    finally:
        redis.stop()
        postgres.stop()


@pytest.fixture
def database_url(services: Services, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database for this test."""
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40]
    return services.postgres.create_database(f"t{next(_db_numbers)}_{name}")


@dataclass
class Cluster:
    nodes: list[Node]
    data_dir: Path

    @property
    def a(self) -> Node:
        return self.nodes[0]

    @property
    def b(self) -> Node:
        return self.nodes[1]

    def api(self, node: Node) -> Api:
        return Api(node.url)

    def logs(self) -> str:
        return "\n".join(f"--- node {n.name}\n{n.log()}" for n in self.nodes)


ClusterFactory = Callable[..., Cluster]


@pytest.fixture
def make_cluster(services: Services, database_url: str, tmp_path: Path
                 ) -> Iterator[ClusterFactory]:
    """Start nodes sharing Redis, the database and one data folder.

    ``make_cluster(redis_urls=[...])`` gives node i its own Redis URL (a proxy).
    Nodes start one after the other: the first one creates the token secret
    and the schema, the others read them.
    """
    started: list[Node] = []

    def make(count: int = 2, redis_urls: list[str] | None = None,
             test_hooks: bool = True) -> Cluster:
        data_dir = tmp_path / "shared-data"
        for i in range(count):
            redis_url = (redis_urls[i] if redis_urls else None) or services.redis.url
            started.append(Node(
                chr(ord("a") + i), data_dir, tmp_path / "logs", redis_url=redis_url,
                database_url=database_url,
                extra_env={"CONFERENCE_TEST_HOOKS": "1"} if test_hooks else None,
            ))
        return Cluster(started[-count:], data_dir)

    yield make
    for node in started:
        node.stop()


@pytest.fixture
def cluster(make_cluster: ClusterFactory) -> Cluster:
    return make_cluster()


@pytest.fixture
def balancer_factory() -> Iterator[Callable[[list[int]], Balancer]]:
    made: list[Balancer] = []

    def make(ports: list[int]) -> Balancer:
        made.append(Balancer(ports))
        return made[-1]

    yield make
    for balancer in made:
        balancer.close()


@pytest.fixture
def redis_drop_proxy(services: Services) -> Iterator[RedisDropProxy]:
    proxy = RedisDropProxy(services.redis.port)
    yield proxy
    proxy.close()
