"""The one pipeline shared by all jump types: video -> pose -> jumper -> analysis."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kinemotion_cli.backends import BackendOptions, PoseBackend, create
from kinemotion_cli.jumps import JumpResult, analyze
from kinemotion_cli.subject import select_jumper
from kinemotion_cli.video import VideoInfo, iter_frames, probe

ProgressFn = Callable[[int, int | None], None]


@dataclass
class PoseRun:
    """Raw pose output of one backend over one video."""

    backend: PoseBackend
    people: list[list[np.ndarray]] = field(default_factory=list)
    infer_s: float = 0.0


@dataclass
class Tracked:
    """The jumper's landmarks over time, and how they were obtained."""

    info: VideoInfo
    times: np.ndarray
    landmarks: np.ndarray
    backend_info: dict
    subject: dict
    timing: dict


@dataclass
class Analysis:
    """A measured video."""

    tracked: Tracked
    result: JumpResult


def batch_size(backend: PoseBackend) -> int:
    """Frames a backend takes at once (``--batch``; 1 unless it has ``infer_batch``)."""
    return max(1, int(getattr(backend, "batch", 1))) if hasattr(backend, "infer_batch") else 1


def _feed(run: PoseRun, images: list[np.ndarray], times: list[float]) -> None:
    """Give a run of consecutive frames to one backend, in its own batch size."""
    size = batch_size(run.backend)
    t0 = time.perf_counter()
    if size == 1:
        run.people.extend(run.backend.infer(im, t) for im, t in zip(images, times))
    else:
        for i in range(0, len(images), size):
            run.people.extend(run.backend.infer_batch(images[i : i + size], times[i : i + size]))
    run.infer_s += time.perf_counter() - t0


def run_pose(
    path: str,
    info: VideoInfo,
    backends: Sequence[PoseBackend],
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, list[PoseRun], float]:
    """Decode the video once and feed every frame to each backend.

    Backends with ``--batch`` N > 1 get N consecutive frames at a time (pose crops batched
    across frames); the decode thread keeps decoding meanwhile.
    """
    runs = [PoseRun(b) for b in backends]
    chunk = max((batch_size(b) for b in backends), default=1)
    times: list[float] = []
    images: list[np.ndarray] = []
    t_start = time.perf_counter()

    def flush() -> None:
        for run in runs:
            _feed(run, images, times[len(times) - len(images) :])
        images.clear()
        if progress is not None:
            progress(len(times), info.frames)

    for frame in iter_frames(path, info):
        times.append(frame.t)
        images.append(frame.image)
        if len(images) >= chunk:
            flush()
    if images:
        flush()
    return np.asarray(times), runs, time.perf_counter() - t_start


def track(info: VideoInfo, times: np.ndarray, run: PoseRun, total_s: float) -> Tracked:
    """Select the jumper from one backend's output."""
    landmarks, subject = select_jumper(run.people, times)
    n = len(times)
    detected = sum(1 for p in run.people if p)
    subject["detection_rate"] = round(detected / n, 4) if n else 0.0
    timing = {
        "total_s": total_s,
        "inference_s": run.infer_s,
        "inference_fps": n / run.infer_s if run.infer_s > 0 else None,
        "end_to_end_fps": n / total_s if total_s > 0 else None,
    }
    return Tracked(info, times, landmarks, dict(run.backend.info), subject, timing)


def analyze_video(
    path: str,
    backend: str = "mediapipe",
    options: BackendOptions | None = None,
    jump: str = "auto",
    stature_m: float | None = None,
    progress: ProgressFn | None = None,
) -> Analysis:
    """Measure the jump in one video file."""
    info = probe(path)
    pose = create(backend, options or BackendOptions())
    try:
        times, runs, total = run_pose(path, info, [pose], progress)
    finally:
        pose.close()
    info.frames = len(times)
    tracked = track(info, times, runs[0], total)
    fps = measured_fps(times, info.fps)
    result = analyze(times, tracked.landmarks, fps, jump=jump, stature_m=stature_m)
    return Analysis(tracked, result)


def measured_fps(times: np.ndarray, nominal: float) -> float:
    """Frame rate from the timestamps (median interval), falling back to the nominal one."""
    if len(times) < 3:
        return nominal
    dt = float(np.median(np.diff(times)))
    return 1.0 / dt if dt > 0 else nominal
