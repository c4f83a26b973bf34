"""The jumper's body as clean per-point tracks: contact points, trunk, hip, head, scale.

Everything downstream works on these tracks. Low-confidence landmarks are dropped, gross
outliers removed and short gaps filled (``signal.clean_landmarks``); nothing is low-passed
here, so no filter smears takeoff or landing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinemotion_cli import signal as sig
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.landmarks import INDEX, head_top_y

HEEL_TOE = tuple(
    INDEX[f"{side}_{part}"]
    for side in ("left", "right")
    for part in ("heel", "big_toe", "small_toe")
)
ANKLES = (INDEX["left_ankle"], INDEX["right_ankle"])
TRUNK = tuple(INDEX[n] for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"))
STANDING_PERCENTILE = 80  # body height: standing is among the tallest poses of a clip
# A whole pose this far (share of body height, median joint) from its neighbours' is not the
# body's: the trunk strays at most ~1 % from its running median at 25 fps, at the bottom
# of a countermovement (2 g over +-2 frames); a pose model that lost the person for a frame
# returns somebody else or a blend of two people, 7-35 % away.
BAD_POSE_BODY = 0.03
MIN_TRACKED_SHARE = 0.3  # heels/toes present in fewer frames than this: use the ankles
STILL_BODY_PER_S = 0.15  # a planted point moves slower than 0.15 body heights per second
NOISE_SPAN_S = 0.1  # a point's speed for its noise: over +-0.1 s (the noise barely counts)


@dataclass(frozen=True)
class Body:
    """Clean per-frame tracks of one jumper (pixels, image y down; NaN where unknown)."""

    t: np.ndarray
    fps: float
    y: np.ndarray  # (T, 26) cleaned vertical positions
    x: np.ndarray  # (T, 26) cleaned horizontal positions
    score: np.ndarray  # (T, 26) landmark scores
    contact_points: tuple[int, ...]  # landmarks that touch the ground (heels/toes, or ankles)
    foot_source: str
    trunk_y: np.ndarray  # mean of hips and shoulders (each aligned by its median offset)
    hip_y: np.ndarray
    head_y: np.ndarray
    body_px: float  # standing head-to-sole height in the image
    noise_px: float  # landmark noise of the contact points (median of their sigmas)
    point_noise: dict[int, float]

    def side_of(self, k: int) -> str:
        """'left' or 'right' for a landmark index."""
        return (
            "left"
            if k
            in (
                INDEX["left_heel"],
                INDEX["left_big_toe"],
                INDEX["left_small_toe"],
                INDEX["left_ankle"],
            )
            else "right"
        )


def aligned_mean(ys: np.ndarray) -> np.ndarray:
    """Mean of several point tracks after removing each one's median offset (NaN-aware)."""
    if ys.shape[1] == 0:
        return np.full(len(ys), np.nan)
    ref = np.nanmedian(ys, axis=1, keepdims=True)
    offsets = np.nanmedian(ys - ref, axis=0)
    offsets = np.where(np.isfinite(offsets), offsets, 0.0)
    out = np.nanmean(ys - offsets[None, :], axis=1)
    return out + float(np.mean(offsets))


def _planted(
    y: np.ndarray, t: np.ndarray, body_px: float, observed: np.ndarray | None
) -> np.ndarray:
    """Frames where a point stands still (slower than a planted point over +-0.1 s) and
    the pose model ran (``observed``; None: every frame): its landmark noise is measured
    there, not in motion (where real curvature adds to it) nor between inferred frames."""
    t = np.asarray(t, dtype=float)
    n = len(t)
    lo = np.searchsorted(t, t - NOISE_SPAN_S, side="left")
    hi = np.minimum(np.searchsorted(t, t + NOISE_SPAN_S, side="right") - 1, n - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = (y[hi] - y[lo]) / (t[hi] - t[lo])
    still = np.isfinite(v) & (np.abs(v) < STILL_BODY_PER_S * body_px) & (hi > lo)
    return still if observed is None else still & np.asarray(observed, bool)


def build_body(
    t: np.ndarray, landmarks: np.ndarray, fps: float, observed: np.ndarray | None = None
) -> Body:
    """Clean the landmarks and derive the tracks the event logic works on. The noise of
    each point is measured where it stands still, on the ``observed`` frames only (None:
    all)."""
    lm = sig.mask_low_confidence(landmarks)
    heel_toe = list(HEEL_TOE)
    if np.isfinite(lm[:, heel_toe, 1]).sum() >= MIN_TRACKED_SHARE * len(t) * len(heel_toe):
        contact, source = tuple(heel_toe), "heels and toes"
    else:
        contact, source = ANKLES, "ankles (no heel/toe landmarks)"
    head = head_top_y(lm[..., 1])
    low = np.nanmax(lm[:, list(contact), 1], axis=1) if len(t) else np.array([])
    height = low - head
    height = height[np.isfinite(height)]
    body_px = float(np.percentile(height, STANDING_PERCENTILE)) if height.size else float("nan")
    if not np.isfinite(body_px) or body_px <= 10:
        raise KmoError(
            "the athlete's feet and head are not visible; film the whole body, head to feet.",
            ExitCode.NOT_MEASURABLE,
        )
    cleaned = sig.clean_landmarks(
        landmarks,
        t,
        fps,
        outlier_floor_px=0.12 * body_px,
        pose_floor_px=BAD_POSE_BODY * body_px,
    )
    y, x = cleaned[..., 1], cleaned[..., 0]
    noise = {}
    for k in contact:
        s = sig.noise_sigma(y[:, k], _planted(y[:, k], t, body_px, observed))
        noise[k] = max(s, 0.2) if np.isfinite(s) else 1.0
    return Body(
        t=np.asarray(t, dtype=float),
        fps=float(fps),
        y=y,
        x=x,
        score=np.nan_to_num(np.asarray(landmarks)[..., 2], nan=0.0),
        contact_points=contact,
        foot_source=source,
        trunk_y=aligned_mean(y[:, list(TRUNK)]),
        hip_y=y[:, INDEX["hip"]],
        head_y=head_top_y(y),
        body_px=body_px,
        noise_px=float(np.median(list(noise.values()))),
        point_noise=noise,
    )
