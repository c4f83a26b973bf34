"""Console, progress and printing: everything kmo writes to the terminal goes through here.

stdout carries results only (tables, JSON, CSV, markdown); progress bars and notes go to
stderr, progress bars only when stderr is a terminal. Errors are one line on stderr:
``kmo: error: <what is wrong>; <what to do>``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from kinemotion_cli.errors import KmoError

STATE = {"debug": False, "native_fd": None}


def one_line(text: str) -> str:
    """Collapse a message onto one line."""
    return " ".join(str(text).split())


def error(message: str) -> None:
    """Print one error line on stderr (with the current traceback under ``--debug``)."""
    if STATE["debug"]:
        traceback.print_exc()
    sys.stderr.write(f"kmo: error: {one_line(message)}\n")
    sys.stderr.flush()


def note(message: str) -> None:
    """A one-line note on stderr."""
    sys.stderr.write(f"kmo: {one_line(message)}\n")
    sys.stderr.flush()


def kmo_error(exc: KmoError) -> None:
    """Print a :class:`KmoError` as one line on stderr."""
    error(exc.message)


def silence_native_stderr() -> None:
    """Send native-library chatter on fd 2 (MediaPipe/absl logs) to /dev/null.

    Python's ``sys.stderr`` keeps writing to the real stderr through a duplicate of fd 2, so
    kmo's own messages and progress bars still show. :func:`set_debug` undoes it.
    """
    try:
        real = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        STATE["native_fd"] = real
        sys.stderr = os.fdopen(os.dup(real), "w", buffering=1, encoding="utf-8", errors="replace")
    except OSError:
        pass


def set_debug(debug: bool) -> None:
    """``--debug``: show tracebacks, and native libraries' own messages again."""
    import warnings

    STATE["debug"] = debug
    if debug:
        warnings.simplefilter("default")
        fd = STATE["native_fd"]
        if fd is not None:
            os.dup2(fd, 2)


def print_rich(renderable: object, width: int | None = None) -> None:
    """Print a rich renderable on stdout (160 columns when stdout is not a terminal)."""
    from rich.console import Console

    Console(width=width or (None if sys.stdout.isatty() else 160)).print(renderable)


def write_out(text: str) -> None:
    """Write results on stdout."""
    sys.stdout.write(text)
    sys.stdout.flush()


class ProgressBar:
    """A rich progress bar on stderr (or nothing), counting ``unit`` (frames, videos)."""

    def __init__(self, enabled: bool, unit: str) -> None:
        self.progress = None
        self.unit = unit
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.progress.start()

    @classmethod
    def for_terminal(cls, quiet: bool, unit: str) -> ProgressBar:
        """A bar when stderr is a terminal and not ``--quiet``; else a silent one."""
        return cls(not quiet and sys.stderr.isatty(), unit)

    def task(self, description: str, total: int | None = None) -> int | None:
        if self.progress is None:
            return None
        return self.progress.add_task(description, total=total, count=self._count(0, total))

    def _count(self, done: float, total: float | None) -> str:
        return f"{done:g}/{total:g} {self.unit}" if total else f"{done:g} {self.unit}"

    def update(self, task: int | None, **kw) -> None:  # noqa: ANN003
        if self.progress is not None and task is not None:
            self.progress.update(task, **kw)
            t = self.progress.tasks[self.progress.task_ids.index(task)]
            self.progress.update(task, count=self._count(t.completed, t.total))

    def callback(self, description: str) -> Callable[[int, int | None], None] | None:
        """A ``(done, total)`` callback drawing a new task, or None without a bar."""
        if self.progress is None:
            return None
        task = self.task(description)
        return lambda done, total: self.update(task, completed=done, total=total)

    def remove(self, task: int | None) -> None:
        if self.progress is not None and task is not None:
            self.progress.remove_task(task)

    def paused(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (which prints) with the live bar cleared so lines do not interleave."""
        if self.progress is None:
            fn()
            return
        self.progress.stop()
        try:
            fn()
        finally:
            self.progress.start()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
