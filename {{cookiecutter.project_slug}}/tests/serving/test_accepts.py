"""Balanced accepts: workers sharing one listening socket take its connections in turns.

Each "worker" here is a ``BalancedAccepts`` on its own descriptor of one real
listening socket, in one event loop; the service's own workers, in processes of
their own, are checked against real gunicorn in the template's end-to-end tests.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from {{ cookiecutter.package_name }}.serving.accepts import (
    MAX_DELAY_SECONDS,
    BalancedAccepts,
)


class Worker(asyncio.Protocol):
    """A connection of one worker: it counts in the worker's list while open."""

    def __init__(self, held: list[asyncio.BaseTransport]) -> None:
        self.held = held

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.held.append(transport)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening socket on a free port of 127.0.0.1."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        yield listening


async def worker(
    listener: socket.socket, held: list[asyncio.BaseTransport], busy: int = 0
) -> asyncio.Server:
    """A worker accepting from ``listener``, holding ``busy`` connections besides ``held``."""
    loop = asyncio.get_running_loop()
    own = listener.dup()  # as a forked worker has its own descriptor of the socket
    server = await loop.create_server(lambda: Worker(held), sock=own, start_serving=False)
    BalancedAccepts(loop, own, server, lambda: Worker(held), lambda: len(held) + busy)
    return server


async def connect(
    listener: socket.socket, count: int, *workers: list[asyncio.BaseTransport]
) -> None:
    """Open ``count`` connections, each once one of ``workers`` holds the last; close them all.

    Each waits out the other workers' turns for the last one: a worker whose turn
    comes takes the connection waiting then, whenever it came.
    """
    clients: list[asyncio.StreamWriter] = []
    for _ in range(count):
        before = sum(map(len, workers))
        clients.append((await asyncio.open_connection(*listener.getsockname()))[1])
        deadline = asyncio.get_running_loop().time() + 10
        while sum(map(len, workers)) == before:
            assert asyncio.get_running_loop().time() < deadline, "no worker took the connection"
            await asyncio.sleep(0.001)
        await asyncio.sleep(2 * MAX_DELAY_SECONDS)
    for client in clients:
        client.close()
    for transport in (held for worker in workers for held in worker):
        transport.close()


def test_two_workers_take_turns(listener: socket.socket) -> None:
    first: list[asyncio.BaseTransport] = []
    second: list[asyncio.BaseTransport] = []

    async def eight_connections() -> None:
        servers = [await worker(listener, first), await worker(listener, second)]
        await connect(listener, 8, first, second)
        for server in servers:
            server.close()

    asyncio.run(eight_connections())

    assert (len(first), len(second)) == (4, 4)


def test_the_worker_holding_the_fewest_connections_accepts_first(
    listener: socket.socket,
) -> None:
    busy: list[asyncio.BaseTransport] = []
    idle: list[asyncio.BaseTransport] = []

    async def three_connections() -> None:
        servers = [await worker(listener, busy, busy=3), await worker(listener, idle)]
        await connect(listener, 3, busy, idle)
        for server in servers:
            server.close()

    asyncio.run(three_connections())

    assert (len(busy), len(idle)) == (0, 3)


def test_a_closed_worker_accepts_no_more(listener: socket.socket) -> None:
    closed: list[asyncio.BaseTransport] = []
    open_: list[asyncio.BaseTransport] = []

    async def after_closing() -> None:
        stopping = await worker(listener, closed)
        server = await worker(listener, open_, busy=5)  # last in turn, were the other open
        stopping.close()
        await connect(listener, 2, closed, open_)
        server.close()

    asyncio.run(after_closing())

    assert (len(closed), len(open_)) == (0, 2)
