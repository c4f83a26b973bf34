"""Every core for one video: N instances of a stateless backend, one thread each.

MediaPipe in IMAGE mode infers each frame on its own, and its C library releases the GIL
while it runs, so N instances on N threads use N cores in one process (without the memory
of N processes). Frames go in with :meth:`PosePool.submit` and their people come back as
futures; the caller consumes them in the order it submitted them. The instances are
identical and each runs single-threaded, so which one inferred a frame does not change its
result: the output is the same for any N.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from kinemotion_cli.backends import PoseBackend


def usable_cores() -> int:
    """Cores this process may use (affinity mask and cgroup CPU quota; SMT siblings once)."""
    from kinemotion_cli.backends.ort import default_threads

    return default_threads()


def per_video(workers: int = 1, cores: int | None = None) -> int:
    """Inference threads for each video when ``workers`` videos are measured side by side:
    the usable cores shared out, at least one."""
    cores = usable_cores() if cores is None else cores
    return max(1, cores // max(1, workers))


class PosePool:
    """``n`` instances of one backend; ``first`` is already created, the others are made by
    ``make`` inside their own threads (overlapping with decoding). An instance that cannot be
    made leaves the pool smaller and says so in :attr:`warnings`."""

    def __init__(self, first: PoseBackend, make: Callable[[], PoseBackend] | None, n: int) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._made: list[PoseBackend] = []
        self.busy_s = 0.0
        self.warnings: list[str] = []
        count = max(1, n) if make is not None else 1
        self._threads = [
            threading.Thread(target=self._work, args=(first if k == 0 else None, make), daemon=True)
            for k in range(count)
        ]
        for th in self._threads:
            th.start()

    @property
    def size(self) -> int:
        """Threads started (an instance that could not be made still counts here)."""
        return len(self._threads)

    def _work(self, backend: PoseBackend | None, make: Callable[[], PoseBackend] | None) -> None:
        if backend is None:
            try:
                backend = make()  # type: ignore[misc]
            except Exception as exc:  # noqa: BLE001 - the other instances carry on
                with self._lock:
                    self.warnings.append(
                        f"one of the inference threads could not load its model "
                        f"({type(exc).__name__}: {str(exc)[:120]}); fewer threads ran"
                    )
                return
            with self._lock:
                self._made.append(backend)
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fut, image, t = job
            if not fut.set_running_or_notify_cancel():
                continue
            t0 = time.perf_counter()
            try:
                fut.set_result(backend.infer(image, t))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                fut.set_exception(exc)
            with self._lock:
                self.busy_s += time.perf_counter() - t0

    def submit(self, image: np.ndarray, t: float) -> Future:
        """Queue one frame; a future of its people."""
        fut: Future = Future()
        self._jobs.put((fut, image, t))
        return fut

    def close(self) -> None:
        """Cancel what is still queued, stop the threads, release the instances made here
        (the caller releases ``first``)."""
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        for _ in self._threads:
            self._jobs.put(None)
        for th in self._threads:
            th.join()
        for backend in self._made:
            backend.close()
