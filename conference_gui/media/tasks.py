"""Tasks of the engine's loop that are never fire-and-forget.

The project's ``models.tasks.TaskKeeper`` lives above this layer (media may
not import models), so the engine has this small equivalent: every task it
starts is kept, a failure is logged once (one line and the traceback at
debug level, since a peer's bad input must not spam the log), and
:meth:`OwnedTasks.close` cancels and awaits what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class OwnedTasks:
    """A set of tasks with one owner (an engine, a peer link)."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Start ``coro`` on the running loop, owned by this set."""
        if self._closed:
            coro.close()
            raise RuntimeError(f"{self._owner}: tasks already closed")
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._owner}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("%s failed: %s: %s", task.get_name(), type(exc).__name__, exc)
            log.debug("%s traceback", task.get_name(), exc_info=exc)

    async def close(self, timeout: float = 5.0) -> None:
        """Cancel every task and wait (at most ``timeout`` s) until they have ended."""
        self._closed = True
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.error("%s did not end %.1f s after being cancelled", task.get_name(), timeout)
        self._tasks.clear()
