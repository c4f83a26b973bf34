"""Rendered ground-truth videos with the real-footage mechanisms (small, fast videos)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.groundtruth.render import Scene, Spec, render

SMALL = dict(fps=30.0, width=180, height=320, crf=0)
ROOT = Path(__file__).resolve().parents[1]


def _decode(path: Path) -> tuple[list[np.ndarray], list[float]]:
    frames, times = [], []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            frames.append(np.ascontiguousarray(f.to_ndarray(format="rgb24")))
            times.append(float(f.time))
    return frames, times


def _lowest_changed(frame: np.ndarray, bg: np.ndarray, cols: slice, below: int) -> int:
    diff = np.abs(frame.astype(np.float32) - bg).max(axis=2)[:below, cols]
    return int((diff > 25).any(axis=1).nonzero()[0].max())


def test_general_path_matches_legacy_without_mechanisms() -> None:
    base = dict(jump="cmj", source="front", width=270, height=480)
    old = Scene(Spec(**base))
    new = Scene(Spec(camera_height_m=1.41, **base))  # no effect, but takes the general path
    assert not old.general and new.general
    for t in (0.5, 1.3, 1.6, 1.9, 2.5, 3.0):
        a, foot = old.frame(t)
        b, geo = new.frame2(t)
        assert np.abs(a - b).mean() < 0.5  # only leg-edge pixels differ (per-foot ankle rows)
        hip_row = int(new.top_y + new.sprite.hip - geo["hp"]) - 2
        assert np.abs(a[:hip_row] - b[:hip_row]).max() < 1e-3  # upper body: identical
        assert max(new.foot_rows(geo)) == pytest.approx(foot, abs=1.0)


def test_heel_rise_keeps_the_sole_row_planted(tmp_path: Path) -> None:
    spec = Spec(jump="cmj", source="front", heel_rise_s=0.1, heel_rise_m=0.06, fps=60.0,
                width=270, height=480, crf=0)  # fmt: skip
    truth = render(spec, tmp_path / "h.mp4")
    frames, _ = _decode(tmp_path / "h.mp4")
    scene = Scene(spec)
    bg = scene.bg_box
    to = truth["events"]["takeoff_s"]
    ground = truth["geometry"]["ground_foot_row_px"]
    sw = scene.sprite.rgba.shape[1]
    cols = slice(int(scene.left_x), int(scene.left_x + sw) + 1)
    below = int(ground) + 12
    k0 = int(0.5 * spec.fps)  # standing
    stand = _lowest_changed(frames[k0], bg, cols, below)
    rising = [k for k in range(len(frames)) if to - 0.09 < k / spec.fps < to]
    assert len(rising) >= 4
    for k in rising:  # the toes stay on the floor row while the heel and ankle rise
        assert abs(_lowest_changed(frames[k], bg, cols, below) - stand) <= 1
        assert truth["per_frame"]["foot_row_px"][k] == pytest.approx(ground, abs=1e-6)
    # the foot is stretched: ankle region moved up (the frame differs from standing there)
    k = rising[-1]
    band = slice(int(ground) - 12, int(ground) - 2)
    moved = np.abs(frames[k][band, cols].astype(int) - frames[k0][band, cols].astype(int))
    assert moved.max() > 40
    # after takeoff the sole leaves the floor
    k_air = int(np.ceil((to + 0.05) * spec.fps))
    assert _lowest_changed(frames[k_air], bg, cols, below) < stand - 3


def test_far_foot_rigid_while_crouching() -> None:
    spec = Spec(jump="cmj", source="two_oblique_man", partner=False, width=270, height=480)
    sc = Scene(spec)
    ev = sc.motion.events
    stand, geo0 = sc.frame2(0.5)
    low, geo1 = sc.frame2(ev["lowest_point_s"])
    assert geo1["hip_m"] < -0.2
    assert sc.foot_rows(geo1) == pytest.approx(sc.foot_rows(geo0), abs=1e-9)
    far, near = sc.foot_rows(geo0)
    assert near - far > 20  # the far (left) foot stands well above the near one
    # pixels of each foot (sole up to a few rows above) are unchanged by the crouch
    cols = sc.cols
    for side, row in ((1.0, far), (0.0, near)):
        xs = np.nonzero(cols.has_foot & (np.abs(cols.w_left - side) < 0.5))[0]
        c0, c1 = int(sc.left_x + xs.min()), int(sc.left_x + xs.max()) + 1
        r1 = int(round(row)) + 1
        a = stand[r1 - 5 : r1, c0:c1]
        b = low[r1 - 5 : r1, c0:c1]
        assert np.abs(a - b).max() < 1.0


def test_displaced_landing_moves_the_floor_by_the_pinhole(tmp_path: Path) -> None:
    dz, hc, d = 0.1, 1.5, 4.0
    spec = Spec(jump="cmj", source="back", landing_shift_m=(0.0, dz), camera_height_m=hc,
                camera_distance_m=d, **SMALL)  # fmt: skip
    truth = render(spec, tmp_path / "s.mp4")
    rows = np.array(truth["per_frame"]["foot_row_px"])
    t = np.array(truth["per_frame"]["t_s"])
    before = rows[t < truth["events"]["movement_start_s"]]
    after = rows[t > truth["events"]["landing_s"] + 1.0]
    ppm = truth["pixels_per_m"]
    hor = truth["geometry"]["pinhole"]["horizon_row_px"]
    assert truth["geometry"]["pinhole"]["floor_row_px"] - hor == pytest.approx(ppm * hc)
    s = d / (d - dz)
    assert np.ptp(before) < 1e-9 and np.ptp(after) < 1e-9
    # the lowest sprite row scales about the horizon like the floor (within half a pixel:
    # the lowest opaque row sits half a row above the floor line)
    assert after[0] - hor == pytest.approx((before[0] - hor) * s, abs=0.5)
    body = truth["geometry"]["ground_foot_row_px"] - truth["geometry"]["standing_head_row_px"]
    assert 0.02 < (after[0] - before[0]) / body < 0.04


def test_contain_fit_shows_the_whole_scene_smaller_in_a_wide_frame(tmp_path: Path) -> None:
    wide = Spec(jump="cmj", source="front", fit="contain", fps=30.0, width=320, height=180,
                crf=0)  # fmt: skip
    truth = render(wide, tmp_path / "w.mp4")
    tall = Scene(Spec(jump="cmj", source="front", fps=30.0, width=180, height=320))
    assert "small_in_frame" in truth["mechanisms"]
    # the 1080x1920 scene fits the 180 rows: scaled by 180/1920 instead of 320/1920
    assert truth["pixels_per_m"] / tall.ppm == pytest.approx(180 / 320, rel=0.02)
    head, foot = (truth["geometry"][k] for k in ("standing_head_row_px", "ground_foot_row_px"))
    assert 0 < head < foot < wide.height
    # the person is drawn where the truth says: the lowest changed row is the floor row
    frames, _ = _decode(tmp_path / "w.mp4")
    scene = Scene(wide)
    sw = scene.sprite.rgba.shape[1]
    cols = slice(int(scene.left_x), int(scene.left_x + sw) + 1)
    assert frames[0].shape[:2] == (180, 320) and scene.bg.shape[:2] == (180, 320)
    low = _lowest_changed(frames[int(0.5 * wide.fps)], scene.bg_box, cols, int(foot) + 12)
    assert abs(low - foot) <= 1.5
    with pytest.raises(ValueError, match="fit must be"):
        render(dataclasses.replace(wide, fit="fill"), tmp_path / "x.mp4")


def test_camera_affine_matches_rendered_pixels(tmp_path: Path) -> None:
    spec = Spec(jump="cmj", source="front", camera_motion="handheld", seed=2,
                camera_shift_frac=0.03, duration_s=1.0, **SMALL)  # fmt: skip
    truth = render(spec, tmp_path / "c.mp4")
    frames, _ = _decode(tmp_path / "c.mp4")
    sc = Scene(spec)
    m = sc.margin
    world = sc.bg_box  # canvas = world + margin; the jumper stands still for this 1 s
    aff = np.array(truth["per_frame"]["camera_affine"]).reshape(-1, 2, 3)
    assert len(aff) == len(frames) == truth["frames"]
    moved = 0.0
    for k in range(0, len(frames), 6):
        # track a textured background patch (top-left corner of the world image)
        patch = world[m + 20 : m + 60, m + 20 : m + 60].astype(np.float32)
        res = cv2.matchTemplate(frames[k].astype(np.float32), patch, cv2.TM_SQDIFF)
        y, x = np.unravel_index(np.argmin(res), res.shape)
        cx, cy = aff[k] @ np.array([20 + 19.5, 20 + 19.5, 1.0])  # patch centre, world px
        assert abs((x + 19.5) - cx) <= 1.5 and abs((y + 19.5) - cy) <= 1.5
        moved = max(moved, abs(cx - 39.5), abs(cy - 39.5))
        # the whole frame is the world warped by the affine (no blank border anywhere)
        mc = aff[k].copy()
        mc[:, 2] -= aff[k][:, :2] @ np.array([m, m])
        pred = cv2.warpAffine(world, mc, (spec.width, spec.height), flags=cv2.INTER_LINEAR)
        err = np.abs(pred - frames[k])
        assert np.median(err) < 3.0
        assert frames[k].reshape(-1, 3).min(axis=1).mean() > 20  # no black border
    assert moved > 2.0  # the camera did move


def test_edit_list_hides_the_leading_frames(tmp_path: Path) -> None:
    # start in the countermovement, so the hidden frames show other poses than frame 0
    base = dict(jump="cmj", source="front", start_before_takeoff_s=0.4, duration_s=0.5, **SMALL)
    truth = render(Spec(hidden_leading_frames=3, **base), tmp_path / "e.mp4")
    plain = render(Spec(**base), tmp_path / "p.mp4")
    frames, times = _decode(tmp_path / "e.mp4")
    ref, _ = _decode(tmp_path / "p.mp4")
    assert len(frames) == truth["frames"] == len(ref) == 15
    assert times[0] == 0.0 and times == pytest.approx(truth["per_frame"]["t_s"])
    assert truth["events"] == plain["events"]
    assert truth["events"]["takeoff_s"] == pytest.approx(0.4)
    with av.open(str(tmp_path / "e.mp4")) as c:
        pk = [p for p in c.demux(video=0) if p.size]
        assert sum(p.is_discard for p in pk) == 3
        assert max(p.pts for p in pk if p.is_discard) < 0
        assert c.streams.video[0].frames == 18  # the header counts the hidden frames
    with av.open(str(tmp_path / "e.mp4"), options={"ignore_editlist": "1"}) as c:
        assert sum(1 for _ in c.decode(video=0)) == 18
    # the first shown frame is video time 0 (the same picture as without hidden frames)
    for k in (0, 1, 7):
        assert np.abs(frames[k].astype(float) - ref[k]).mean() < 0.5
    assert np.abs(frames[0].astype(float) - ref[3]).mean() > 0.5  # the body moves


def test_jittered_timestamps_are_written(tmp_path: Path) -> None:
    spec = Spec(jump="cmj", source="back", timestamp_jitter_ms=4.0, seed=5, duration_s=1.0,
                **SMALL)  # fmt: skip
    truth = render(spec, tmp_path / "j.mp4")
    _, times = _decode(tmp_path / "j.mp4")
    t_s = truth["per_frame"]["t_s"]
    assert times == pytest.approx(t_s, abs=1e-9)
    d = np.diff(times)
    assert np.all(d > 0) and np.ptp(d) > 0.004
    with av.open(str(tmp_path / "j.mp4")) as c:
        assert c.streams.video[0].time_base.denominator == 90000


def test_multi_jump_truth_and_trimming(tmp_path: Path) -> None:
    more = [{"jump": "rebound", "flight_time": 0.4, "contact_s": 0.2},
            {"jump": "rebound", "flight_time": 0.45, "contact_s": 0.25}]  # fmt: skip
    spec = Spec(jump="cmj", source="back", more_jumps=more, start_before_takeoff_s=0.4,
                end_after_s=0.25, **SMALL)  # fmt: skip
    truth = render(spec, tmp_path / "m.mp4")
    js = truth["jumps"]
    assert [j["jump_type"] for j in js] == ["cmj", "rebound", "rebound"]
    assert js[0]["events"]["takeoff_s"] == pytest.approx(0.4)
    assert "movement_start_s" in js[0]["not_in_view"]
    for a, b in zip(js, js[1:]):
        e = b["events"]
        assert e["contact_start_s"] == a["events"]["landing_s"]
        assert b["metrics"]["ground_contact_time_s"] == pytest.approx(
            e["takeoff_s"] - e["contact_start_s"], abs=1e-8
        )
        assert b["metrics"]["rsi_height_over_contact"] == pytest.approx(
            b["metrics"]["jump_height_m"] / b["metrics"]["ground_contact_time_s"], rel=1e-6
        )
    t_last = truth["per_frame"]["t_s"][-1]
    assert (
        js[-1]["events"]["landing_s"] + 0.25 - 1 / 30
        < t_last
        <= js[-1]["events"]["landing_s"] + 0.25
    )
    # feet in the air exactly between takeoff and landing of every jump
    z = np.array(truth["per_frame"]["foot_z_m"])
    t = np.array(truth["per_frame"]["t_s"])
    air = np.zeros(len(t), bool)
    for j in js:
        air |= (t > j["events"]["takeoff_s"]) & (t < j["events"]["landing_s"])
    assert np.all(z[air] > 0) and np.all(np.abs(z[~air]) < 1e-9)


def test_partner_depth_order_and_occlusion() -> None:
    spec = Spec(jump="cmj", source="two_front_man", partner_offset_m=(0.45, 0.35),
                width=270, height=480)  # fmt: skip
    sc = Scene(spec)
    img, geo = sc.frame2(0.5)
    assert sc.partner_floor > geo["floor"]  # the woman stands nearer: drawn in front
    solo = Scene(Spec(jump="cmj", source="two_front_man", partner=False, width=270, height=480))
    img2, _ = solo.frame2(0.5)
    lay = sc.jumper_layer(geo)
    warped, r0, c0 = lay
    jm = np.zeros(img.shape[:2], bool)
    jm[r0 : r0 + warped.shape[0], c0 : c0 + warped.shape[1]] = warped[..., 3] > 0.9
    both = jm & (sc.partner[..., 3] > 0.999)
    assert both.sum() > 50  # she covers part of the jumper ...
    partner_rgb = sc.partner[..., :3] * 255.0
    assert np.abs(img[both] - partner_rgb[both]).max() < 0.5  # ... and is drawn on top
    assert np.abs(img2[both] - img[both]).mean() > 5


def test_general_render_is_byte_reproducible(tmp_path: Path) -> None:
    spec = Spec(jump="dj", source="two_oblique_woman", camera_motion="follow", heel_rise_s=0.06,
                timestamp_jitter_ms=2.0, noise=2.0, seed=3, duration_s=1.2, **SMALL)  # fmt: skip
    t1 = render(spec, tmp_path / "a.mp4")
    # the second copy in a fresh process (x264 once read uninitialised memory here)
    code = (
        "import sys; from tests.groundtruth.render import Spec, render; "
        f"render(Spec(**{dataclasses.asdict(spec)!r}), sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "b.mp4")], check=True, cwd=ROOT)
    t2 = json.loads((tmp_path / "b.truth.json").read_text())
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
    assert (tmp_path / "a.truth.json").read_text() == (tmp_path / "b.truth.json").read_text()
    assert t1["truth_version"] == 2 and "camera_follow" in t1["mechanisms"]
    assert json.loads((tmp_path / "a.truth.json").read_text())["jumps"] == t2["jumps"]


def test_steps_one_foot_at_a_time(tmp_path: Path) -> None:
    steps = [{"t": 0.3, "foot": "left", "length_m": 0.12},
             {"t": 0.8, "foot": "right", "length_m": 0.12}]  # fmt: skip
    spec = Spec(jump="none", source="two_front_man", steps=steps, standing_s=1.5, **SMALL)
    truth = render(spec, tmp_path / "st.mp4")
    rows = np.array(truth["per_frame"]["foot_rows_px"])
    t = np.array(truth["per_frame"]["t_s"])
    g = np.array(truth["geometry"]["ground_foot_rows_px"])
    lifted = rows < g[None, :] - 0.5  # a foot above its standing row (in the image)
    in_step = [(s["start_s"], s["end_s"], s["foot"]) for s in truth["steps"]]
    for a, b, foot in in_step:
        k = (t > a + 0.05) & (t < b - 0.05)
        i = 0 if foot == "left" else 1
        assert lifted[k, i].any() and not lifted[k, 1 - i].any()
    assert not np.any(lifted[:, 0] & lifted[:, 1])
    assert truth["jumps"] == [] and "steps" in truth["mechanisms"]
    # both feet end nearer the camera: lower in the image than at the start
    assert np.all(rows[-1] > rows[0] + 1)


def test_arm_swing_moves_only_the_arms_about_the_shoulders() -> None:
    """Standing, the swinging-arm jumper looks like the plain one (arms cut out and put back
    at angle 0); at takeoff the hands are overhead, above the head; the hips are where the
    program puts them; a sprite whose arms lie along its trunk is refused."""
    base = dict(jump="cmj", source="front", width=270, height=480)
    plain, arms = Scene(Spec(camera_height_m=1.41, **base)), Scene(Spec(arm_swing=True, **base))
    a, _ = plain.frame2(0.5)
    b, _ = arms.frame2(0.5)
    assert np.abs(a - b).mean() < 1.0  # only the cut's edges differ a little
    to = arms.motion.events["takeoff_s"]
    c, geo = arms.frame2(to)
    d, _ = plain.frame2(to)
    head = int(arms.top_y + arms.sprite.head - geo["hp"])  # canvas row of the head's top
    above = np.abs(c[: head - 2] - arms.bg_box[: head - 2]).max(axis=2) > 40
    assert above.sum() > 50  # hands and forearms drawn above the head
    assert not (np.abs(d[: head - 2] - plain.bg_box[: head - 2]).max(axis=2) > 40).any()
    with pytest.raises(ValueError, match="arms stand clear"):
        Scene(Spec(jump="cmj", source="two_front_woman", arm_swing=True, width=270, height=480))
