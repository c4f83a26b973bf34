"""quality.py: the jitter definition, quiet standing, fps adequacy, verdicts and their
reasons, and damaged frames withheld from the events."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from kinemotion_cli import quality as Q
from kinemotion_cli.jumps.common import Measure
from kinemotion_cli.landmarks import FEET_NAMES, FOOT_POINTS, INDEX
from kinemotion_cli.video import DamagedRange
from tests.conftest import decode_report, measured_from_series, static_camera
from tests.landmark_series import series

FPS = 60.0


def standing(n: int = 180, body: float = 400.0) -> tuple[np.ndarray, np.ndarray]:
    """Times and a still (n, 26, 3) person: head at y=100, feet at y=100+body."""
    t = np.arange(n) / FPS
    lm = np.zeros((n, 26, 3))
    lm[:, :, 0] = 270.0
    lm[:, :, 1] = 300.0
    lm[:, :, 2] = 0.9
    lm[:, INDEX["head"], 1] = 100.0
    lm[:, INDEX["nose"], 1] = 110.0
    lm[:, INDEX["hip"], 1] = 100.0 + 0.53 * body
    for name in FEET_NAMES:
        lm[:, INDEX[name], 1] = 100.0 + body
    return t, lm


# --------------------------------------------------------------------------- jitter


def test_second_difference_sigma_recovers_white_noise_and_ignores_sway() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(3000) / FPS
    sway = 15.0 * np.sin(2 * np.pi * 0.3 * t)  # slow postural sway, 15 px
    x = 200 + sway + rng.normal(0, 2.0, len(t))
    assert Q.second_diff_sigma(x) == pytest.approx(2.0, rel=0.06)
    assert Q.second_diff_sigma(200 + sway) < 0.05  # sway alone is not jitter
    assert np.std(x - 200) > 5  # whereas a plain std would count it
    assert Q.second_diff_sigma(np.array([1.0, 2.0, np.nan, 4.0])) is None


def test_jitter_per_landmark_in_px_and_percent_of_body() -> None:
    rng = np.random.default_rng(2)
    t, lm = standing(600, body=400.0)
    ankle = INDEX["left_ankle"]
    lm[:, ankle, 0] += rng.normal(0, 1.0, len(t))
    lm[:, ankle, 1] += rng.normal(0, 2.0, len(t))
    lm[:, [INDEX["left_heel"], INDEX["right_heel"]], :2] = np.nan  # e.g. RTMO: no heels
    body = Q.body_height_px(lm)
    assert body == pytest.approx(400.0, abs=0.5)
    j = Q.jitter(lm, (0, len(t)), body)
    assert j["left_ankle"]["px"] == pytest.approx(math.sqrt(5), rel=0.08)
    assert j["left_ankle"]["pct_body"] == pytest.approx(100 * math.sqrt(5) / 400, rel=0.08)
    assert j["left_ankle"]["y_px"] > j["left_ankle"]["x_px"]
    assert j["right_ankle"]["px"] == pytest.approx(0.0, abs=1e-9)
    assert j["left_heel"] is None
    g = Q.group_jitter(j)
    assert g["heels"] is None
    assert g["ankles"]["px"] == pytest.approx(math.sqrt(5) / 2, rel=0.08)  # mean of L and R
    assert g["toes"]["px"] == pytest.approx(0.0, abs=1e-9)


def test_feet_jitter_prefers_heels_and_toes_then_ankles() -> None:
    groups = {"ankles": {"px": 3.0}, "heels": {"px": 1.0}, "toes": {"px": 2.0}}
    jit = Q.Jitter((0, 10), 0.0, 0.15, 400.0, {}, groups)
    assert jit.feet_px == pytest.approx(1.5)
    jit = dataclasses.replace(jit, groups={"ankles": {"px": 3.0}, "heels": None, "toes": None})
    assert jit.feet_px == pytest.approx(3.0)
    assert dataclasses.replace(jit, groups={"ankles": None}).feet_px is None


def test_quiet_window_is_the_still_standing_before_the_movement() -> None:
    t, lm = standing(240)
    # From 1.5 s the hips drop 100 px in 0.5 s and the feet leave the floor at 2.5 s.
    move = np.clip((t - 1.5) / 0.5, 0, 1) * 100
    lm[:, INDEX["hip"], 1] += move
    feet = [INDEX[n] for n in FEET_NAMES]
    lm[:, feet, 1] -= (np.clip(t - 2.5, 0, None) * 300)[:, None]
    a, b = Q.quiet_window(t, lm)
    assert t[a] <= 0.1 and 1.3 <= t[b - 1] < 1.5  # trimmed 0.05 s before the movement
    a2, b2 = Q.quiet_window(t, lm, until_s=1.0)
    assert t[b2 - 1] < 1.0 and b2 - a2 >= 0.3 * FPS
    assert Q.quiet_window(t, lm, until_s=0.2) is None  # shorter than 0.3 s
    assert Q.quiet_window(t[:4], lm[:4]) is None


def test_measured_jitter_comes_from_the_standing_before_the_first_jump() -> None:
    t, lm, truth = series("cmj", 60, noise_px=1.0, seed=4)
    m = measured_from_series(t, lm, 60)
    jit = m.quality.foot_jitter
    assert jit.end_s < truth.events["takeoff_s"] - 0.3
    assert jit.end_s <= truth.events["movement_start_s"]
    # white noise of 1 px per coordinate: sqrt(2) px per landmark
    assert jit.feet_px == pytest.approx(math.sqrt(2), rel=0.15)


# --------------------------------------------------------------------------- fps adequacy


def _m(value: float | None, unit: str) -> Measure:
    return Measure(value, unit, None, "")


def test_fps_adequacy_grades() -> None:
    metrics = {
        "flight_time_s": _m(0.5, "s"),
        "jump_height_m": _m(0.3, "m"),
        "ground_contact_time_s": _m(0.12, "s"),  # 3.6 intervals at 30 fps, 7.2 at 60
        "rsi_flight_over_contact": _m(2.0, ""),
        "rsi_height_over_contact": _m(1.0, "m/s"),
        "peak_concentric_velocity_m_s": _m(2.5, "m/s"),
        "drop_height_m": _m(0.3, "m"),
        "fall_time_s": _m(None, "s"),  # not measured: nothing to grade by its length
    }
    at = {fps: Q.fps_adequacy(metrics, fps, 0.5) for fps in (30, 60, 120)}
    assert at[30]["ground_contact_time_s"] == "inadequate"
    assert at[60]["ground_contact_time_s"] == "marginal"
    assert at[120]["ground_contact_time_s"] == "ok"  # 14.4 intervals
    assert [at[f]["peak_concentric_velocity_m_s"] for f in (30, 60)] == ["marginal", "ok"]
    assert at[30]["flight_time_s"] == at[30]["jump_height_m"] == "ok"  # 15 frames in flight
    assert at[30]["rsi_height_over_contact"] == "inadequate"  # the worse of its terms
    assert at[60]["rsi_height_over_contact"] == "marginal"
    assert at[30]["drop_height_m"] == "ok" and at[30]["fall_time_s"] == "ok"  # spatial / n.a.
    short = Q.fps_adequacy({"flight_time_s": _m(0.1, "s")}, 50, 0.1)  # 5 frames in flight
    assert short["flight_time_s"] == "marginal"
    assert Q.fps_adequacy({"flight_time_s": _m(0.1, "s")}, 30, 0.1)["flight_time_s"] == (
        "inadequate"
    )


def test_fps_adequacy_of_a_real_analysis_at_low_and_high_rates() -> None:
    t, lm, _ = series("cmj", 30, noise_px=0.3)
    q = measured_from_series(t, lm, 30).quality.jumps[0]
    assert q.fps_adequacy["peak_eccentric_velocity_m_s"] == "marginal"  # 25-50 fps
    assert q.fps_adequacy["countermovement_depth_m"] == "ok"  # spatial
    t, lm, _ = series("cmj", 240, noise_px=0.3)
    q = measured_from_series(t, lm, 240).quality.jumps[0]
    assert set(q.fps_adequacy.values()) == {"ok"}


@pytest.mark.parametrize("fps,want", [(25, "marginal"), (50, "ok")])
def test_velocities_at_exactly_the_documented_rates(fps: int, want: str) -> None:
    """README: peak velocities are ok at >= 50 fps, marginal at >= 25 fps."""
    t, lm, _ = series("cmj", fps, noise_px=0.3)
    q = measured_from_series(t, lm, fps).quality.jumps[0]
    assert q.fps_adequacy["peak_concentric_velocity_m_s"] == want


# --------------------------------------------------------------------------- verdicts


def test_clean_jump_is_ok() -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.3)
    q = measured_from_series(t, lm, 60).quality
    assert q.verdict == "ok" and q.reasons == () and q.warnings == ()
    (jq,) = q.jumps
    assert jq.verdict == "ok" and jq.reasons == ()
    assert set(jq.event_confidence) == {
        "movement_start_s",
        "lowest_point_s",
        "takeoff_s",
        "landing_s",
    }
    assert all(v == pytest.approx(0.95) for v in jq.event_confidence.values())
    assert jq.frames_in_flight == 30 and jq.dropped_frames_in_jump == 0
    assert q.dropped_frames == q.duplicated_frames == q.undecodable_frames == 0
    assert q.contact_points == "heels and toes" and q.detection_rate == 1.0


def test_dropped_frames_in_flight_make_low_confidence() -> None:
    t, lm, m = series("cmj", 60, noise_px=0.3)
    mid = (m.events["takeoff_s"] + m.events["landing_s"]) / 2
    i = int(np.searchsorted(t, mid))
    keep = np.ones(len(t), bool)
    keep[i : i + 3] = False
    q = measured_from_series(t[keep], lm[keep], 60).quality
    assert q.dropped_frames == 3 and q.jumps[0].dropped_frames_in_jump == 1
    assert q.verdict == "low confidence" and q.jumps[0].verdict == "low confidence"
    assert any("gap(s) of dropped frames during the jump" in r for r in q.jumps[0].reasons)


def test_dropped_frames_outside_the_jump_count_above_two_percent() -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.3)
    keep = np.ones(len(t), bool)
    keep[10:30:2] = False  # 10 single frames lost while standing: 3.6 % of the clip
    q = measured_from_series(t[keep], lm[keep], 60).quality
    assert q.dropped_frames == 10 and q.jumps[0].dropped_frames_in_jump == 0
    assert "10 dropped frames (timestamp gaps)" in q.reasons and q.verdict == "low confidence"


def test_low_landmark_confidence_at_landing() -> None:
    t, lm, m = series("cmj", 60, noise_px=0.3)
    i = int(np.searchsorted(t, m.events["landing_s"]))
    lm[i - 2 : i + 2, FOOT_POINTS, 2] = 0.35  # above the mask threshold, but weak
    jq = measured_from_series(t, lm, 60).quality.jumps[0]
    assert jq.event_confidence["landing_s"] < 0.5
    assert jq.verdict == "low confidence"
    assert any(r.startswith("low landmark confidence at landing") for r in jq.reasons)


def test_no_landmarks_at_takeoff_is_never_an_ok_verdict() -> None:
    t, lm, m = series("cmj", 60)
    i = int(np.searchsorted(t, m.events["takeoff_s"]))
    lm[i - 3 : i + 3] = np.nan  # nobody detected for 0.1 s around takeoff
    r = measured_from_series(t, lm, 60)
    if r.error is not None:
        assert r.error.code == 4
    else:
        assert r.quality.jumps[0].verdict == "low confidence"


@pytest.mark.parametrize("fps", [30, 60])
def test_landing_in_frames_where_nobody_was_detected(fps: int) -> None:
    """The pose model lost the athlete for the last 0.2 s of the descent (it happens in fast,
    blurred flight frames): the landing is placed in that unseen span, not in the stance
    after it, its uncertainty covers the span, and the verdict says why it is low."""
    t, lm, m = series("cmj", fps, noise_px=0.3)
    ld = m.events["landing_s"]
    gone = (t > ld - 0.2) & (t < ld)
    lm[gone] = np.nan
    r = measured_from_series(t, lm, fps)
    assert r.error is None
    (j,) = r.analysis.jumps
    last_seen, first_seen = t[~gone & (t < ld)].max(), t[~gone & (t >= ld)].min()
    landing = j.events["landing_s"]
    assert last_seen - 0.5 / fps <= landing.value <= first_seen + 0.5 / fps
    assert landing.uncertainty >= (first_seen - last_seen) / np.sqrt(12) * 0.9
    jq = r.quality.jumps[0]
    assert jq.verdict == "low confidence"
    assert any(x.startswith("landing timed only to") for x in jq.reasons)


def test_a_first_contact_known_only_within_a_wide_interval_is_low_confidence() -> None:
    """A drop jumper lost by the pose model from 0.3 s before leaving the box until 0.1 s
    into the floor contact: the contact is placed inside the interval physics allows
    (``fall_unseen``), its sd covers it, and a contact time that uncertain makes the verdict
    low confidence."""
    t, lm, m = series("drop_jump", 60, box=0.4)
    leave, contact = m.events["box_leave_s"], m.events["contact_start_s"]
    lm[(t > leave - 0.3) & (t < contact + 0.1)] = np.nan
    r = measured_from_series(t, lm, 60)
    assert r.error is None
    (j,) = r.analysis.jumps
    got = j.events["contact_start_s"]
    assert j.jump_type == "drop_jump" and abs(got.value - contact) <= 2 * got.uncertainty
    assert got.uncertainty > 3 / 60
    jq = r.quality.jumps[0]
    assert jq.verdict == "low confidence"
    assert any(x.startswith("contact_start timed only to") for x in jq.reasons)


def test_low_detection_rate() -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.3)
    people = [[lm[i]] if i % 8 else [] for i in range(len(t))]  # missed in 1 frame of 8
    q = measured_from_series(t, lm, 60, people=people).quality
    assert q.detection_rate == pytest.approx(1 - np.ceil(len(t) / 8) / len(t))
    assert any(r.startswith("the athlete was detected in only 87%") for r in q.reasons)


def test_damaged_video_counts_are_reasons() -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.3)
    report = decode_report(t, 60, undecodable=2, duplicate_frames=1, concealed=3)
    q = measured_from_series(t, lm, 60, report=report).quality
    assert (q.undecodable_frames, q.concealed_frames, q.duplicated_frames) == (2, 3, 1)
    assert "damaged video: 2 undecodable, 3 concealed and 1 duplicated frame(s)" in q.reasons
    assert q.verdict == "low confidence"


def test_camera_status_reason_and_notes() -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.3)
    n = len(t)
    why = "camera motion unknown in 12 frame(s) (background hidden or blurred)"
    partly = static_camera(n, status="partly compensated", reason=why, max_shift_px=30.0)
    q = measured_from_series(t, lm, 60, camera=partly).quality
    assert q.verdict == "low confidence"
    assert f"the camera moved and could not be followed everywhere ({why})" in q.reasons
    moved = static_camera(n, status="compensated", max_shift_px=30.0)
    q = measured_from_series(t, lm, 60, camera=moved).quality
    assert q.verdict == "ok" and q.camera is moved
    assert any("the camera moved (up to 30 px)" in w for w in q.warnings)
    blind = static_camera(n, status="not measurable", reason="too little still background")
    q = measured_from_series(t, lm, 60, camera=blind).quality
    assert q.verdict == "ok"
    assert "camera motion could not be checked: too little still background" in q.warnings


# --------------------------------------------------------------------------- damaged frames


def _damaged_at(t: np.ndarray, time: float, frames: int = 3) -> tuple:
    i = int(np.searchsorted(t, time))
    lo, hi = i - 1, i - 1 + frames - 1
    return (DamagedRange(float(t[lo]), float(t[hi]), frames, "concealed decoding errors"),)


def test_withhold_damaged_nulls_events_in_damaged_frames() -> None:
    t, lm, m = series("cmj", 60, noise_px=0.3)
    clean = measured_from_series(t, lm, 60)
    report = decode_report(t, 60, damaged=_damaged_at(t, m.events["landing_s"]), concealed=3)
    held = Q.withhold_damaged(clean.analysis, report)
    (j,) = held.jumps
    assert j.events["landing_s"].value is None
    assert j.events["landing_s"].method.startswith(
        "not measured: damaged video frames (concealed decoding errors) at"
    )
    for key in ("takeoff_s", "movement_start_s", "lowest_point_s"):  # outside: kept
        assert j.events[key] == clean.analysis.jumps[0].events[key]
    assert all(mm.value is None for mm in j.metrics.values())  # every metric uses the jump
    assert clean.analysis.jumps[0].events["landing_s"].ok  # the input is not modified
    # no damage: the very same analysis
    assert Q.withhold_damaged(clean.analysis, decode_report(t, 60)) is clean.analysis


def test_damage_far_from_any_event_withholds_nothing_but_lowers_the_verdict() -> None:
    t, lm, _ = series("cmj", 60, noise_px=0.3)
    report = decode_report(t, 60, damaged=_damaged_at(t, 0.3), concealed=3)
    m = measured_from_series(t, lm, 60, report=report)
    assert all(e.ok for e in m.analysis.jumps[0].events.values())
    assert m.quality.damaged == report.damaged
    assert m.quality.jumps[0].verdict == "ok" and m.quality.verdict == "low confidence"


def test_pipeline_withholds_and_says_why() -> None:
    t, lm, m = series("cmj", 60, noise_px=0.3)
    report = decode_report(t, 60, damaged=_damaged_at(t, m.events["takeoff_s"]), concealed=3)
    r = measured_from_series(t, lm, 60, report=report)
    jq = r.quality.jumps[0]
    assert r.analysis.jumps[0].events["takeoff_s"].value is None
    assert "damaged video frames at takeoff" in jq.reasons and jq.verdict == "low confidence"
    assert "takeoff_s" not in jq.event_confidence
