"""Error taxonomy: each failure has its documented exit code and a one-line message.

Unit tests cover the analysis refusals (no jump, mismatch, out of frame, nobody, ambiguous
jumper); CLI tests cover usage errors, corrupt model files, Ctrl-C and the quality report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.jumps import analyze
from kinemotion_cli.landmarks import FOOT_POINTS
from kinemotion_cli.pipeline import Analysis, Tracked
from kinemotion_cli.report import frame_timing, quality
from kinemotion_cli.subject import select_jumper
from kinemotion_cli.video import VideoInfo
from tests.conftest import KMO, ROOT, SAMPLES, run_kmo
from tests.landmark_series import series

SAMPLE = SAMPLES / "cmj_60fps.mp4"


def _code(fn, *args, **kwargs) -> KmoError:  # noqa: ANN001
    with pytest.raises(KmoError) as exc:
        fn(*args, **kwargs)
    assert "\n" not in exc.value.message and exc.value.message.endswith(".")
    return exc.value


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in stderr
    return lines[0]


# --- analysis refusals -----------------------------------------------------------------------


def test_message_is_always_one_line() -> None:
    assert KmoError("two\nlines  here").message == "two lines here"


def test_no_jump() -> None:
    t, lm, _ = series("none", 60, noise_px=1.0)
    assert _code(analyze, t, lm, 60).code == ExitCode.NO_JUMP


def test_too_short() -> None:
    t, lm, _ = series("cmj", 60)
    assert _code(analyze, t[:20], lm[:20], 60).code == ExitCode.NO_JUMP


@pytest.mark.parametrize("asked,jump", [("dj", "cmj"), ("cmj", "drop_jump"), ("sj", "drop_jump")])
def test_jump_mismatch(asked: str, jump: str) -> None:
    t, lm, _ = series(jump, 60, noise_px=0.5)
    err = _code(analyze, t, lm, 60, jump=asked)
    assert err.code == ExitCode.JUMP_MISMATCH and f"--jump {asked}" in err.message


@pytest.mark.parametrize("event", ["takeoff_s", "landing_s"])
def test_feet_out_of_frame_at_event(event: str) -> None:
    t, lm, m = series("cmj", 60, noise_px=0.5)
    i = int(np.searchsorted(t, m.events[event]))
    lm[i - 3 : i + 3, FOOT_POINTS, 2] = 0.0  # feet leave the picture around the event
    lm[i - 3 : i + 3, 15:17, 2] = 0.0  # ankles too
    err = _code(analyze, t, lm, 60)
    assert err.code in (ExitCode.NOT_MEASURABLE, ExitCode.NO_JUMP)


def test_nobody_detected() -> None:
    times = np.arange(60) / 30
    assert _code(select_jumper, [[] for _ in times], times).code == ExitCode.NOT_MEASURABLE


def test_two_jumpers_are_ambiguous() -> None:
    t, lm, _ = series("cmj", 60)
    other = lm.copy()
    other[..., 0] += 300  # a second, identical jumper beside the first
    people = [[lm[i], other[i]] for i in range(len(t))]
    err = _code(select_jumper, people, t)
    assert err.code == ExitCode.NOT_MEASURABLE and "ambiguous" in err.message


def test_bystander_is_not_ambiguous() -> None:
    t, lm, _ = series("cmj", 60)
    still = np.repeat(lm[:1], len(t), axis=0)
    still[..., 0] += 300
    chosen, info = select_jumper([[still[i], lm[i]] for i in range(len(t))], t)
    assert info["people_tracked"] == 2
    assert np.allclose(chosen[:, :, 0], lm[:, :, 0])


# --- quality report --------------------------------------------------------------------------


def _analysis(t: np.ndarray, lm: np.ndarray, fps: float, **info_kw) -> Analysis:
    info = VideoInfo("synthetic.mp4", 1080, 1920, fps, len(t), float(t[-1]), 0, "h264", **info_kw)
    subject = {"people_tracked": 1, "jumper_coverage": 1.0, "detection_rate": 1.0}
    tracked = Tracked(info, t, lm, {"backend": "test"}, subject, {})
    return Analysis(tracked, analyze(t, lm, fps))


def test_quality_clean_jump_is_ok() -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.3)
    q = quality(_analysis(t, lm, 60))
    assert q["verdict"] == "ok", q["reasons"]
    assert q["dropped_frames"] == 0 and q["duplicated_frames"] == 0
    assert set(q["event_confidence"]) == {
        "movement_start_s",
        "lowest_point_s",
        "takeoff_s",
        "landing_s",
    }
    assert all(v == pytest.approx(0.95) for v in q["event_confidence"].values())
    assert q["fps_adequacy"]["flight_time_s"] == "ok"
    assert q["camera_motion_pct_body"] is not None and q["camera_motion_pct_body"] < 1.0


def test_frame_timing_counts_gaps() -> None:
    t = np.arange(100) / 60
    kept = np.delete(t, [10, 11, 50])
    got = frame_timing(kept)
    assert got["dropped_frames"] == 3 and len(got["gaps"]) == 2


def test_quality_flags_dropped_frames_in_flight() -> None:
    t, lm, m = series("cmj", 60, noise_px=0.3)
    mid = (m.events["takeoff_s"] + m.events["landing_s"]) / 2
    i = int(np.searchsorted(t, mid))
    keep = np.ones(len(t), bool)
    keep[i : i + 3] = False
    q = quality(_analysis(t[keep], lm[keep], 60))
    assert q["dropped_frames"] == 3 and q["dropped_frames_in_jump"] == 1
    assert q["verdict"] == "low confidence"
    assert any("dropped" in r for r in q["reasons"])


def test_quality_flags_camera_motion() -> None:
    t, lm, m = series("cmj", 60, noise_px=0.3)
    drift = np.clip(t / m.events["movement_start_s"], 0, 1) * 40.0  # a 40 px pan while standing
    lm[..., 0] += drift[:, None]
    q = quality(_analysis(t, lm, 60))
    assert q["camera_motion_pct_body"] > 3.0
    assert q["verdict"] == "low confidence"
    assert any("camera" in r for r in q["reasons"])


def test_quality_flags_low_confidence_at_landing() -> None:
    t, lm, m = series("cmj", 60, noise_px=0.3)
    i = int(np.searchsorted(t, m.events["landing_s"]))
    lm[i - 2 : i + 2, FOOT_POINTS, 2] = 0.35  # above the mask threshold, but weak
    q = quality(_analysis(t, lm, 60))
    assert q["event_confidence"]["landing_s"] < 0.5
    assert q["verdict"] == "low confidence"


def test_quality_fps_adequacy_low_rate() -> None:
    t, lm, _ = series("cmj", 25, noise_px=0.3)
    adequacy = quality(_analysis(t, lm, 25))["fps_adequacy"]
    assert adequacy["peak_eccentric_velocity_m_s"] == "marginal"  # 25-50 fps
    assert adequacy["countermovement_depth_m"] == "ok"  # spatial
    t, lm, _ = series("cmj", 240, noise_px=0.3)
    assert set(quality(_analysis(t, lm, 240))["fps_adequacy"].values()) == {"ok"}


def test_quality_reports_damaged_video() -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.3)
    q = quality(_analysis(t, lm, 60, decode_errors=2, duplicate_frames=1))
    assert q["undecodable_frames"] == 2 and q["duplicated_frames"] == 1
    assert q["verdict"] == "low confidence"


def test_ratio_metrics_have_uncertainty() -> None:
    for jump, key in (("cmj", "rsi_modified"), ("drop_jump", "rsi_height_over_contact")):
        t, lm, _ = series(jump, 60, noise_px=1.0)
        m = analyze(t, lm, 60).metrics[key]
        assert m.uncertainty is not None and 0 < m.uncertainty < 0.2 * abs(m.value)


# --- CLI -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["analyze"],
        ["analyze", "x.mp4", "--bogus"],
        ["analyze", "x.mp4", "--height", "9"],
        ["analyze", "x.mp4", "--jump", "zz"],
        ["frobnicate"],
    ],
)
def test_usage_errors_one_line_exit_2(args: list[str]) -> None:
    p = run_kmo(*args, timeout=60)
    assert p.returncode == ExitCode.BAD_INPUT
    assert _one_error_line(p.stderr).startswith("kmo: error: ")


def test_missing_path_json_and_exit_2() -> None:
    p = run_kmo("analyze", "no/such/video.mp4", "--json", timeout=60)
    assert p.returncode == ExitCode.BAD_INPUT
    assert "no such file" in _one_error_line(p.stderr)
    assert '"status":"error"' in p.stdout and '"exit_code":2' in p.stdout


@pytest.mark.parametrize("model", ["full", "heavy"])
def test_corrupt_model_file(tmp_path: Path, model: str) -> None:
    """A garbage model in --model-dir: checksum mismatch (full) or load failure (heavy)."""
    (tmp_path / f"pose_landmarker_{model}.task").write_bytes(os.urandom(4096))
    p = run_kmo(
        "analyze",
        str(SAMPLE),
        "--json",
        "--model",
        model,
        "--model-dir",
        str(tmp_path),
        timeout=120,
    )
    assert p.returncode == ExitCode.BAD_INPUT, p.stderr
    line = _one_error_line(p.stderr)
    assert "corrupt" in line and f"pose_landmarker_{model}.task" in line


@pytest.mark.e2e
def test_ctrl_c_exits_130_without_partial_outputs(tmp_path: Path) -> None:
    """SIGINT while the overlay is being written: exit 130, one line, no output files left."""
    out = tmp_path / "out"
    overlay = tmp_path / "overlay.mp4"
    cmd = [*KMO, "analyze", str(SAMPLE), "--json", "--out", str(out), "--overlay", str(overlay)]
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    # Wait until a temporary output file exists (the overlay is being written), then Ctrl-C.
    while time.monotonic() < deadline and p.poll() is None:
        if list(tmp_path.glob(".overlay.*")):  # the overlay's temporary file
            break
        time.sleep(0.05)
    assert p.poll() is None, "kmo finished before it could be interrupted"
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == ExitCode.INTERRUPTED, stderr
    assert _one_error_line(stderr) == "kmo: interrupted"
    assert stdout == ""
    left = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert left == [], left


def test_keyboard_interrupt_maps_to_130(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    """In-process: a KeyboardInterrupt anywhere in a command gives exit 130 and one line."""
    from kinemotion_cli import cli

    def boom(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr("kinemotion_cli.batch.run_batch", boom)
    monkeypatch.setattr(cli, "_silence_native_stderr", lambda: None)
    monkeypatch.setattr(sys, "argv", ["kmo", "analyze", str(SAMPLE)])
    old = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as exc:
            cli.main()
    finally:
        signal.signal(signal.SIGINT, old)
    assert exc.value.code == ExitCode.INTERRUPTED
    assert capsys.readouterr().err.strip().splitlines()[-1] == "kmo: interrupted"


def test_internal_error_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    """An unexpected exception: exit 1, one line, no traceback (without --debug)."""
    from kinemotion_cli import cli

    def boom(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise ZeroDivisionError("multi\nline")

    monkeypatch.setattr("kinemotion_cli.batch.run_batch", boom)
    monkeypatch.setattr(cli, "_silence_native_stderr", lambda: None)
    monkeypatch.setattr(sys, "argv", ["kmo", "analyze", str(SAMPLE)])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert _one_error_line(err).startswith("kmo: internal error: ZeroDivisionError: multi line")
