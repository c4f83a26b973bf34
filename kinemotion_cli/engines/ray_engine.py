"""``--engine ray``: measure a batch on Ray actors, one video per task.

The driver (this module, in the ``kmo`` process) connects to a cluster (``--ray-address`` or
``$RAY_ADDRESS``) or starts a local Ray, starts ``--workers`` actors
(:class:`~kinemotion_cli.engines.ray_worker.VideoWorker`, one CPU each, plus ``num_gpus``
for GPU backends) and gives each ready actor one video at a time, in input order. Each
outcome goes to the same ``finish`` as the local engines, in the driver, so JSON files, the
CSV, printed results and exit codes are those of ``--workers N``; overlays and plots come
back as bytes and are written here, atomically.

Failures: a worker that dies (killed, out of memory, a crash in native code) or a task that
raises is retried once, on a fresh worker if the old one died; a second failure reports the
video as failed with the reason and the batch goes on. A video that kmo itself rejects (bad
file, no jump) is not retried: it fails exactly as it does locally. Ctrl-C kills the actors
(their outstanding tasks end with them) and exits 130; only complete files are ever in
``--out``. ``KMO_RAY_START_TIMEOUT`` (seconds, default 600) bounds the wait for a first
worker on a cluster that cannot place one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from kinemotion_cli.batch import Config, Job, Outcome
from kinemotion_cli.console import ProgressBar, one_line
from kinemotion_cli.engines import Finish, Tally, require_ray
from kinemotion_cli.engines.local import failed
from kinemotion_cli.engines.ray_worker import TEST_HOOKS_ENV, VideoWorker, WorkResult
from kinemotion_cli.errors import ExitCode, KmoError

MAX_ATTEMPTS = 2  # a video whose worker fails is retried once
GPU_BACKENDS = ("rtmpose", "rtmo", "auto")
START_TIMEOUT_S = float(os.environ.get("KMO_RAY_START_TIMEOUT", "600"))
LOCAL_OBJECT_STORE = 512 * 1024 * 1024  # a local Ray only moves results (and, rarely, videos)


@dataclass
class Stats:
    """What the engine did, for the closing note and ``kinemotion_cli.bench_ray``."""

    workers: int = 0
    start_s: float | None = None  # connect or start Ray, until the first worker is ready
    retries: int = 0
    loads: dict[int, int] = field(default_factory=dict)  # worker pid -> backends loaded
    overhead_s: list[float] = field(default_factory=list)  # round trip - time in worker
    sent_videos: int = 0

    def line(self, n: int, where: str) -> str:
        per = 1000 * sum(self.overhead_s) / len(self.overhead_s) if self.overhead_s else 0.0
        loads = sum(self.loads.values())
        start = "no worker started" if self.start_s is None else f"start-up {self.start_s:.1f} s"
        return (
            f"ray: {n} video(s) on {self.workers} worker(s) ({where}); "
            f"{start}; {self.retries} retried; "
            f"pose models loaded {loads} time(s) in "
            f"{len(self.loads)} worker process(es); overhead {per:.0f} ms/video"
            + (f"; {self.sent_videos} video(s) sent as bytes" if self.sent_videos else "")
        )


@dataclass
class _Task:
    job: Job
    actor: object
    kind: str  # "ready" or "run"
    sent: float = 0.0


class RayExecutor:
    """Runs ``batch.process`` for every job on Ray actors; see the module docstring."""

    name = "ray"

    def __init__(self, cfg: Config, bar: ProgressBar) -> None:
        self.cfg, self.bar = cfg, bar
        self.stats = Stats()
        self.address = cfg.ray_address or os.environ.get("RAY_ADDRESS") or None

    # ------------------------------------------------------------------ cluster
    def _connect(self, ray) -> bool:  # noqa: ANN001
        """Connect to the cluster or start a local Ray; True if this call started it."""
        if ray.is_initialized():
            return False
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        quiet = {"logging_level": logging.ERROR, "log_to_driver": self.cfg.debug}
        if self.address:
            _reachable(self.address)
        try:
            if self.address:
                ray.init(address=self.address, **quiet)
            else:
                cpus = max(_local_cpus(), self.cfg.workers or 0)
                ray.init(
                    address="local",
                    num_cpus=cpus,
                    include_dashboard=False,
                    object_store_memory=LOCAL_OBJECT_STORE,
                    **quiet,
                )
            _quiet_driver(self.cfg.debug)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - no cluster, wrong address, version mismatch
            where = f"connect to the Ray cluster at {self.address}" if self.address else "start Ray"
            raise KmoError(
                f"cannot {where}: {type(exc).__name__}: {one_line(str(exc))[:200]}",
                ExitCode.BAD_INPUT,
            ) from None
        return True

    def _gpus(self, ray) -> float:  # noqa: ANN001
        """GPUs each worker asks for: ``--ray-gpus``, else 1 for a GPU backend on a GPU."""
        if self.cfg.ray_gpus is not None:
            return self.cfg.ray_gpus
        s = self.cfg.settings
        if s.backend not in GPU_BACKENDS or s.options.device in ("cpu", "coreml", "mps"):
            return 0.0
        have = float(ray.cluster_resources().get("GPU", 0))
        if s.options.device == "cuda" and have == 0:
            raise KmoError(
                "--device cuda: the Ray cluster has no GPU; use --device cpu or a GPU cluster.",
                ExitCode.BAD_INPUT,
            )
        return 1.0 if have > 0 else 0.0

    def _models(self, ray) -> tuple[list | None, dict[str, int] | None]:  # noqa: ANN001
        """``--model-dir`` files put once in the object store, for workers that lack them."""
        folder = self.cfg.settings.options.model_dir
        if not self.address or not folder or not Path(folder).is_dir():
            return None, None  # a local Ray's workers see this machine's folders
        files = {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}
        manifest = {n: len(b) for n, b in files.items()}
        return [ray.put(files)], manifest

    # ------------------------------------------------------------------ run
    def run(self, todo: list[Job], finish: Finish) -> None:
        ray = require_ray()
        t0 = time.perf_counter()
        owned = self._connect(ray)
        actors: list = []
        try:
            self._run(ray, todo, finish, actors, t0)
        except BaseException as exc:
            self._cancel(ray, actors, isinstance(exc, KeyboardInterrupt))
            raise
        finally:
            if owned:
                with contextlib.suppress(Exception):
                    ray.shutdown()

    def _run(self, ray, todo: list[Job], finish: Finish, actors: list, t0: float) -> None:  # noqa: ANN001, C901, PLR0912, PLR0915
        cfg = self.cfg
        cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
        n = max(1, min(cfg.workers or cpus, len(todo)))
        gpus = self._gpus(ray)
        models, manifest = self._models(ray)
        hooks = os.environ.get(TEST_HOOKS_ENV) or None
        remote = ray.remote(num_cpus=1, num_gpus=gpus, max_restarts=0, max_task_retries=0)(
            VideoWorker
        )
        self.stats.workers = n
        where = self.address or "local Ray"
        tally = Tally(self.bar, len(todo), f"{len(todo)} videos, {n} workers on {where}")
        pending: deque[Job] = deque(todo)
        failures: dict[int, list[str]] = {}
        tasks: dict = {}  # ObjectRef -> _Task
        idle: list = []
        last_start_error = ""
        started_once = False
        spawns_left = [n + len(todo)]  # every start beyond the first n replaces a dead worker

        def spawn() -> None:
            if spawns_left[0] <= 0:
                return
            spawns_left[0] -= 1
            actor = remote.remote(cfg.settings, models, manifest, hooks)
            actors.append(actor)
            tasks[actor.ready.remote()] = _Task(None, actor, "ready")  # type: ignore[arg-type]

        def submit(actor, job: Job, data=None) -> None:  # noqa: ANN001
            src = os.path.abspath(job.video)
            try:
                size = os.path.getsize(src)
            except OSError:
                size = None  # the driver cannot read it either: the worker reports why
            if data is None and cfg.ray_send_videos and size is not None:
                data = self._put_video(ray, src)
            ref = actor.run.remote(job, src, size, data)
            tasks[ref] = _Task(job, actor, "run", time.perf_counter())

        def retire(actor) -> None:  # noqa: ANN001
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)
            if actor in actors:
                actors.remove(actor)

        def give_up(job: Job, msg: str) -> None:
            out = failed(job, msg)
            tally.add(out)
            finish(out)

        def failure(task: _Task, reason: str, worker_died: bool) -> None:
            reasons = failures.setdefault(task.job.index, [])
            reasons.append(reason)
            if len(reasons) >= MAX_ATTEMPTS:
                give_up(task.job, f"failed on Ray {len(reasons)} times (retried once): {reason}")
            else:
                self.stats.retries += 1
                self._note(f"ray: retrying {task.job.video} ({reason})")
                pending.appendleft(task.job)
            if not worker_died:
                idle.append(task.actor)
                return
            retire(task.actor)
            if pending:
                spawn()  # a fresh worker in place of the one that died

        for _ in range(n):
            spawn()
        while pending or any(t.kind == "run" for t in tasks.values()):
            while idle and pending:
                submit(idle.pop(), pending.popleft())
            if not tasks:  # no worker alive or starting: the rest cannot be measured
                reason = last_start_error or "no Ray worker could start"
                while pending:
                    give_up(pending.popleft(), f"no Ray worker could start ({reason})")
                break
            if not started_once and time.perf_counter() - t0 > START_TIMEOUT_S:
                raise KmoError(
                    f"no Ray worker started within {START_TIMEOUT_S:.0f} s (each asks for 1 CPU"
                    f"{f' and {gpus:g} GPU' if gpus else ''}); check the cluster's resources.",
                    ExitCode.BAD_INPUT,
                )
            done, _ = ray.wait(list(tasks), num_returns=1, timeout=0.5)
            for ref in done:
                task = tasks.pop(ref)
                try:
                    value = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    if task.kind == "ready":
                        last_start_error = _reason(exc)
                        retire(task.actor)
                        if started_once and pending:
                            spawn()  # a replacement that failed to start: try once more
                        continue
                    failure(task, _reason(exc), worker_died=True)
                    continue
                except (ray.exceptions.RayError, OSError) as exc:
                    if task.kind == "ready":
                        last_start_error = _reason(exc)
                        retire(task.actor)
                        continue
                    died = isinstance(exc, ray.exceptions.WorkerCrashedError)
                    failure(task, _reason(exc), worker_died=died)
                    continue
                if task.kind == "ready":
                    if self.stats.start_s is None:
                        self.stats.start_s = time.perf_counter() - t0
                    started_once = True
                    idle.append(task.actor)
                    continue
                res: WorkResult = value
                self.stats.loads[res.pid] = res.loads
                if res.outcome is None:  # the worker cannot see the file: send its bytes
                    try:
                        data = self._put_video(ray, task.job.video)
                    except OSError as exc:
                        idle.append(task.actor)
                        give_up(task.job, f"cannot send it to its Ray worker: {exc}")
                        continue
                    submit(task.actor, task.job, data)
                    continue
                self.stats.overhead_s.append(
                    max(0.0, time.perf_counter() - task.sent - res.seconds)
                )
                idle.append(task.actor)
                out = self._write_files(task.job, res)
                tally.add(out)
                finish(out)
        self._close(ray, actors)
        if not cfg.quiet:
            self._note(self.stats.line(len(todo), where))

    def _put_video(self, ray, path) -> object:  # noqa: ANN001
        self.stats.sent_videos += 1
        return ray.put(Path(path).read_bytes())

    def _write_files(self, job: Job, res: WorkResult) -> Outcome:
        """Write the overlay/plot bytes a worker returned, atomically, where they belong."""
        from kinemotion_cli.outputs import atomic_path

        out = res.outcome
        for key, data in res.files.items():
            target = getattr(job, key)
            try:
                with atomic_path(target, force=job.overwrite) as tmp:
                    tmp.write_bytes(data)
            except KmoError as exc:
                return failed(job, exc.message, int(exc.code))
            except OSError as exc:
                msg = f"{target}: cannot write it ({exc.strerror or type(exc).__name__})."
                return failed(job, msg, int(ExitCode.BAD_INPUT))
        return out

    def _close(self, ray, actors: list) -> None:  # noqa: ANN001
        """Let the workers remove their scratch folders, then stop them."""
        refs = [a.close.remote() for a in actors]
        with contextlib.suppress(Exception):
            ray.wait(refs, num_returns=len(refs), timeout=10)
        for a in actors:
            with contextlib.suppress(Exception):
                ray.kill(a, no_restart=True)
        actors.clear()

    def _cancel(self, ray, actors: list, interrupted: bool) -> None:  # noqa: ANN001
        """Ctrl-C or an error: stop every worker now (their tasks end with them)."""
        import signal

        if interrupted:  # kmo is exiting with 130: a second Ctrl-C must not stop the clean-up
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signal.SIGINT, signal.SIG_IGN)
        for a in actors:
            with contextlib.suppress(Exception):
                ray.kill(a, no_restart=True)
        actors.clear()

    def _note(self, text: str) -> None:
        if self.cfg.quiet:
            return

        def say() -> None:
            sys.stderr.write(f"kmo: {one_line(text)}\n")
            sys.stderr.flush()

        self.bar.paused(say)


def _reason(exc: BaseException) -> str:
    """A one-line reason for a Ray failure: the exception a task raised, or how a worker died."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):  # a task raised: that exception says why
        return f"{type(cause).__name__}: {one_line(str(cause))[:200]}"
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines()]
    lines = [ln for ln in lines if ln]
    if getattr(exc, "actor_init_failed", False) and lines:  # the traceback's last line says why
        return f"the worker could not start: {lines[-1][:200]}"
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    whole = one_line(str(exc))
    kind = re.search(r"Worker exit type: (\S+)", whole)
    detail = re.search(r"Worker exit detail: (.*?\.)(\s|$)", whole)
    if kind:  # Ray's own sentence says no more than this
        why = f"{kind.group(1)}: {detail.group(1)}" if detail else kind.group(1)
        text = f"{type(exc).__name__}: its worker process died ({why})"
    return text[:300]


def _reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast (exit 2) when a ``host:port`` cluster address does not answer.

    ``ray.init`` keeps retrying an unreachable address for minutes; this checks the TCP port
    first. ``auto`` and addresses without a port are left to Ray.
    """
    import socket

    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise KmoError(
            f"cannot reach the Ray cluster at {address} ({why}); check --ray-address or "
            "$RAY_ADDRESS, and that the cluster runs ('ray start --head' on its head node).",
            ExitCode.BAD_INPUT,
        ) from None


def _quiet_driver(debug: bool) -> None:
    """Keep Ray's own messages off stdout, which carries kmo's results (JSON, CSV).

    Ray's driver prints the cluster's error messages (e.g. "A worker died ...") on stdout
    through ``ray._private.worker.print_to_stdstream`` even with ``log_to_driver=False``.
    kmo reports those failures itself, so they go to stderr with ``--debug`` and nowhere
    otherwise. If that private name changes, nothing is replaced.
    """
    try:
        from ray._private import worker
    except ImportError:
        return
    original = getattr(worker, "print_to_stdstream", None)
    if original is None or getattr(original, "kmo_quiet", False):
        return

    def to_stderr(data: dict, ignore_prefix: bool) -> None:
        if debug:
            original({**data, "is_err": True}, ignore_prefix)

    to_stderr.kmo_quiet = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def _local_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1
