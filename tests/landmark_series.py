"""Landmark series sampled from the analytic ground-truth motions (no video needed)."""

from __future__ import annotations

import numpy as np

from kinemotion_cli.landmarks import INDEX, N_KEYPOINTS
from tests.groundtruth.motion import build_motion

PPM = 300.0  # pixels per metre
FLOOR_Y = 900.0


def series(
    jump: str,
    fps: float,
    noise_px: float = 0.0,
    seed: int = 0,
    duration: float | None = None,
    **kwargs,
) -> tuple[np.ndarray, np.ndarray, object]:
    """(times, landmarks (T, 26, 3), motion) for a rigid-sprite body following the motion."""
    m = build_motion(jump, **kwargs)
    end = duration if duration is not None else m.end_s + 0.8
    t = np.arange(int(np.floor(end * fps)) + 1) / fps
    rng = np.random.default_rng(seed)
    lm = np.full((len(t), N_KEYPOINTS, 3), np.nan)
    # Standing pose (metres above the floor): feet 0-0.08, ankles 0.08, knees 0.5, hips 0.9 ...
    height_of = {
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
    for i, ti in enumerate(t):
        z, _vz, c, _vc, x = m.state(float(ti))
        for name, h0 in height_of.items():
            k = INDEX[name]
            if h0 <= 0.08:
                h = h0 + z
            elif h0 <= 0.9:  # legs shorten proportionally with the crouch
                h = h0 + z + c * (h0 - 0.08) / (0.9 - 0.08)
            else:
                h = h0 + z + c
            side = -0.1 if name.startswith("left") else (0.1 if name.startswith("right") else 0)
            lm[i, k, 0] = 540 + (side + x) * PPM
            lm[i, k, 1] = FLOOR_Y - h * PPM
            lm[i, k, 2] = 0.95
    if noise_px:
        lm[..., :2] += rng.normal(0, noise_px, lm[..., :2].shape)
    return t, lm, m
