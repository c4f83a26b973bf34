"""backends/pool.py: N instances of a stateless backend on N threads, results per frame."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.backends.pool import PosePool, per_video
from kinemotion_cli.batch import Settings, share_cores


class Echo:
    """People of a frame: one person whose every point is the frame's value; frame -1 fails."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.closed = False

    def infer(self, image: np.ndarray, t: float) -> list[np.ndarray]:
        if self.gate is not None:
            self.gate.wait()
        if t < 0:
            raise ValueError("bad frame")
        return [np.full((26, 3), float(image[0, 0]))]

    def close(self) -> None:
        self.closed = True


def test_each_future_holds_its_own_frame_and_errors_reach_the_caller() -> None:
    made: list[Echo] = []
    pool = PosePool(Echo(), lambda: made.append(Echo()) or made[-1], 3)
    futs = [pool.submit(np.full((2, 2), float(i)), float(i) if i != 7 else -1.0) for i in range(20)]
    for i, fut in enumerate(futs):
        if i == 7:
            with pytest.raises(ValueError, match="bad frame"):
                fut.result()
        else:
            assert fut.result()[0][0, 0] == i
    assert pool.submit(np.full((2, 2), 42.0), 0.0).result()[0][0, 0] == 42.0
    pool.close()
    assert pool.size == 3 and len(made) == 2 and all(b.closed for b in made)


def test_close_cancels_what_is_still_queued() -> None:
    gate = threading.Event()
    pool = PosePool(Echo(gate), None, 4)  # no way to make twins: one thread
    futs = [pool.submit(np.zeros((2, 2)), 0.0) for _ in range(5)]
    closer = threading.Thread(target=pool.close)
    closer.start()
    gate.set()
    closer.join()
    assert pool.size == 1
    assert all(f.done() for f in futs)  # inferred or cancelled, none left hanging


def test_videos_side_by_side_share_the_cores_unless_threads_are_given() -> None:
    assert per_video(1, cores=8) == 8 and per_video(3, cores=8) == 2 and per_video(4, cores=2) == 1
    plain = Settings("mediapipe", BackendOptions())
    assert share_cores(plain, 1) is plain
    assert share_cores(plain, 2).options.threads == per_video(2)
    given = Settings("mediapipe", BackendOptions(threads=3))
    assert share_cores(given, 2).options.threads == 3
