"""Named ground-truth cases for the accuracy report: Spec kwargs plus mechanism tags.

Every scene (front, back, both people of both two-people clips, the oblique far-foot view)
and every mechanism appears alone and combined, at 25-240 fps. The tags say what a case
exercises; the truth file's "mechanisms" list adds what the renderer saw in effect.
"""

from __future__ import annotations

import numpy as np

SMALL = {"width": 360, "height": 640}  # high frame rates: smaller frames keep kmo fast
TINY = {"width": 270, "height": 480}

CMJ5 = [{"jump": "cmj", "flight_time": ft, "gap_s": 1.2} for ft in (0.48, 0.5, 0.46, 0.52, 0.49)]
REBOUNDS3 = [
    {"jump": "rebound", "flight_time": 0.45, "contact_s": 0.2},
    {"jump": "rebound", "flight_time": 0.4, "contact_s": 0.25},
    {"jump": "rebound", "flight_time": 0.5, "contact_s": 0.18},
]
STEPS = [
    {"t": 0.3, "foot": "left", "length_m": 0.12},
    {"t": 0.8, "foot": "right", "length_m": 0.12},
]

CASES: dict[str, tuple[dict, list[str]]] = {
    # ---- baselines (the old generator's kind of clip) ----
    "cmj_front_60": ({"jump": "cmj", "source": "front"}, ["baseline"]),
    "cmj_back_30": (
        {"jump": "cmj", "source": "back", "fps": 30.0, "flight_time": 0.45},
        ["baseline"],
    ),
    "dj_back_60": ({"jump": "dj", "source": "back"}, ["baseline"]),
    "sj_front_240": ({"jump": "sj", "source": "front", "fps": 240.0, **TINY}, ["baseline"]),
    "none_front_30": ({"jump": "none", "source": "front", "fps": 30.0}, ["baseline", "no_jump"]),
    # ---- heel rise, toe-first landing, leg tuck ----
    "cmj_heel_front_60": ({"jump": "cmj", "source": "front", "heel_rise_s": 0.08}, []),
    "cmj_heel_tuck_back_120": (
        {"jump": "cmj", "source": "back", "fps": 120.0, "heel_rise_s": 0.06, "tuck_m": 0.05,
         **SMALL},
        [],
    ),
    "sj_heel_obl_man_50": (
        {"jump": "sj", "source": "two_oblique_man", "fps": 50.0, "heel_rise_s": 0.1,
         "flight_time": 0.45},
        [],
    ),
    "dj_heel_back_60": ({"jump": "dj", "source": "back", "heel_rise_s": 0.07}, []),
    "cmj_tuck_front_30": (
        {"jump": "cmj", "source": "front", "fps": 30.0, "tuck_m": 0.07, "flight_time": 0.55},
        [],
    ),
    # ---- landing displaced in depth and sideways ----
    "cmj_shift_front_60": ({"jump": "cmj", "source": "front", "landing_shift_m": (0.03, 0.12)}, []),
    "cmj_shift_away_back_30": (
        {"jump": "cmj", "source": "back", "fps": 30.0, "landing_shift_m": (-0.05, -0.1)},
        [],
    ),
    "cmj_shift_obl_man_60": (
        {"jump": "cmj", "source": "two_oblique_man", "landing_shift_m": (0.05, 0.15),
         "camera_height_m": 1.6, "camera_distance_m": 3.5},
        [],
    ),
    # ---- standing drift, steps ----
    "cmj_drift_front_60": (
        {"jump": "cmj", "source": "front", "drift_m": (0.03, 0.12), "standing_s": 2.0,
         "end_standing_s": 1.2},
        [],
    ),
    "none_steps_drift_tf_man_30": (
        {"jump": "none", "source": "two_front_man", "fps": 30.0, "steps": STEPS,
         "drift_m": (0.02, 0.12), "standing_s": 1.5},
        ["no_jump"],
    ),
    "cmj_steps_back_60": (
        {"jump": "cmj", "source": "back", "steps": STEPS, "standing_s": 1.6},
        [],
    ),
    # ---- hand-held camera ----
    "cmj_handheld_front_60": ({"jump": "cmj", "source": "front", "camera_motion": "handheld"}, []),
    "cmj_follow_back_60": ({"jump": "cmj", "source": "back", "camera_motion": "follow"}, []),
    "dj_handheld_front_30": (
        {"jump": "dj", "source": "front", "fps": 30.0, "camera_motion": "handheld", "seed": 3},
        [],
    ),
    "sj_follow_obl_woman_120": (
        {"jump": "sj", "source": "two_oblique_woman", "fps": 120.0, "camera_motion": "follow",
         "follow_k": 0.6, **SMALL},
        [],
    ),
    "none_handheld_back_30": (
        {"jump": "none", "source": "back", "fps": 30.0, "camera_motion": "handheld", "seed": 5},
        ["no_jump"],
    ),
    # ---- trimmed clips, edit lists ----
    "cmj_trim_front_60": (
        {"jump": "cmj", "source": "front", "start_before_takeoff_s": 0.4, "end_after_s": 0.25},
        [],
    ),
    "cmj_trim_midcm_back_30": (
        {"jump": "cmj", "source": "back", "fps": 30.0, "start_before_takeoff_s": 0.5,
         "end_after_s": 0.4},
        [],
    ),
    "dj_trim_front_60": (
        {"jump": "dj", "source": "front", "start_before_takeoff_s": 0.45, "end_after_s": 0.3},
        [],
    ),
    "cmj_editlist_front_60": ({"jump": "cmj", "source": "front", "hidden_leading_frames": 3}, []),
    "cmj_editlist_jitter_back_30": (
        {"jump": "cmj", "source": "back", "fps": 30.0, "hidden_leading_frames": 2,
         "timestamp_jitter_ms": 3.0},
        [],
    ),
    # ---- several jumps per clip ----
    "cmj_x3_front_60": (
        {"jump": "cmj", "source": "front", "more_jumps": [
            {"jump": "cmj", "flight_time": 0.45, "gap_s": 0.8},
            {"jump": "cmj", "flight_time": 0.55, "gap_s": 0.8}]},
        [],
    ),
    "cmj_rebounds_back_60": ({"jump": "cmj", "source": "back", "more_jumps": REBOUNDS3}, []),
    "dj_rebounds_front_120": (
        {"jump": "dj", "source": "front", "fps": 120.0, "more_jumps": REBOUNDS3[:2], **SMALL},
        [],
    ),
    "sj_then_cmj_back_50": (
        {"jump": "sj", "source": "back", "fps": 50.0, "flight_time": 0.4,
         "more_jumps": [{"jump": "cmj", "flight_time": 0.5, "gap_s": 0.8}]},
        [],
    ),
    # ---- frame rates and timestamps ----
    "cmj_front_25": ({"jump": "cmj", "source": "front", "fps": 25.0, "flight_time": 0.5}, []),
    "cmj_back_2997": ({"jump": "cmj", "source": "back", "fps": 29.97}, []),
    "cmj_front_289_jitter": (
        {"jump": "cmj", "source": "front", "fps": 28.9, "timestamp_jitter_ms": 4.0},
        [],
    ),
    "cmj_obl_woman_3003": (
        {"jump": "cmj", "source": "two_oblique_woman", "fps": 30.03, "flight_time": 0.45},
        [],
    ),
    "dj_back_5994_jitter": (
        {"jump": "dj", "source": "back", "fps": 59.94, "timestamp_jitter_ms": 2.0},
        [],
    ),
    "cmj_front_240": ({"jump": "cmj", "source": "front", "fps": 240.0, **SMALL}, []),
    "dj_back_240": ({"jump": "dj", "source": "back", "fps": 240.0, **TINY}, []),
    "cmj_back_120_jitter": (
        {"jump": "cmj", "source": "back", "fps": 120.0, "timestamp_jitter_ms": 1.0, **SMALL},
        [],
    ),
    # ---- two-people scenes, far foot, occlusion ----
    "cmj_tf_man_60": ({"jump": "cmj", "source": "two_front_man"}, []),
    "cmj_tf_woman_60": ({"jump": "cmj", "source": "two_front_woman", "flight_time": 0.45}, []),
    "cmj_obl_man_60": ({"jump": "cmj", "source": "two_oblique_man"}, []),
    "cmj_obl_woman_30": ({"jump": "cmj", "source": "two_oblique_woman", "fps": 30.0}, []),
    "cmj_tf_man_occluded_60": (
        {"jump": "cmj", "source": "two_front_man", "partner_offset_m": (0.45, 0.35)},
        ["occlusion"],
    ),
    "dj_obl_man_60": ({"jump": "dj", "source": "two_oblique_man", "flight_time": 0.45}, []),
    # ---- drop jumps beside a partner, seen from the front (added after the second held-out
    # set's first run showed this scene weak; those held-out clips were not looked into) ----
    "dj_two_front_man_50": (
        {"jump": "dj", "source": "two_front_man", "fps": 50.0, "box": 0.4, "flight_time": 0.44},
        ["partner"],
    ),
    "dj_two_front_man_follow_2997": (
        {"jump": "dj", "source": "two_front_man", "fps": 29.97, "box": 0.3,
         "camera_motion": "follow", "heel_rise_s": 0.07},
        ["partner"],
    ),
    "dj_two_front_man_drift_60": (
        {"jump": "dj", "source": "two_front_man", "fps": 60.0, "box": 0.25,
         "drift_m": (0.02, -0.04), "tuck_m": 0.05},
        ["partner"],
    ),
    "dj_two_front_woman_30": (
        {"jump": "dj", "source": "two_front_woman", "fps": 30.0, "box": 0.3, "heel_rise_s": 0.08},
        ["partner"],
    ),
    # ---- an edited clip: the jump, then a montage of stills (other views, a close-up) ----
    "cmj_montage_front_60": (
        {"jump": "cmj", "source": "front", "end_after_s": 0.35, "montage_stills": 4},
        [],
    ),
    # ---- framing and views added after the event logic (not tuned on) ----
    "cmj_heel_rot_front_60": (
        {"jump": "cmj", "source": "front", "rotation": -90, "heel_rise_s": 0.07},
        ["unseen"],
    ),
    "cmj_wide_front_60": (
        {"jump": "cmj", "source": "front", "width": 960, "height": 540, "fit": "contain"},
        ["unseen"],
    ),
    "cmj_wide_heel_obl_man_30": (
        {"jump": "cmj", "source": "two_oblique_man", "fps": 30.0, "width": 1280,
         "height": 720, "fit": "contain", "heel_rise_s": 0.06},
        ["unseen"],
    ),
    "dj_wide_back_60": (
        {"jump": "dj", "source": "back", "width": 960, "height": 540, "fit": "contain"},
        ["unseen"],
    ),
    "dj_box40_obl_woman_240": (
        {"jump": "dj", "source": "two_oblique_woman", "fps": 240.0, "box": 0.4, **TINY},
        ["unseen"],
    ),
    "cmj_noisy_back_30": (
        {"jump": "cmj", "source": "back", "fps": 30.0, "noise": 8.0, "crf": 32},
        ["unseen"],
    ),
    "cmj_small_lowcam_front_30": (
        {"jump": "cmj", "source": "front", "fps": 30.0, "flight_time": 0.3,
         "camera_height_m": 0.5},
        ["unseen"],
    ),
    # ---- a small athlete in a landscape picture (added with the closer look) ----
    "cmj_landscape_back_30": (
        {"jump": "cmj", "source": "back", "fps": 30.0, "width": 1280, "height": 720,
         "fit": "contain"},
        [],
    ),
    "dj_landscape_front_60": (
        {"jump": "dj", "source": "front", "width": 1280, "height": 720, "fit": "contain"},
        [],
    ),
    "cmj_landscape_obl_man_60": (
        {"jump": "cmj", "source": "two_oblique_man", "width": 1920, "height": 1080,
         "fit": "contain", "heel_rise_s": 0.06},
        ["full_hd"],
    ),
    # ---- the conditions of the hand-labelled real clips (issue 10); first run as probes,
    # nothing tuned on them ----
    "cmj_x6_back_30": (
        {"jump": "cmj", "source": "back", "fps": 30.0, "more_jumps": CMJ5},
        [],
    ),
    "cmj_reach_heel_obl_woman_60": (
        {"jump": "cmj", "source": "two_oblique_woman", "flight_time": 0.3, "heel_rise_s": 0.07},
        [],
    ),
    "cmj_handheld_front_232": (
        {"jump": "cmj", "source": "front", "fps": 23.2, "camera_motion": "handheld"},
        [],
    ),
    "cmj_editlist_heel_obl_man_5994": (
        {"jump": "cmj", "source": "two_oblique_man", "fps": 59.94, "hidden_leading_frames": 25,
         "heel_rise_s": 0.08},
        [],
    ),
    "cmj_far_front_30_hd": (
        {"jump": "cmj", "source": "front", "fps": 30.0, "width": 1080, "height": 1920,
         "camera_distance_m": 7.0},
        ["full_hd"],
    ),
    "dj20_heel_front_30": (
        {"jump": "dj", "source": "front", "fps": 30.0, "box": 0.2, "heel_rise_s": 0.07},
        [],
    ),
    "sj_hold6_front_30": (
        {"jump": "sj", "source": "front", "fps": 30.0, "squat_hold_s": 6.0},
        [],
    ),
    # ---- full-HD portrait, as phones film (tag full_hd, with the two 1920/1080 px cases
    # above): `make accuracy-max-side` measures them with the frames shrunk for the model ----
    "cmj_hd_heel_front_60": (
        {"jump": "cmj", "source": "front", "width": 1080, "height": 1920, "heel_rise_s": 0.07},
        ["full_hd"],
    ),
    "dj_hd_back_60": (
        {"jump": "dj", "source": "back", "width": 1080, "height": 1920},
        ["full_hd"],
    ),
    "cmj_hd_handheld_obl_man_30": (
        {"jump": "cmj", "source": "two_oblique_man", "fps": 30.0, "width": 1080,
         "height": 1920, "camera_motion": "handheld", "heel_rise_s": 0.06},
        ["full_hd"],
    ),
    "cmj_hd_follow_back_60": (
        {"jump": "cmj", "source": "back", "width": 1080, "height": 1920,
         "camera_motion": "follow"},
        ["full_hd"],
    ),
    "sj_hd_tf_man_50": (
        {"jump": "sj", "source": "two_front_man", "fps": 50.0, "width": 1080, "height": 1920},
        ["full_hd"],
    ),
    # ---- combined ----
    "combo_handheld_shift_heel_front_60": (
        {"jump": "cmj", "source": "front", "camera_motion": "handheld",
         "landing_shift_m": (0.02, 0.1), "heel_rise_s": 0.08, "seed": 1},
        ["combined"],
    ),
    "combo_follow_trim_rebounds_back_60": (
        {"jump": "cmj", "source": "back", "camera_motion": "follow", "more_jumps": REBOUNDS3[:2],
         "start_before_takeoff_s": 0.45, "end_after_s": 0.3},
        ["combined"],
    ),
    "combo_obl_man_heel_shift_jitter_2997": (
        {"jump": "cmj", "source": "two_oblique_man", "fps": 29.97, "heel_rise_s": 0.07,
         "landing_shift_m": (0.04, 0.12), "timestamp_jitter_ms": 3.0, "tuck_m": 0.04},
        ["combined"],
    ),
    "combo_dj_rebounds_heel_handheld_tf_woman_60": (
        {"jump": "dj", "source": "two_front_woman", "heel_rise_s": 0.06,
         "camera_motion": "handheld", "more_jumps": REBOUNDS3[:1], "seed": 2},
        ["combined"],
    ),
    "combo_drift_steps_shift_editlist_obl_woman_60": (
        {"jump": "cmj", "source": "two_oblique_woman", "drift_m": (0.02, 0.1), "steps": STEPS,
         "standing_s": 1.6, "landing_shift_m": (0.0, 0.1), "hidden_leading_frames": 2},
        ["combined"],
    ),
    "combo_x2_heel_follow_tf_man_50": (
        {"jump": "cmj", "source": "two_front_man", "fps": 50.0, "heel_rise_s": 0.08,
         "camera_motion": "follow", "more_jumps": [{"jump": "cmj", "flight_time": 0.4,
                                                    "gap_s": 0.8}]},
        ["combined"],
    ),
    # ---- arm swing: arms back at the lowest point, overhead at takeoff, down in flight; the
    # centre of mass is ballistic, so the body rides up to 5 cm off its parabola in flight ----
    "cmj_arms_front_60": ({"jump": "cmj", "source": "front", "arm_swing": True}, []),
    "cmj_arms_heel_front_2997": (
        {"jump": "cmj", "source": "front", "fps": 29.97, "arm_swing": True, "heel_rise_s": 0.07},
        [],
    ),
    "cmj_arms_heel_tf_man_60": (
        {"jump": "cmj", "source": "two_front_man", "arm_swing": True, "heel_rise_s": 0.07,
         "tuck_m": 0.04},
        [],
    ),
    "cmj_arms_handheld_tf_man_30": (
        {"jump": "cmj", "source": "two_front_man", "fps": 30.0, "arm_swing": True,
         "camera_motion": "handheld", "seed": 5},
        [],
    ),
    "cmj_arms_x3_front_60": (
        {"jump": "cmj", "source": "front", "arm_swing": True, "more_jumps": CMJ5[1:3]},
        ["multi_jump"],
    ),
}  # fmt: skip


HOLDOUT_SEED = 20261207  # fixed once, never changed to suit the results
# A second held-out set, drawn on 2026-12-08 after the first had been looked into (cases h06,
# h14, h17 and h23 were read frame by frame and h14, h17 shaped two changes): nobody reads
# these cases' signals to change the event logic.
HOLDOUT2_SEED = 20261208
# A third, drawn on 2026-12-08 when the second was opened for development (its first run,
# 12/24 at 028ab10, is the honest figure for it): nobody reads these cases' signals.
HOLDOUT3_SEED = 20261209
HOLDOUT_SOURCES = (
    "front", "back", "two_front_man", "two_front_woman", "two_oblique_man", "two_oblique_woman"
)  # fmt: skip
HOLDOUT_FPS = (25.0, 28.9, 29.97, 30.03, 48.0, 50.0, 59.94, 60.0, 90.0, 120.0)


def holdout_cases(
    seed: int = HOLDOUT_SEED, n: int = 24, prefix: str = "h", tag: str = "holdout"
) -> dict[str, tuple[dict, list[str]]]:
    """Cases drawn at random from the generator's options (a held-out set).

    Every mechanism is switched on with a fixed chance and its size drawn from a range that
    real clips show, independently of the named cases above, from one fixed seed, so they
    tell how the event logic does on combinations nobody chose (the first set was since
    looked into, see HOLDOUT2_SEED and HOLDOUT3_SEED; the third was not).
    """
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[dict, list[str]]] = {}

    def r(lo: float, hi: float, nd: int = 3) -> float:
        return round(float(rng.uniform(lo, hi)), nd)

    for i in range(n):
        jump = str(rng.choice(["cmj", "cmj", "cmj", "dj", "sj"]))
        source = str(rng.choice(HOLDOUT_SOURCES))
        fps = float(rng.choice(HOLDOUT_FPS))
        kw: dict = {"jump": jump, "source": source, "fps": fps, "flight_time": r(0.36, 0.58)}
        kw.update(SMALL if fps > 60 else {})
        kw["camera_height_m"], kw["camera_distance_m"] = r(1.0, 1.7, 2), r(3.2, 5.0, 2)
        if jump == "dj":
            kw["box"] = r(0.2, 0.5, 2)
        if rng.random() < 0.5:
            kw["heel_rise_s"] = r(0.05, 0.1)
        if jump == "cmj" and source in ("front", "two_front_man") and rng.random() < 0.5:
            kw["arm_swing"] = True
        if rng.random() < 0.4:
            kw["landing_shift_m"] = (r(-0.06, 0.06), r(-0.15, 0.15))
        if rng.random() < 0.3:
            kw["tuck_m"] = r(0.03, 0.08)
        motion = str(rng.choice(["none", "none", "handheld", "follow"]))
        if motion != "none":
            kw["camera_motion"] = motion
        if rng.random() < 0.3:
            kw["drift_m"] = (r(-0.04, 0.04), r(-0.06, 0.06))
        if rng.random() < 0.2:
            kw["steps"], kw["standing_s"] = STEPS, 1.6  # the steps need that long standing
        if rng.random() < 0.3:
            kw["start_before_takeoff_s"] = r(0.9, 1.4, 2)
        if rng.random() < 0.3:
            kw["end_after_s"] = r(0.3, 0.6, 2)
        if rng.random() < 0.3:
            kw["timestamp_jitter_ms"] = r(1.0, 4.0, 1)
        if rng.random() < 0.15:
            kw["hidden_leading_frames"] = 25
        if jump == "cmj" and rng.random() < 0.25:
            kw["more_jumps"] = [
                {"jump": "cmj", "flight_time": r(0.38, 0.56), "gap_s": r(0.8, 1.5, 2)}
            ]
        name = f"{prefix}{i:02d}_{jump}_{source}_{str(fps).replace('.', '')}"
        out[name] = (kw, [tag])
    return out


HOLDOUT = holdout_cases()
HOLDOUT2 = holdout_cases(HOLDOUT2_SEED, prefix="g", tag="holdout2")
HOLDOUT3 = holdout_cases(HOLDOUT3_SEED, prefix="f", tag="holdout3")
CASE_SETS = {"main": CASES, "holdout": HOLDOUT, "holdout2": HOLDOUT2, "holdout3": HOLDOUT3}
_ALL = {**CASES, **HOLDOUT, **HOLDOUT2, **HOLDOUT3}


def case_kwargs(name: str) -> dict:
    """The Spec kwargs of a named case (main or held-out)."""
    return _ALL[name][0]


def case_spec(name: str):
    """The Spec of a named case."""
    from .render import Spec

    return Spec(**case_kwargs(name))


def case_tags(name: str, truth: dict | None = None) -> list[str]:
    """Explicit tags plus the mechanisms the truth says were in effect."""
    tags = list(_ALL[name][1])
    if truth is not None:
        tags += [m for m in truth.get("mechanisms", []) if m not in tags]
    kw = case_kwargs(name)
    fps = float(kw.get("fps", 60.0))
    tags.append(f"fps_{'low' if fps < 50 else 'mid' if fps < 100 else 'high'}")
    return tags
