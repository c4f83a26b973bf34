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


def run_pose(
    path: str,
    info: VideoInfo,
    backends: Sequence[PoseBackend],
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, list[PoseRun], float]:
    """Decode the video once and feed every frame to each backend."""
    runs = [PoseRun(b) for b in backends]
    times: list[float] = []
    t_start = time.perf_counter()
    for frame in iter_frames(path, info):
        times.append(frame.t)
        for run in runs:
            t0 = time.perf_counter()
            run.people.append(run.backend.infer(frame.image, frame.t))
            run.infer_s += time.perf_counter() - t0
        if progress is not None:
            progress(len(times), info.frames)
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
