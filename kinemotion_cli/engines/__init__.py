"""Executors for ``kmo analyze`` batches: where each video's :func:`batch.process` runs.

An executor takes the videos still to measure (``todo``, in input order) and calls
``finish(outcome)`` once per video, in the driver process, as each one completes. ``finish``
(owned by :func:`kinemotion_cli.batch.run_batch`) writes the per-video JSON atomically and
prints results in input order, so every engine gives the same files, the same output and the
same exit code by construction; executors differ only in where the work runs:

* ``serial``: in this process, one video after the other, with a per-frame progress bar;
* ``pool``: a local ``ProcessPoolExecutor`` (``--workers N``);
* ``ray``: Ray actors on a local or remote Ray cluster (``--engine ray``), see
  :mod:`kinemotion_cli.engines.ray_engine`. Ray is imported only on that path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from kinemotion_cli.console import ProgressBar
from kinemotion_cli.errors import ExitCode, KmoError

if TYPE_CHECKING:
    from kinemotion_cli.batch import Config, Job, Outcome

Finish = Callable[["Outcome"], None]
ENGINES = ("local", "ray")
RAY_INSTALL_HINT = 'pip install "kinemotion-cli[ray]"'


class Executor(Protocol):
    """Runs ``process`` for every job and hands each outcome to ``finish``."""

    name: str

    def run(self, todo: list[Job], finish: Finish) -> None: ...


def engine_of(cfg: Config) -> str:
    """The engine a configuration asks for (``--ray-address`` implies ``ray``)."""
    engine = cfg.engine or ("ray" if cfg.ray_address else "local")
    if engine not in ENGINES:
        raise KmoError(f"--engine {engine}: choose one of {', '.join(ENGINES)}.")
    if cfg.ray_address and engine != "ray":
        raise KmoError("--ray-address needs --engine ray (or leave --engine out).")
    return engine


def check(cfg: Config) -> None:
    """Refuse an engine that cannot run here, before any output is planned (exit 2)."""
    if engine_of(cfg) == "ray":
        require_ray()
    elif cfg.ray_gpus is not None or cfg.ray_send_videos:
        raise KmoError("--ray-gpus and --ray-send-videos need --engine ray.")


def require_ray():  # noqa: ANN201 - the ray module
    """Import Ray, or raise the one-line install hint (exit 2)."""
    try:
        import ray
    except ImportError:
        raise KmoError(
            f"--engine ray needs the optional Ray extra; install it with: {RAY_INSTALL_HINT}",
            ExitCode.BAD_INPUT,
        ) from None
    return ray


def executor_for(cfg: Config, bar: ProgressBar, n_todo: int) -> Executor:
    """The executor for this run: serial, local pool or Ray."""
    if engine_of(cfg) == "ray":
        from kinemotion_cli.engines.ray_engine import RayExecutor

        return RayExecutor(cfg, bar)
    from kinemotion_cli.engines.local import PoolExecutor, SerialExecutor

    workers = max(1, min(cfg.workers or 1, n_todo))
    if workers == 1:
        return SerialExecutor(cfg, bar)
    return PoolExecutor(cfg, bar, workers)


def progress_unit(cfg: Config, n_todo: int) -> str:
    """What the progress bar counts: frames of one video at a time, or whole videos."""
    if engine_of(cfg) == "ray" or min(cfg.workers or 1, n_todo) > 1:
        return "videos"
    return "frames"


class Tally:
    """A videos-completed/total progress line that also shows failures as they happen."""

    def __init__(self, bar: ProgressBar, total: int, label: str) -> None:
        self.bar, self.total, self.label = bar, total, label
        self.done = 0
        self.failed: list[str] = []
        self.task = bar.task(label, total=total)

    def add(self, out: Outcome) -> None:
        self.done += 1
        if out.failed:
            from pathlib import Path

            self.failed.append(Path(str(out.obj.get("video"))).name)
        self.bar.update(self.task, advance=1, description=self.description())

    def description(self) -> str:
        if not self.failed:
            return self.label
        last = self.failed[-1]
        return f"{self.label} · {len(self.failed)} failed (last: {last})"
