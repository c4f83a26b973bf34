"""Landmark series sampled from the analytic ground-truth motions (no video needed).

``series(jump, fps, noise_px, seed, duration, **kwargs)`` returns ``(times, landmarks,
truth)``: times in video seconds (t = 0 at the first shown frame), Halpe-26 landmarks
``(T, 26, 3)`` in pixels of an upright frame (x, y, score; floor at y = 900, body about 525 px tall,
camera motion acts on a 1080x1100 frame), and the truth, a dict
shaped like the ``<stem>.truth.json`` of the renderer (``truth_version`` 2, ``jumps``,
``mechanisms``, ``per_frame``...) that also has the attributes ``.jump``, ``.events``,
``.metrics`` (the first jump, video time) and ``.motion`` (the Program).

The body is the same motion model as the videos (``tests.groundtruth.motion``). Keyword
options (all off by default, so old callers get the old series):

- motion of the first jump: ``flight_time, depth, box, takeoff_s, eccentric_s,
  landing_depth, standing_s, shift_m, tuck_m, landing_shift_m=(dx, dz), contact_s``
- ``jumps``: further jumps, a list of ``JumpDef`` or dicts (``jump="rebound"``...)
- ``heel_rise_s, heel_rise_m, heel_drop_s``: heel rise before toe-off, toe-first landings
  (heel, ankle and toes follow the plantarflexion of a 0.24 m foot pivoting on the toe)
- ``toe_mark_m``: the toe landmarks sit this far back from the toe tip along the foot (where
  a pose model marks the toe joints), so a plantarflexed foot holds them off the floor
- ``camera_height_m, camera_distance_m``: the pinhole for depth changes
- ``drift_m=(dx, dz)``, ``steps`` (``StepDef`` or dicts): stance drift, one-foot steps
- ``camera_motion`` in none|handheld|follow (+ ``camera_shift_frac, camera_rot_deg,
  camera_zoom_frac, follow_k``): every landmark goes through the per-frame affine
- ``far_foot_px``: the left foot (and half of it at the left knee) drawn this much higher
- ``occlude_far_foot=(t0, t1)`` (video s): the left foot's landmarks score 0.1 there and
  move with the body (as a pose model guesses a hidden foot)
- ``start_s`` (motion time of the first frame) or ``start_before_takeoff_s``,
  ``end_after_s`` (clip ends this long after the last landing)
- ``timestamp_jitter_ms``: per-frame times = k / fps + jitter (the body is sampled there)
- ``arm_swing`` (0 = off; 1.0 = full): elbows and wrists swing back in the countermovement
  and forward-up through takeoff (seen from the front: they rise above the head), down
  after landing (landmarks only; the rendered videos keep the sprite's arms)
"""

from __future__ import annotations

import math

import numpy as np

from kinemotion_cli.landmarks import INDEX, N_KEYPOINTS
from tests.groundtruth.camera import CameraPath, Pinhole, apply_affine, frame_times
from tests.groundtruth.motion import JumpDef, StepDef, build_program, jumps_in_view

PPM = 300.0  # pixels per metre
FLOOR_Y = 900.0
CENTRE_X = 540.0
FRAME = (1080, 1100)  # camera frame for camera motion: the body fills about half its height
P0 = 0.08  # standing ankle height over the sole (m)
TOE_TO_ANKLE = 0.16  # horizontal toe-tip to ankle distance (m)
TOE_TO_HEEL = 0.24

# Standing pose (metres above the floor): feet 0-0.08, ankles 0.08, knees 0.5, hips 0.9 ...
HEIGHT_OF = {
    "left_heel": 0.0,
    "right_heel": 0.0,
    "left_big_toe": 0.0,
    "right_big_toe": 0.0,
    "left_small_toe": 0.01,
    "right_small_toe": 0.01,
    "left_ankle": 0.08,
    "right_ankle": 0.08,
    "left_knee": 0.5,
    "right_knee": 0.5,
    "left_hip": 0.9,
    "right_hip": 0.9,
    "hip": 0.9,
    "left_shoulder": 1.42,
    "right_shoulder": 1.42,
    "neck": 1.45,
    "left_elbow": 1.1,
    "right_elbow": 1.1,
    "left_wrist": 0.85,
    "right_wrist": 0.85,
    "nose": 1.6,
    "left_eye": 1.63,
    "right_eye": 1.63,
    "left_ear": 1.62,
    "right_ear": 1.62,
    "head": 1.75,
}
FOOT_PARTS = ("ankle", "heel", "big_toe", "small_toe")
_MOTION_KEYS = ("flight_time", "depth", "box", "takeoff_s", "eccentric_s", "landing_depth")
_JUMP_NAMES = {"dj": "drop_jump", "sj": "squat_jump"}


class SeriesTruth(dict):
    """The truth dict, with ``.jump``, ``.events``, ``.metrics`` of the first jump."""

    @property
    def jump(self) -> str:
        return self["jump_type"]

    @property
    def events(self) -> dict:
        return self["events"]

    @property
    def metrics(self) -> dict:
        return self["metrics"]

    @property
    def motion(self):
        return self["_motion"]


def plantar_angle(e: float) -> float:
    """Foot angle (rad) about the toe tip that lifts the ankle by e above its standing height."""
    r = math.hypot(TOE_TO_ANKLE, P0)
    return math.asin(min(1.0, (P0 + e) / r)) - math.atan2(P0, TOE_TO_ANKLE)


def _as_jump(j) -> JumpDef:
    if isinstance(j, JumpDef):
        return j
    j = dict(j)
    j["jump"] = _JUMP_NAMES.get(j.get("jump", "cmj"), j.get("jump", "cmj"))
    if "landing_shift_m" in j:
        j["landing_shift_m"] = tuple(j["landing_shift_m"])
    return JumpDef(**j)


def _as_step(s) -> StepDef:
    if isinstance(s, StepDef):
        return s
    if isinstance(s, dict):
        return StepDef(**s)
    return StepDef(*s)


def program_from_kwargs(jump: str, kw: dict, end_standing_s: float = 0.8):
    """Build the Program for `series` keyword options (consumes the motion keys of kw)."""
    first = {k: kw.pop(k) for k in _MOTION_KEYS if k in kw}
    for k in ("tuck_m", "landing_shift_m", "contact_s"):
        if k in kw:
            first[k] = kw.pop(k)
    first["jump"] = _JUMP_NAMES.get(jump, jump)
    jumps = [_as_jump(first)] + [_as_jump(j) for j in kw.pop("jumps", ())]
    return build_program(
        jumps,
        standing_s=kw.pop("standing_s", 1.0),
        heel_rise_s=kw.pop("heel_rise_s", 0.0),
        heel_rise_m=kw.pop("heel_rise_m", 0.05),
        heel_drop_s=kw.pop("heel_drop_s", None),
        shift_m=kw.pop("shift_m", 0.0),
        drift_m=tuple(kw.pop("drift_m", (0.0, 0.0))),
        steps=[_as_step(s) for s in kw.pop("steps", ())],
        end_standing_s=end_standing_s,
    )


ARM_KEYS = {  # swing angle (deg, forward/up positive) at the events of each jump type
    "cmj": (("movement_start_s", 0.0), ("lowest_point_s", -50.0)),
    "squat_jump": (("movement_start_s", 0.0), ("push_off_start_s", -30.0)),
    "drop_jump": (("box_leave_s", 0.0), ("contact_start_s", 20.0), ("lowest_point_s", -40.0)),
    "rebound": (("lowest_point_s", -40.0),),
}


def arm_swing_deg(m, scale: float = 1.0):
    """Arm swing angle phi(t) (deg) for a program: back in the countermovement, forward and
    up through takeoff (150 deg), highest at the apex (170), down to 40 at landing and back
    to hanging (0) 0.6 s later unless a rebound follows; cosine between keyframes (C1)."""
    keys: list[tuple[float, float]] = []
    for j in m.jumps:
        ev = j["events"]
        if keys and j["jump_type"] == "rebound":
            keys.pop()  # no return to hanging between a landing and its rebound
        for name, deg in ARM_KEYS.get(j["jump_type"], ()):
            if name in ev:
                keys.append((ev[name], deg))
        if "takeoff_s" in ev:
            to, ld = ev["takeoff_s"], ev["landing_s"]
            keys += [(to, 150.0), ((to + ld) / 2, 170.0), (ld, 40.0), (ld + 0.6, 0.0)]
    keys.sort()
    tk = np.array([k[0] for k in keys])
    vk = np.array([k[1] for k in keys]) * scale

    def phi(t: float) -> float:
        if not len(tk) or t <= tk[0] or t >= tk[-1]:
            return 0.0
        i = int(np.searchsorted(tk, t)) - 1
        s = (t - tk[i]) / (tk[i + 1] - tk[i])
        return float(vk[i] + (vk[i + 1] - vk[i]) * (1 - math.cos(math.pi * s)) / 2)

    return phi


def series(
    jump: str,
    fps: float,
    noise_px: float = 0.0,
    seed: int = 0,
    duration: float | None = None,
    **kwargs,
) -> tuple[np.ndarray, np.ndarray, SeriesTruth]:
    """(times, landmarks (T, 26, 3), truth) for a sprite-like body following the motion."""
    kw = dict(kwargs)
    end_after = kw.pop("end_after_s", None)
    m = program_from_kwargs(jump, kw, end_standing_s=0.8)
    start = kw.pop("start_s", 0.0)
    if "start_before_takeoff_s" in kw:
        start = m.jumps[0]["events"]["takeoff_s"] - kw.pop("start_before_takeoff_s")
    pin = Pinhole(
        PPM,
        FLOOR_Y,
        CENTRE_X,
        kw.pop("camera_height_m", 1.4),
        kw.pop("camera_distance_m", 4.0),
    )
    jitter = kw.pop("timestamp_jitter_ms", 0.0)
    far_px = kw.pop("far_foot_px", 0.0)
    toe_mark = kw.pop("toe_mark_m", 0.0)
    occl = kw.pop("occlude_far_foot", None)
    cam_mode = kw.pop("camera_motion", "none")
    swing = kw.pop("arm_swing", 0.0)
    phi = arm_swing_deg(m, float(swing)) if swing else None
    cam_kw = {
        k2: kw.pop(k1)
        for k1, k2 in (
            ("camera_shift_frac", "shift_frac"),
            ("camera_rot_deg", "rot_deg"),
            ("camera_zoom_frac", "zoom_frac"),
            ("follow_k", "follow_k"),
        )
        if k1 in kw
    }
    if kw:
        raise TypeError(f"unknown series options: {sorted(kw)}")

    if duration is not None:
        end = duration
    elif end_after is not None:
        end = max(j["events"]["landing_s"] for j in m.jumps if "landing_s" in j["events"])
        end = end + end_after - start
    else:
        end = m.end_s + 0.8 - start
    n = int(np.floor(end * fps)) + 1
    t = frame_times(n, fps, jitter, seed)
    cam = CameraPath(
        cam_mode,
        FRAME,
        seed,
        hip_up_px=lambda tm: m.hip(tm)[0] * PPM,
        t0=start - 1.0,
        t1=start + end + 1.0,
        **cam_kw,
    )
    rng = np.random.default_rng(seed)
    lm = np.full((len(t), N_KEYPOINTS, 3), np.nan)
    idx = {name: INDEX[name] for name in HEIGHT_OF}
    affines = []
    for i, tv in enumerate(t):
        tm = float(tv) + start
        z, _vz, c, _vc, x, e, _ve = m.full(tm)
        sx, sz = m.stance(tm)
        x = x + sx
        feet = m.feet(tm)
        hidden = occl is not None and occl[0] <= tv <= occl[1]
        for name, h0 in HEIGHT_OF.items():
            k = idx[name]
            side_name = "left" if name.startswith("left") else "right"
            fk = 0 if side_name == "left" else 1
            lift, dep = feet[fk] if name.startswith(("left", "right")) else (0.0, 0.0)
            zf, cf = z + lift, c - lift  # this foot's ankle displacement, leg change
            part = name.split("_", 1)[-1]
            is_foot = part in FOOT_PARTS
            if is_foot:
                toe = zf - e
                if e == 0.0:
                    h = h0 + zf
                elif part == "ankle":
                    h = zf + P0
                elif part == "heel":
                    h = toe + TOE_TO_HEEL * math.sin(plantar_angle(e))
                elif toe_mark:
                    h = toe + h0 + toe_mark * math.sin(plantar_angle(e))
                else:
                    h = toe + h0
                if hidden and side_name == "left":
                    h = h0 + z + c  # a hidden foot guessed from the body: moves with the hip
            elif phi is not None and part in ("elbow", "wrist"):
                a = math.radians(phi(tm))  # swing about the shoulder, sagittal plane
                h = 1.42 + z + c - (1.42 - h0) * math.cos(a)
            elif h0 <= 0.9:  # legs (and, as before, the wrists) shorten with the crouch
                h = h0 + zf + cf * (h0 - 0.08) / (0.9 - 0.08)
            else:
                h = h0 + z + c
            side = -0.1 if name.startswith("left") else (0.1 if name.startswith("right") else 0)
            px = CENTRE_X + (side + x) * PPM
            py = FLOOR_Y - h * PPM
            if name.startswith("left") and far_px:
                py -= far_px if is_foot else (far_px / 2 if part == "knee" else 0.0)
            dz = sz + (dep if is_foot else dep / 2 if part == "knee" else 0.0)
            if dz != 0.0:
                px, py = pin.project(px, py, dz)
            lm[i, k, 0] = px
            lm[i, k, 1] = py
            lm[i, k, 2] = 0.1 if (hidden and side_name == "left" and is_foot) else 0.95
        if cam_mode != "none":
            a = cam.affine(tm)
            lm[i, :, :2] = apply_affine(a, lm[i, :, :2])
            affines.append([float(v) for v in a.reshape(-1)])
    if noise_px:
        lm[..., :2] += rng.normal(0, noise_px, lm[..., :2].shape)

    jumps = jumps_in_view(m, start, start + float(t[-1]))
    mech = list(m.mechanisms)
    for on, name in (
        (cam_mode != "none", f"camera_{cam_mode}"),
        (far_px != 0, "far_foot"),
        (occl is not None, "occluded_far_foot"),
        (jitter > 0, "timestamp_jitter"),
        (start != 0.0, "trimmed_start"),
        (end_after is not None, "trimmed_end"),
        (noise_px > 0, "landmark_noise"),
        (bool(swing), "arm_swing"),
    ):
        if on:
            mech.append(name)
    first = jumps[0] if jumps else {"jump_type": m.jump, "events": {}, "metrics": {}}
    if m.jump == "none":
        jumps = []
    truth = SeriesTruth(
        truth_version=2,
        jump_type=first["jump_type"],
        fps=fps,
        frames=len(t),
        start_s=start,
        pixels_per_m=PPM,
        events=first["events"],
        metrics=first["metrics"],
        jumps=jumps,
        mechanisms=mech,
        per_frame={"t_s": [float(v) for v in t]},
        _motion=m,
    )
    if affines:
        truth["per_frame"]["camera_affine"] = affines
    return t, lm, truth
