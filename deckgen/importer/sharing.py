"""The import's heavy part shared between this process and forked helper processes.

Helpers are forked at the start of the shared part, so they begin with everything this process
knows (the deck, the note types, the card files planned) and run the same code on their own
share of the card files: converting the values of their notes, writing the files, compiling
them. What must be decided across all notes (how each field is written, which card ids clash,
which media files are used) is agreed on through this process, in a few small messages; each
helper sends every file's result as soon as it has it (plain tuples, which pickle fast), and
exits at the end. Nothing else crosses between processes, and each process keeps the caches it
builds (the shapes of the fields it has seen).

    with Split(sizes, jobs) as split:
        for index in split.mine:                # this process's items
            ...
        merged = split.agree(local, merge)      # every process's `local`, merged, in every process
        split.deliver(index, result, send)      # as each item is done
        results = split.collect(receive)        # this process: all results; a helper leaves here

Where processes cannot be forked, or one process is asked for, this process is the only one,
and the same code runs with no helper.
"""

from __future__ import annotations

import os
import signal
import traceback
from typing import Any, Callable, TypeVar

from ..problems import ProjectError
from ..safety.scratch import die_with_parent

T = TypeVar("T")
Advance = Callable[[int], None]


class HelperFailed(Exception):
    """A helper process stopped with an error that is not a project's problem (a bug: its traceback)."""


class Split:
    """This process (rank 0) and its forked helpers, each running the shared part on its own items."""

    def __init__(self, sizes: list[int], jobs: int | None = None) -> None:
        wanted = min(jobs or os.cpu_count() or 1, len(sizes))
        self.size = wanted if wanted > 1 and hasattr(os, "fork") else 1
        self.rank = 0
        self.shares = _balanced(sizes, self.size)
        self.channels: list[Any] = []  # this process: one per helper; a helper: the one to this process
        self.pids: list[int] = []
        self.pending: list[list[tuple[str, Any]]] = []  # this process: messages read early, by helper
        self.results: dict[int, Any] = {}  # this process: the items' results, by index
        self.advance: Advance | None = None  # this process: told of every process's progress

    @property
    def mine(self) -> list[int]:
        """The items this process works on, in order."""
        return self.shares[self.rank]

    def __enter__(self) -> Split:
        if self.size > 1:
            self._fork()
        return self

    def _fork(self) -> None:
        import multiprocessing.connection

        parent = os.getpid()
        for rank in range(1, self.size):
            ours, theirs = multiprocessing.connection.Pipe()
            pid = os.fork()
            if pid == 0:  # the helper: it keeps only its own end
                ours.close()
                for channel in self.channels:  # the earlier helpers' channels are not this helper's
                    channel.close()
                self.rank, self.channels, self.pids, self.pending = rank, [theirs], [], [[]]
                die_with_parent(parent)
                return
            theirs.close()
            self.channels.append(ours)
            self.pending.append([])
            self.pids.append(pid)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        if self.rank:
            self._end_helper(None if isinstance(error, _Done) else error)
        for pid in self.pids:
            if error is not None:
                os.kill(pid, signal.SIGKILL)  # it may be waiting for this process, which stopped
            os.waitpid(pid, 0)

    def _end_helper(self, error: BaseException | None) -> None:
        """A helper never leaves the shared part: it reports how it ended, and exits."""
        code = 0
        if error is not None:
            code = 1
            try:
                self._send(("problems", error.problems) if isinstance(error, ProjectError)
                           else ("error", "".join(traceback.format_exception(error))))
            except OSError:
                pass
        os._exit(code)  # nothing of this process's (buffers it inherited, cleanups) runs twice

    def progress(self, count: int) -> None:
        """This process's items done: told to this process by a helper; counted here, with what the
        helpers have told so far."""
        if self.rank:
            self._send(("advance", count))
            return
        self._advance(count)
        for channel, pending in zip(self.channels, self.pending):
            try:
                while channel.poll():
                    message = channel.recv()
                    if message[0] == "advance":
                        self._advance(message[1])
                    else:
                        pending.append(message)  # for the next _receive_from
            except (EOFError, OSError):
                continue  # the helper has ended: _receive_from finds its last message, or says it stopped

    def agree(self, local: T, merge: Callable[[list[T]], T]) -> T:
        """Every process's `local` merged (in this process, in rank order), and the result given to all."""
        if self.rank:
            self._send(("local", local))
            return self._receive_from(self.channels[0], ("merged",))[1]
        merged = merge([local, *(self._receive_from(channel, ("local",))[1] for channel in self.channels)])
        for channel in self.channels:
            channel.send(("merged", merged))
        return merged

    def deliver(self, index: int, result: Any, send: Callable[[Any], Any]) -> None:
        """An item's result: kept here, or sent here at once by a helper (as `send(result)`), so that the
        sending and receiving go on while the processes still work."""
        if self.rank:
            self._send(("result", (index, send(result))))
        else:
            self.results[index] = result

    def collect(self, receive: Callable[[Any], Any]) -> dict[int, Any]:
        """In this process: every process's results, by item (a helper's made again with `receive`).
        A helper says it is done, and leaves the shared part here."""
        if self.rank:
            self._send(("done", None))
            raise _Done()
        for channel in self.channels:
            while (found := self._receive_from(channel, ("result", "done")))[0] == "result":
                index, sent = found[1]
                self.results[index] = receive(sent)
        return self.results

    def _send(self, message: tuple[str, Any]) -> None:
        self.channels[0].send(message)

    def _advance(self, count: int) -> None:
        if self.advance:
            self.advance(count)

    def _receive_from(self, channel: Any, wanted: tuple[str, ...]) -> tuple[str, Any]:
        """The next message of one of these kinds, counting progress on the way; a helper's failure raised here."""
        pending = self.pending[self.channels.index(channel)]
        while True:
            try:
                kind, content = pending.pop(0) if pending else channel.recv()
            except (EOFError, OSError):
                raise HelperFailed("a helper process of the import stopped without a word") from None
            if kind in wanted:
                return kind, content
            if kind == "advance":
                self._advance(content)
            elif kind == "problems":
                raise ProjectError(content)
            elif kind == "error":
                raise HelperFailed(f"a helper process of the import failed:\n{content}")


class _Done(BaseException):
    """A helper has sent its results: it leaves the shared part (and exits) without an error."""


def _balanced(sizes: list[int], processes: int) -> list[list[int]]:
    """The items shared out by size, the biggest first, each to the process with the least so far."""
    shares: list[list[int]] = [[] for _ in range(processes)]
    loads = [0] * processes
    for index in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        least = loads.index(min(loads))
        shares[least].append(index)
        loads[least] += sizes[index]
    return [sorted(share) for share in shares]
