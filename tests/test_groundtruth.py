"""Tests of the ground-truth video generator (tests/groundtruth)."""

from __future__ import annotations

import math
import struct
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.groundtruth import G, Spec, build_motion, render, snap_time  # noqa: E402
from tests.groundtruth.render import Scene, display_matrix  # noqa: E402

SMALL = dict(fps=30.0, width=180, height=320, crf=18)
ORDER = {
    "cmj": ["movement_start_s", "lowest_point_s", "takeoff_s", "landing_s"],
    "drop_jump": ["box_leave_s", "contact_start_s", "lowest_point_s", "takeoff_s", "landing_s"],
    "squat_jump": ["movement_start_s", "push_off_start_s", "takeoff_s", "landing_s"],
    "none": ["movement_start_s", "lowest_point_s"],
}


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]


@pytest.mark.parametrize("jump", ["cmj", "drop_jump", "squat_jump", "none"])
@pytest.mark.parametrize("flight", [0.42, 0.55])
def test_motion_consistency(jump: str, flight: float) -> None:
    m = build_motion(jump, flight_time=flight)
    ev, me = m.events, m.metrics
    times = [ev[k] for k in ORDER[jump]]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert set(ev) == set(ORDER[jump])
    if jump != "none":
        assert ev["landing_s"] - ev["takeoff_s"] == pytest.approx(flight, abs=1e-12)
        assert me["jump_height_m"] == pytest.approx(G * flight**2 / 8, rel=1e-12)
        assert me["peak_concentric_velocity_m_s"] == pytest.approx(G * flight / 2, rel=1e-3)
        # feet leave the ground at takeoff and are back at landing; apex = jump height
        assert m.state(ev["takeoff_s"])[0] == pytest.approx(0, abs=1e-12)
        assert m.state(ev["landing_s"] - 1e-9)[0] == pytest.approx(0, abs=1e-6)
        mid = m.state((ev["takeoff_s"] + ev["landing_s"]) / 2)[0]
        assert mid == pytest.approx(me["jump_height_m"], rel=1e-9)
        for fps in (30, 60, 240):  # default events are off the frame grid
            for k in ("takeoff_s", "landing_s"):
                frac = (ev[k] * fps) % 1
                assert 0.05 < frac < 0.95, (k, fps, frac)
    if jump == "drop_jump":
        gct = ev["takeoff_s"] - ev["contact_start_s"]
        assert me["ground_contact_time_s"] == pytest.approx(gct, abs=1e-12)
        assert 0.2 <= gct <= 0.35
        assert me["rsi_height_over_contact"] == pytest.approx(me["jump_height_m"] / gct)
        assert me["rsi_flight_over_contact"] == pytest.approx(flight / gct)
        assert m.state(ev["contact_start_s"])[0] == pytest.approx(0, abs=1e-9)
        assert me["peak_eccentric_velocity_m_s"] == pytest.approx(-math.sqrt(2 * G * 0.3), rel=1e-6)
    if jump == "cmj":
        assert me["time_to_takeoff_s"] == pytest.approx(ev["takeoff_s"] - ev["movement_start_s"])
        assert me["rsi_modified"] == pytest.approx(me["jump_height_m"] / me["time_to_takeoff_s"])
    if jump in ("cmj", "squat_jump"):
        assert min(ev.values()) >= 1.0
    # hip position and velocity are continuous across every piece boundary
    for t0, _ in m.pieces[1:]:
        a, b = m.state(t0 - 1e-9), m.state(t0 + 1e-9)
        assert a[0] + a[2] == pytest.approx(b[0] + b[2], abs=1e-6)
        assert a[1] + a[3] == pytest.approx(b[1] + b[3], abs=1e-5)


def test_snap_time_off_grid() -> None:
    for t in (0.0, 1.0, 1.2345, 2.5):
        s = snap_time(t)
        assert s >= t and s - t < 8 / 240
        for fps in (30, 60, 120, 240):
            assert 0.05 < (s * fps) % 1 < 0.95


@pytest.mark.parametrize("jump,source", [("cmj", "front"), ("dj", "back")])
def test_foot_row_matches_truth(tmp_path: Path, jump: str, source: str) -> None:
    spec = Spec(jump=jump, source=source, fps=30.0, width=270, height=480, crf=0)
    truth = render(spec, tmp_path / "v.mp4")
    foot = truth["per_frame"]["foot_row_px"]
    assert truth["frames"] == len(foot)
    frames = _decode(tmp_path / "v.mp4")
    assert len(frames) == truth["frames"]
    scene = Scene(spec)
    sw = scene.sprite.rgba.shape[1]
    errs = []
    for k in range(0, len(frames), 2):
        diff = np.abs(frames[k].astype(np.float32) - scene.bg_box).max(axis=2)
        # only the sprite's columns, down to 15 px below the expected foot row (a saturated
        # LED further down changes under chroma subsampling even at crf 0)
        left = scene.left_x + scene.motion.state(k / spec.fps)[4] * scene.ppm
        cols = slice(max(0, int(left)), int(left + sw) + 1)
        fg = (diff[: int(foot[k]) + 15, cols] > 20).any(axis=1).nonzero()[0]
        errs.append(fg.max() - foot[k])
    # lowest visibly changed (integer) row vs the sub-pixel truth row
    assert max(abs(e) for e in errs) <= 1.5, errs
    # flight frames sit higher by exactly z * pixels_per_m in the truth
    ev = truth["events"]
    k_air = round((ev["takeoff_s"] + ev["landing_s"]) / 2 * spec.fps)
    z = truth["per_frame"]["foot_z_m"][k_air]
    assert z > 0.2
    ground = truth["geometry"]["ground_foot_row_px"]
    assert ground - foot[k_air] == pytest.approx(z * truth["pixels_per_m"], abs=1e-6)


def test_deterministic(tmp_path: Path) -> None:
    spec = Spec(jump="dj", source="back", rotation=-90, noise=3.0, seed=7, duration_s=2.0, **SMALL)
    t1 = render(spec, tmp_path / "a.mp4")
    t2 = render(spec, tmp_path / "b.mp4")
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
    assert t1 == t2
    assert (tmp_path / "a.truth.json").read_text() == (tmp_path / "b.truth.json").read_text()


@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_rotation_upright(tmp_path: Path, rotation: int) -> None:
    base = dict(jump="cmj", source="front", duration_s=1.0, **SMALL)
    render(Spec(rotation=0, **base), tmp_path / "up.mp4")
    truth = render(Spec(rotation=rotation, **base), tmp_path / "rot.mp4")
    assert (truth["width"], truth["height"]) == (180, 320)
    ref = _decode(tmp_path / "up.mp4")

    # PyAV: frame.rotation is the counter-clockwise angle (ffprobe sign: phones give -90)
    # by which the stored picture must be turned for display; np.rot90 also turns ccw.
    with av.open(str(tmp_path / "rot.mp4")) as c:
        for k, f in enumerate(c.decode(video=0)):
            assert f.rotation == (rotation if rotation != 180 else f.rotation)
            assert abs(f.rotation) == abs(rotation)
            stored = np.ascontiguousarray(f.to_ndarray(format="rgb24"))
            if rotation in (90, -90):
                assert stored.shape[:2] == (180, 320)
            up = np.rot90(stored, k=f.rotation // 90)
            assert np.abs(up.astype(int) - ref[k]).mean() < 2.0

    # OpenCV 5: auto-orientation on by default; ORIENTATION_META is the clockwise angle
    cap = cv2.VideoCapture(str(tmp_path / "rot.mp4"))
    assert cap.get(cv2.CAP_PROP_ORIENTATION_META) % 360 == (-rotation) % 360
    k = 0
    while True:
        ok, im = cap.read()
        if not ok:
            break
        im = cv2.cvtColor(im, cv2.COLOR_BGR2RGB)
        assert im.shape == ref[k].shape
        assert np.abs(im.astype(int) - ref[k]).mean() < 2.0
        k += 1
    cap.release()
    assert k == len(ref)


def test_display_matrix_matches_phones() -> None:
    # iPhone portrait clips carry {0, 1, 0, -1, 0, 0, tx, 0, 1}; ffprobe: rotation of -90
    vals = struct.unpack(">9i", display_matrix(-90))
    assert vals[:6] == (0, 1 << 16, 0, -(1 << 16), 0, 0) and vals[8] == 1 << 30
    assert struct.unpack(">9i", display_matrix(0))[:5] == (1 << 16, 0, 0, 0, 1 << 16)


def test_timestamps(tmp_path: Path) -> None:
    render(Spec(jump="none", duration_s=0.5, fps=60.0, width=64, height=112), tmp_path / "t.mp4")
    with av.open(str(tmp_path / "t.mp4")) as c:
        st = c.streams.video[0]
        assert st.time_base == 1 / 60 or st.time_base.denominator == 60
        fr = [(f.pts, f.time) for f in c.decode(video=0)]
    assert [p for p, _ in fr] == list(range(30))
    assert all(abs(t - k / 60) < 1e-9 for k, (_, t) in enumerate(fr))
