"""The worker side of ``--engine ray``: one long-lived process that measures videos.

:class:`VideoWorker` is made a Ray actor by the driver (``ray.remote(VideoWorker)``), so this
module does not import Ray and can be used (and tested) without it. One actor is one worker
process; it measures one video at a time with :func:`kinemotion_cli.batch.process`, exactly
as the local engines do, and keeps what is costly to set up for the next video:

* the model files: with ``--model-dir``, the folder's files are put in Ray's object store once
  per run and fetched by a worker only if it cannot see the folder itself, once per worker;
* the pose backend: a backend that carries no state from one video to the next (MediaPipe in
  IMAGE mode, or any backend with a ``reset()`` method) is loaded once per worker and reused.
  Others (RTMPose's tracker) are rebuilt for each video from the
  worker's local model files, so results never depend on which videos a worker saw before.

Paths: the driver sends absolute paths. A worker that cannot see a video (no shared storage)
says so, and the driver sends the video's bytes instead (``--ray-send-videos`` always does);
the worker then measures a private copy. Overlays and plots are written in a private folder
and their bytes returned, so the driver writes every output file, atomically, on its own
disk. Either way every path in the result reads as the user gave it.

Test-only hook: with ``KMO_RAY_TEST_HOOKS=DIR`` set in the driver's environment, the worker
touches ``DIR/<video name>.started`` when it starts a video; if ``DIR/<video name>.crash``
exists (it holds a count, default 1) the worker process dies (``os._exit``) before measuring
the video, and ``DIR/<video name>.raise`` makes the task raise instead; each time the count
goes down by one and the file goes at zero. It exists for ``tests/test_ray.py`` (a worker
killed mid-run is retried) and does nothing unless that variable is set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from kinemotion_cli.batch import Job, Outcome, Settings, process

TEST_HOOKS_ENV = "KMO_RAY_TEST_HOOKS"


@dataclass
class WorkResult:
    """What a worker sends back for one video."""

    outcome: Outcome | None  # None: the worker cannot see the video; send its bytes
    files: dict[str, bytes] = field(default_factory=dict)  # "overlay"/"plot" -> content
    pid: int = 0
    loads: int = 0  # pose backends this worker has loaded so far
    seconds: float = 0.0  # time spent in the worker for this call


class BackendCache:
    """Keeps stateless pose backends of one worker process for the next video.

    Its :meth:`create` is the pipeline's backend factory in a Ray worker (a process that
    measures many videos). A reusable backend is handed out behind :class:`_Kept`, whose
    ``close()`` keeps the model loaded; its ``load_s`` reads 0 after the first video.
    """

    def __init__(self) -> None:
        from kinemotion_cli.backends import create

        self._create = create
        self._kept: dict[tuple, tuple] = {}
        self.loads = 0

    @staticmethod
    def reusable(backend: object) -> bool:
        """MediaPipe (IMAGE mode only, no state between frames) or a backend with reset()."""
        if callable(getattr(backend, "reset", None)):
            return True
        return getattr(backend, "name", None) == "mediapipe"

    def create(self, name: str, options: object) -> tuple:
        key = (name, options)
        if key in self._kept:
            backend, choice = self._kept[key]
            if callable(getattr(backend, "reset", None)):
                backend.reset()
            return _Kept(backend, reused=True), choice
        backend, choice = self._create(name, options)
        self.loads += 1
        if not self.reusable(backend):
            return backend, choice
        self._kept[key] = (backend, choice)
        return _Kept(backend, reused=False), choice

    def clear(self) -> None:
        """Close every kept backend (after a video that failed unexpectedly)."""
        for backend, _ in self._kept.values():
            with contextlib.suppress(Exception):  # a broken backend must not fail the task
                backend.close()
        self._kept.clear()


class _Kept:
    """A kept backend as the pipeline sees it: everything delegated, ``close()`` keeps it."""

    def __init__(self, backend: object, reused: bool) -> None:
        self._backend, self._reused = backend, reused

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._backend, name)

    @property
    def info(self) -> dict:
        info = dict(self._backend.info)
        if self._reused and "load_s" in info:
            info["load_s"] = 0.0
        return info

    def close(self) -> None:
        pass


class VideoWorker:
    """One worker process: measures the videos it is given, one at a time."""

    def __init__(
        self,
        settings: Settings,
        models: list | None = None,
        manifest: dict[str, int] | None = None,
        hooks: str | None = None,
    ) -> None:
        self.settings = settings
        self.hooks = Path(hooks) if hooks else None
        self.scratch = Path(tempfile.mkdtemp(prefix="kmo-ray-"))
        model_dir = settings.options.model_dir
        if model_dir and manifest and not _has_files(Path(model_dir), manifest):
            local = self.scratch / "models"
            local.mkdir()
            import ray

            (blob,) = ray.get(models)  # fetched once per worker, from the object store
            for name, data in blob.items():
                (local / name).write_bytes(data)
            options = replace(settings.options, model_dir=str(local))
            self.settings = replace(settings, options=options)
        self.cache = BackendCache()

    def ready(self) -> int:
        """Answers once the worker has started (the driver gives work only to ready workers)."""
        return os.getpid()

    def run(self, job: Job, src: str, size: int | None, data: bytes | None = None) -> WorkResult:
        """Measure ``job``'s video, read at ``src`` (absolute) or from ``data``."""
        t0 = time.perf_counter()
        name = Path(src).name
        self._hook(name)
        if data is not None:
            folder = Path(tempfile.mkdtemp(prefix="video-", dir=self.scratch))
            path = folder / name
            path.write_bytes(data)
        elif size is None or _visible(src, size):
            folder, path = None, Path(src)
        else:
            return WorkResult(None, pid=os.getpid(), loads=self.cache.loads)
        out_dir = Path(tempfile.mkdtemp(prefix="out-", dir=self.scratch))
        try:
            here = Job(
                job.index,
                path,
                overlay=out_dir / job.overlay.name if job.overlay is not None else None,
                plot=out_dir / job.plot.name if job.plot is not None else None,
                overwrite=True,
            )
            out = process(here, self.settings, factory=self.cache.create)
            if out.code == 1:  # an unexpected error: do not keep a backend it may have broken
                self.cache.clear()
            files = {}
            if out.code == 0:
                for key in ("overlay", "plot"):
                    target = getattr(here, key)
                    if target is not None and target.exists():
                        files[key] = target.read_bytes()
            out.obj = _retarget(out.obj, str(path), str(job.video))
            if out.trace:
                out.trace = out.trace.replace(str(path), str(job.video))
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        seconds = time.perf_counter() - t0
        return WorkResult(out, files, os.getpid(), self.cache.loads, seconds)

    def _hook(self, name: str) -> None:
        """The test-only hook described in the module docstring."""
        if self.hooks is None:
            return
        (self.hooks / f"{name}.started").touch()
        for kind in ("crash", "raise"):
            marker = self.hooks / f"{name}.{kind}"
            if not marker.exists():
                continue
            left = int(marker.read_text().strip() or 1) - 1
            if left > 0:
                marker.write_text(str(left))
            else:
                marker.unlink()
            if kind == "crash":
                os._exit(70)
            raise RuntimeError(f"test hook: task for {name} raised")

    def close(self) -> None:
        self.cache.clear()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _visible(src: str, size: int) -> bool:
    """Whether this worker sees the driver's file at ``src`` (same size)."""
    try:
        return os.path.isfile(src) and os.path.getsize(src) == size and os.access(src, os.R_OK)
    except OSError:
        return False


def _has_files(folder: Path, manifest: dict[str, int]) -> bool:
    try:
        return all((folder / n).stat().st_size == s for n, s in manifest.items())
    except OSError:
        return False


def _retarget(obj: object, path: str, video: str) -> object:
    """``obj`` with the worker's path of the video replaced by the path the user gave."""
    if path == video:
        return obj
    if isinstance(obj, str):
        return obj.replace(path, video)
    if isinstance(obj, dict):
        return {k: _retarget(v, path, video) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_retarget(v, path, video) for v in obj)
    return obj
