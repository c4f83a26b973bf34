"""The landmark-level series (tests/landmark_series.py): every mechanism, no video."""

from __future__ import annotations

import numpy as np
import pytest

from kinemotion_cli.landmarks import INDEX
from tests.groundtruth.camera import apply_affine
from tests.groundtruth.motion import G
from tests.landmark_series import FLOOR_Y, PPM, series


def _y(lm: np.ndarray, name: str) -> np.ndarray:
    return lm[:, INDEX[name], 1]


def test_default_series_unchanged_shape() -> None:
    t, lm, tr = series("cmj", 60)
    assert lm.shape == (len(t), 26, 3)
    assert tr.jump == "cmj" and tr["truth_version"] == 2
    assert tr.events["landing_s"] - tr.events["takeoff_s"] == pytest.approx(0.5)
    assert tr.metrics["jump_height_m"] == pytest.approx(G * 0.25 / 8)
    assert tr["jumps"][0]["events"] == tr.events and tr["mechanisms"] == []


def test_heel_rise_toe_planted_then_toe_first_landing() -> None:
    t, lm, tr = series("cmj", 240, heel_rise_s=0.08)
    to, ld = tr.events["takeoff_s"], tr.events["landing_s"]
    before = (t > to - 0.08) & (t < to)
    toe, heel, ankle = _y(lm, "left_big_toe"), _y(lm, "left_heel"), _y(lm, "left_ankle")
    assert np.allclose(toe[before], FLOOR_Y, atol=1e-9)  # the toe stays on the floor
    assert FLOOR_Y - heel[before][-1] > 0.06 * PPM  # the heel is well up at toe-off
    assert np.all(np.diff(ankle[before]) < 0)  # the ankle rises all the way to takeoff
    after = (t > ld) & (t < ld + 0.03)
    assert np.allclose(toe[after], FLOOR_Y, atol=1e-9)  # toe planted from landing on
    assert FLOOR_Y - heel[after][0] > 5  # heel still up just after the toe touched
    late = (t > ld + 0.1) & (t < ld + 0.3)
    assert np.allclose(heel[late], FLOOR_Y, atol=1e-9)  # heel down again
    air = (t > to) & (t < ld)
    assert np.all(toe[air] < FLOOR_Y)


def test_leg_tuck_feet_not_a_parabola_hip_is() -> None:
    t, lm, tr = series("cmj", 240, tuck_m=0.06)
    to, ld = tr.events["takeoff_s"], tr.events["landing_s"]
    air = (t > to) & (t < ld)
    ta = t[air] - to
    hip = FLOOR_Y - _y(lm, "hip")[air]
    ank = FLOOR_Y - _y(lm, "left_ankle")[air]
    for sig, tol in ((hip, 1e-6), (ank, None)):
        c = np.polyfit(ta, sig, 2)
        res = np.abs(np.polyval(c, ta) - sig).max()
        if tol is not None:
            assert res < tol and c[0] == pytest.approx(-G / 2 * PPM, rel=1e-9)
        else:
            assert res > 3.0  # several px off any parabola
    mid = np.argmin(np.abs(t[air] - (to + ld) / 2))
    assert (hip - ank)[mid] == pytest.approx((0.9 - 0.08 - 0.06) * PPM, abs=0.05)


def test_landing_shift_moves_floor_row_by_pinhole() -> None:
    dz, h, d = 0.1, 1.4, 4.0
    t, lm, tr = series("cmj", 60, landing_shift_m=(0.0, dz), camera_height_m=h)
    after = t > tr.events["landing_s"] + 1.0
    toe = _y(lm, "left_big_toe")
    expected = FLOOR_Y + PPM * h * (d / (d - dz) - 1)
    assert np.allclose(toe[after], expected, atol=1e-9)
    assert 0.02 < (expected - FLOOR_Y) / (1.75 * PPM) < 0.04  # 2-4 % of body height


def test_far_foot_offset_and_still_while_planted() -> None:
    t, lm, tr = series("cmj", 60, far_foot_px=40.0)
    ground = t < tr.events["takeoff_s"] - 0.01
    far, near = _y(lm, "left_big_toe")[ground], _y(lm, "right_big_toe")[ground]
    assert np.allclose(far, FLOOR_Y - 40) and np.allclose(near, FLOOR_Y)


def test_occluded_far_foot() -> None:
    t, lm, tr = series("cmj", 60, occlude_far_foot=(0.8, 1.2))
    k = (t >= 0.8) & (t <= 1.2)
    assert np.all(lm[k, INDEX["left_heel"], 2] < 0.2) and np.all(
        lm[~k, INDEX["left_heel"], 2] > 0.9
    )
    crouch = k & (t > tr.events["movement_start_s"])
    assert np.ptp(_y(lm, "left_heel")[crouch]) > 1  # guessed foot moves with the body
    assert np.ptp(_y(lm, "right_heel")[crouch]) == 0


def test_camera_motion_is_the_affine() -> None:
    t0, still, _ = series("cmj", 30)
    for mode in ("handheld", "follow"):
        t, lm, tr = series("cmj", 30, camera_motion=mode, seed=4)
        aff = np.array(tr["per_frame"]["camera_affine"]).reshape(-1, 2, 3)
        assert len(aff) == len(t)
        for i in range(0, len(t), 7):
            assert np.allclose(apply_affine(aff[i], still[i, :, :2]), lm[i, :, :2])
        rot = np.degrees(np.arctan2(aff[:, 1, 0], aff[:, 0, 0]))
        zoom = np.hypot(aff[:, 0, 0], aff[:, 1, 0])
        assert np.abs(rot).max() <= 1.5 and np.abs(zoom - 1).max() <= 0.02
    # follow: the vertical shift lags the hip (peak after the apex)
    apex = (tr.events["takeoff_s"] + tr.events["landing_s"]) / 2
    assert t[np.argmax(aff[:, 1, 2])] > apex


def test_trimmed_clip_events_in_video_time() -> None:
    _, _, full = series("cmj", 60)
    t, lm, tr = series("cmj", 60, start_before_takeoff_s=0.4, end_after_s=0.25)
    assert tr.events["takeoff_s"] == pytest.approx(0.4)
    assert tr.events["landing_s"] == pytest.approx(0.9)
    assert t[-1] <= 0.9 + 0.25 + 1e-9 and t[-1] > 0.9 + 0.25 - 1 / 60
    j = tr["jumps"][0]
    assert j["not_in_view"] == ["movement_start_s"]  # the lowest point is 0.2 s before takeoff
    assert "lowest_point_s" in j["events"] and "flight_time_s" in j["metrics"]
    assert "time_to_takeoff_s" not in j["metrics"] and "rsi_modified" not in j["metrics"]
    assert "concentric_duration_s" in j["metrics"]


def test_jittered_timestamps() -> None:
    t, lm, tr = series("cmj", 30, timestamp_jitter_ms=5.0, seed=3)
    d = np.diff(t)
    assert np.all(d > 0) and np.ptp(d) > 0.005
    assert tr["per_frame"]["t_s"] == [float(v) for v in t]
    assert np.all(np.abs(t - np.arange(len(t)) / 30) <= 0.005 + 1e-9)


def test_rebound_series_truth() -> None:
    more = [
        dict(jump="rebound", flight_time=0.45, contact_s=0.2),
        dict(jump="rebound", flight_time=0.35, contact_s=0.25),
    ]
    t, lm, tr = series("drop_jump", 120, jumps=more)
    js = tr["jumps"]
    assert [j["jump_type"] for j in js] == ["drop_jump", "rebound", "rebound"]
    for a, b in zip(js, js[1:]):
        e = b["events"]
        assert e["contact_start_s"] == a["events"]["landing_s"]
        gct = e["takeoff_s"] - e["contact_start_s"]
        assert b["metrics"]["ground_contact_time_s"] == pytest.approx(gct)
        assert b["metrics"]["rsi_flight_over_contact"] == pytest.approx(
            b["metrics"]["flight_time_s"] / gct
        )
        assert e["contact_start_s"] < e["lowest_point_s"] < e["takeoff_s"] < e["landing_s"]
    assert [j["metrics"]["flight_time_s"] for j in js] == [0.5, 0.45, 0.35]


def test_steps_never_leave_the_ground() -> None:
    steps = [(0.2, "left", 0.1), (0.6, "right", 0.1)]
    t, lm, tr = series("none", 120, drift_m=(0.0, 0.1), steps=steps, standing_s=1.2)
    toes = np.stack([_y(lm, "left_big_toe"), _y(lm, "right_big_toe")])
    lifted = toes < toes.max(axis=0) - 1e-6  # a foot above the other one's level
    assert lifted[0].any() and lifted[1].any()
    assert not np.any(lifted[0] & lifted[1])
    assert tr["jumps"] == [] and "steps" in tr["mechanisms"] and "drift" in tr["mechanisms"]
    # the stance moved toward the camera: the feet end lower in the image
    assert toes[:, -1].min() > toes[:, 0].max() + 5


def test_arm_swing_moves_only_the_arms() -> None:
    t, still, _ = series("cmj", 60, jumps=[dict(jump="rebound", flight_time=0.4)])
    t, lm, tr = series("cmj", 60, jumps=[dict(jump="rebound", flight_time=0.4)], arm_swing=1.0)
    arms = [INDEX[n] for n in ("left_elbow", "right_elbow", "left_wrist", "right_wrist")]
    others = [i for i in range(26) if i not in arms]
    assert np.array_equal(lm[:, others], still[:, others])
    quiet = t < tr.events["movement_start_s"]
    assert np.allclose(lm[quiet], still[quiet], atol=1e-9)
    for j in tr["jumps"]:
        apex = np.argmin(np.abs(t - (j["events"]["takeoff_s"] + j["events"]["landing_s"]) / 2))
        assert _y(lm, "left_wrist")[apex] < _y(lm, "head")[apex]  # hands above the head
    low = np.argmin(np.abs(t - tr.events["lowest_point_s"]))
    assert _y(lm, "left_wrist")[low] < _y(still, "left_wrist")[low]  # swung back: higher
    assert "arm_swing" in tr["mechanisms"]
