"""Shared fixtures: generated ground-truth videos (rendered once per test session)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
KMO = [sys.executable, "-m", "kinemotion_cli"]


def run_kmo(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real kmo CLI in a subprocess."""
    return subprocess.run([*KMO, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def truth_of(video: Path) -> dict:
    """The ground-truth file written next to a generated video."""
    return json.loads(video.with_name(video.stem + ".truth.json").read_text())


@pytest.fixture(scope="session")
def gt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("groundtruth")


def render_once(gt_dir: Path, name: str, **spec) -> Path:
    """Render a ground-truth video into the session dir unless it is there already."""
    from tests.groundtruth import Spec, render

    out = gt_dir / f"{name}.mp4"
    if not out.exists():
        render(Spec(**spec), out)
    return out


def truth_jumps(truth: dict) -> list[dict]:
    """Every truth jump of a generated video (old truth files hold one, at the top level)."""
    if truth.get("jumps"):
        return truth["jumps"]
    return [{"index": 1, "jump_type": truth["jump_type"], "events": truth["events"],
             "metrics": truth["metrics"]}]  # fmt: skip


def match_jumps(found: list[dict], truths: list[dict], within_s: float = 0.25) -> list:
    """Pairs (truth jump, kmo jump or None), matched by the nearest takeoff."""
    pairs = []
    for tj in truths:
        to = tj["events"].get("takeoff_s")
        best = min(
            (j for j in found if j["events"].get("takeoff_s") is not None and to is not None),
            key=lambda j: abs(j["events"]["takeoff_s"] - to),
            default=None,
        )
        if best is not None and abs(best["events"]["takeoff_s"] - to) > within_s:
            best = None
        pairs.append((tj, best))
    return pairs


# --------------------------------------------------------------------------- shared helpers

SAMPLE = SAMPLES / "cmj_60fps.mp4"


def one_error_line(stderr: str) -> str:
    """The only non-empty stderr line (asserting there is exactly one and no traceback)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in stderr
    return lines[0]


def decode_report(times, nominal_fps: float | None = None, **changes):  # noqa: ANN001, ANN201
    """The DecodeReport an undamaged decode of ``times`` gives (fields overridable)."""
    import dataclasses

    import numpy as np

    from kinemotion_cli.video import DecodeReport, frame_timing, measured_fps

    times = np.asarray(times, dtype=float)
    fps = nominal_fps or measured_fps(times, 30.0)
    dropped, gaps, jitter = frame_timing(times)
    report = DecodeReport(
        times=times,
        measured_fps=measured_fps(times, fps),
        undecodable=0,
        concealed=0,
        duplicate_frames=0,
        damaged=(),
        dropped_frames=dropped,
        gaps=gaps,
        timestamp_jitter_ms=jitter,
        warnings=(),
    )
    return dataclasses.replace(report, **changes)


def static_camera(n: int, **changes):  # noqa: ANN201
    """The CameraMotion of a camera that did not move over ``n`` frames."""
    import dataclasses

    import numpy as np

    from kinemotion_cli.camera import CameraMotion

    motion = CameraMotion(
        np.tile(np.eye(3)[:2], (n, 1, 1)), np.ones(n, bool), "static", None, 0.0, 0.0, 0.0
    )
    return dataclasses.replace(motion, **changes)


def measured_from_series(  # noqa: ANN201
    t,  # noqa: ANN001
    lm,  # noqa: ANN001
    fps: float,
    jump: str = "auto",
    stature_m: float | None = None,
    report=None,  # noqa: ANN001
    camera=None,  # noqa: ANN001
    people=None,  # noqa: ANN001
):
    """Run the pipeline's measuring stages (``pipeline.measure``) on a landmark series, as if a
    pose backend had found exactly these landmarks in a video of these timestamps."""
    from kinemotion_cli.pipeline import PoseRun, PoseSpec, measure
    from kinemotion_cli.video import VideoInfo

    n = len(t)
    info = VideoInfo("synthetic.mp4", 1080, 1920, fps, n, float(t[-1]), 0, "h264")
    if people is None:
        people = tuple([lm[i]] for i in range(n))
    run = PoseRun(
        PoseSpec("mediapipe"),
        "ok",
        None,
        {"backend": "mediapipe", "model": "pose_landmarker_full", "device_used": "cpu"},
        None,
        tuple(people),
        1.0,
        n,
        frame_size=(720, 1280),  # what --max-side 1280 makes of 1080x1920
    )
    report = report if report is not None else decode_report(t, fps)
    camera = camera if camera is not None else static_camera(n)
    return measure(info, report, camera, run, jump, stature_m)


def readme_exit_codes() -> list[set[int]]:
    """The codes of every exit-code table in README.md (one set per table)."""
    tables: list[set[int]] = []
    section = False
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("#"):
            section = line.strip("# ").lower() == "exit codes"
            if section:
                tables.append(set())
            continue
        m = re.match(r"^\|\s*(\d+)\s*\|", line)
        if section and m:
            tables[-1].add(int(m.group(1)))
    return tables


def main_in_process(monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """Exit code of ``kmo *argv`` run in this process (cli.main, SIGINT handler restored)."""
    from kinemotion_cli import cli

    monkeypatch.setattr(cli, "silence_native_stderr", lambda: None)
    monkeypatch.setattr(sys, "argv", ["kmo", *argv])
    old = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as exc:
            cli.main()
    finally:
        signal.signal(signal.SIGINT, old)
    return exc.value.code


def sigint_default() -> None:
    """Popen ``preexec_fn``: give the child the default SIGINT disposition. A shell starts
    background jobs (``make test &``) with SIGINT ignored, the children inherit that, and
    Python then never raises KeyboardInterrupt, so a Ctrl-C test would wait in vain."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
