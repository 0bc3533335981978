"""Share the service's connections evenly between its workers: the least busy accepts first.

All workers listen on one socket (``gunicorn_conf``: ``reuse_port = False``).
When a connection arrives, every worker's event loop is told. asyncio's own
server would accept at once, and every connection waiting with it: the worker
that woke first took a whole burst, and often every kept-alive connection while
the others idled. A socket per worker (``SO_REUSEPORT``) is no better at a few
connections: the kernel places each by a hash of its addresses, as good as at
random, and 8 connections over 2 workers split 6-2 or worse 29 times in 100.

Here a worker accepts one connection at a time, after waiting
``SPACING_SECONDS`` for each connection it already holds (at most
``MAX_DELAY_SECONDS``); the worker that holds the fewest is first, and the
others find nothing left to accept. A worker with no connection accepts at once,
so a new connection waits only when every worker is busy, and never longer than
``MAX_DELAY_SECONDS``. Beyond that many connections per worker the split is left
to chance, where one connection more or less matters little. A worker whose
turn comes takes the connection waiting then, even one that came during its
wait, so connections that come closer together than the waits split less evenly.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable

log = logging.getLogger(__name__)

SPACING_SECONDS = 0.001  # the wait per connection held
MAX_DELAY_SECONDS = 0.01  # the longest wait: ten connections held
RETRY_SECONDS = 1.0  # after the system refused an accept (too many open files)


class BalancedAccepts:
    """Accept ``listener``'s connections into ``server``'s loop, the fewer held the sooner."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        listener: socket.socket,
        server: asyncio.Server,
        protocol: Callable[[], asyncio.BaseProtocol],
        held: Callable[[], int],
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """Start accepting; stop when ``server`` is closed (``held``: connections open now)."""
        self._loop = loop
        self._listener = listener
        self._fd = listener.fileno()
        self._server = server
        self._protocol = protocol
        self._held = held
        self._tls = tls
        self._opening = 0  # accepted, but not yet counted by ``held``
        loop.add_reader(self._fd, self._arrived)

    @property
    def held(self) -> int:
        """The connections this worker holds, those still being set up included."""
        return self._held() + self._opening

    def _arrived(self) -> None:
        """A connection waits: accept it after this worker's turn comes."""
        self._loop.remove_reader(self._fd)
        delay = min(self.held * SPACING_SECONDS, MAX_DELAY_SECONDS)
        if delay > 0:
            self._loop.call_later(delay, self._accept)
        else:
            self._accept()

    def _accept(self) -> None:
        if not self._server.sockets:  # closed: the worker stops taking connections
            return
        try:
            connection, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            pass  # another worker was first
        except OSError as error:  # out of file descriptors or memory: wait, as asyncio does
            log.warning("cannot accept a connection, retrying in %g s: %s", RETRY_SECONDS, error)
            self._loop.call_later(RETRY_SECONDS, self._listen)
            return
        else:
            connection.setblocking(False)
            self._opening += 1
            opened = self._loop.create_task(
                self._loop.connect_accepted_socket(self._protocol, connection, ssl=self._tls)
            )
            opened.add_done_callback(self._opened)
        self._listen()

    def _listen(self) -> None:
        if self._server.sockets:
            self._loop.add_reader(self._fd, self._arrived)

    def _opened(self, task: asyncio.Task[object]) -> None:
        self._opening -= 1
        if not task.cancelled() and task.exception() is not None:  # a failed TLS handshake
            log.debug("connection not set up: %s", task.exception())
