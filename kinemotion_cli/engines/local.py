"""Local executors: one video at a time in this process, or a local process pool.

The pool uses the *spawn* start method (MediaPipe is not fork-safe once initialised).
"""

from __future__ import annotations

from kinemotion_cli import batch
from kinemotion_cli.batch import Config, Job, Outcome
from kinemotion_cli.console import ProgressBar
from kinemotion_cli.engines import Finish, Tally
from kinemotion_cli.errors import ExitCode


class SerialExecutor:
    """Measure videos one after the other here, with a per-frame progress bar."""

    name = "serial"

    def __init__(self, cfg: Config, bar: ProgressBar) -> None:
        self.cfg, self.bar = cfg, bar

    def run(self, todo: list[Job], finish: Finish) -> None:
        bar, n = self.bar, len(todo)
        for k, job in enumerate(todo, 1):
            label = f"[{k}/{n}] {job.video.name}" if n > 1 else job.video.name
            task = bar.task(label)

            def stage(name: str, done: int, total: int | None, task=task, label=label) -> None:  # noqa: ANN001
                desc = label if name == "pose" else f"{label} ({name})"
                bar.update(task, description=desc, completed=done, total=total)

            try:
                out = batch.process(
                    job, self.cfg.settings, stage if bar.progress is not None else None
                )
            finally:
                bar.remove(task)
            finish(out)


class PoolExecutor:
    """Measure videos in a local ``ProcessPoolExecutor`` of ``workers`` processes."""

    name = "pool"

    def __init__(self, cfg: Config, bar: ProgressBar, workers: int) -> None:
        self.cfg, self.bar, self.workers = cfg, bar, workers

    def run(self, todo: list[Job], finish: Finish) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        tally = Tally(self.bar, len(todo), f"{len(todo)} videos, {self.workers} workers")
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
        try:
            settings = batch.share_cores(self.cfg.settings, self.workers)
            futures = {pool.submit(batch.process, job, settings): job for job in todo}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    out = fut.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a worker killed by the OS
                    out = failed(job, f"worker process failed: {type(exc).__name__}: {exc}")
                tally.add(out)
                finish(out)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def failed(job: Job, message: str, code: int = int(ExitCode.INTERNAL)) -> Outcome:
    """The error outcome of a video whose worker (not the video itself) failed."""
    from kinemotion_cli import report

    return Outcome(job.index, report.error_dict(str(job.video), message, code), code)
