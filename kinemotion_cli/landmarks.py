"""The canonical Halpe-26 landmark schema shared by every backend.

Landmarks are arrays of shape ``(T, 26, 3)``: x and y in pixels of the upright frame
(y grows downwards) and a score in [0, 1]. Missing values are NaN.
"""

from __future__ import annotations

import numpy as np

HALPE26: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "head",
    "neck",
    "hip",
    "left_big_toe",
    "right_big_toe",
    "left_small_toe",
    "right_small_toe",
    "left_heel",
    "right_heel",
)
INDEX: dict[str, int] = {name: i for i, name in enumerate(HALPE26)}
N_KEYPOINTS = len(HALPE26)

LEFT_FOOT = tuple(INDEX[n] for n in ("left_ankle", "left_heel", "left_big_toe", "left_small_toe"))
RIGHT_FOOT = tuple(
    INDEX[n] for n in ("right_ankle", "right_heel", "right_big_toe", "right_small_toe")
)
FOOT_POINTS = LEFT_FOOT + RIGHT_FOOT
TOE_POINTS = frozenset(INDEX[f"{s}_{t}_toe"] for s in ("left", "right") for t in ("big", "small"))
FEET_NAMES = tuple(HALPE26[i] for i in FOOT_POINTS)

# Skeleton edges for drawing (pairs of Halpe-26 indices).
SKELETON: tuple[tuple[int, int], ...] = tuple(
    (INDEX[a], INDEX[b])
    for a, b in (
        ("head", "neck"),
        ("neck", "left_shoulder"),
        ("neck", "right_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
        ("neck", "hip"),
        ("hip", "left_hip"),
        ("hip", "right_hip"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
        ("left_ankle", "left_heel"),
        ("left_ankle", "left_big_toe"),
        ("left_big_toe", "left_small_toe"),
        ("right_ankle", "right_heel"),
        ("right_ankle", "right_big_toe"),
        ("right_big_toe", "right_small_toe"),
    )
)

# COCO-17 is the first 17 Halpe-26 keypoints, in the same order.
COCO17 = HALPE26[:17]

# BlazePose-33 (MediaPipe) indices.
_BP = {
    "nose": 0,
    "left_eye": 2,
    "right_eye": 5,
    "left_ear": 7,
    "right_ear": 8,
    "mouth_left": 9,
    "mouth_right": 10,
    "left_shoulder": 11,
    "right_shoulder": 12,
    "left_elbow": 13,
    "right_elbow": 14,
    "left_wrist": 15,
    "right_wrist": 16,
    "left_hip": 23,
    "right_hip": 24,
    "left_knee": 25,
    "right_knee": 26,
    "left_ankle": 27,
    "right_ankle": 28,
    "left_heel": 29,
    "right_heel": 30,
    "left_foot_index": 31,
    "right_foot_index": 32,
}

#: How each Halpe-26 point is derived from BlazePose-33 (documented in the README).
BLAZEPOSE_DERIVATION: dict[str, str] = {
    **{n: f"BlazePose {n}" for n in HALPE26[:17]},
    "head": "top of head: ear midpoint + (ear midpoint - mouth midpoint), i.e. mirrored mouth",
    "neck": "midpoint of the shoulders",
    "hip": "midpoint of the hips",
    "left_big_toe": "BlazePose left_foot_index",
    "right_big_toe": "BlazePose right_foot_index",
    "left_small_toe": "BlazePose left_foot_index (BlazePose has one toe point; score x 0.9)",
    "right_small_toe": "BlazePose right_foot_index (BlazePose has one toe point; score x 0.9)",
    "left_heel": "BlazePose left_heel",
    "right_heel": "BlazePose right_heel",
}


def _mid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = (a + b) / 2.0
    out[..., 2] = np.minimum(a[..., 2], b[..., 2])
    return out


def blazepose_to_halpe26(bp: np.ndarray) -> np.ndarray:
    """Convert BlazePose-33 ``(..., 33, 3)`` (pixels, score) to Halpe-26 ``(..., 26, 3)``."""
    bp = np.asarray(bp, dtype=np.float64)
    out = np.full(bp.shape[:-2] + (N_KEYPOINTS, 3), np.nan)
    for name in HALPE26[:17]:
        out[..., INDEX[name], :] = bp[..., _BP[name], :]
    ears = _mid(bp[..., _BP["left_ear"], :], bp[..., _BP["right_ear"], :])
    mouth = _mid(bp[..., _BP["mouth_left"], :], bp[..., _BP["mouth_right"], :])
    head = ears.copy()
    head[..., :2] = 2.0 * ears[..., :2] - mouth[..., :2]
    head[..., 2] = np.minimum(ears[..., 2], mouth[..., 2])
    out[..., INDEX["head"], :] = head
    out[..., INDEX["neck"], :] = _mid(
        bp[..., _BP["left_shoulder"], :], bp[..., _BP["right_shoulder"], :]
    )
    out[..., INDEX["hip"], :] = _mid(bp[..., _BP["left_hip"], :], bp[..., _BP["right_hip"], :])
    for side in ("left", "right"):
        toe = bp[..., _BP[f"{side}_foot_index"], :]
        out[..., INDEX[f"{side}_big_toe"], :] = toe
        small = toe.copy()
        small[..., 2] = toe[..., 2] * 0.9
        out[..., INDEX[f"{side}_small_toe"], :] = small
        out[..., INDEX[f"{side}_heel"], :] = bp[..., _BP[f"{side}_heel"], :]
    return out


def coco17_to_halpe26(kp: np.ndarray) -> np.ndarray:
    """Embed COCO-17 ``(..., 17, 3)`` in Halpe-26; head, toes and heels are NaN (not measured)."""
    kp = np.asarray(kp, dtype=np.float64)
    out = np.full(kp.shape[:-2] + (N_KEYPOINTS, 3), np.nan)
    out[..., :17, :] = kp
    out[..., INDEX["neck"], :] = _mid(kp[..., 5, :], kp[..., 6, :])
    out[..., INDEX["hip"], :] = _mid(kp[..., 11, :], kp[..., 12, :])
    return out


def head_top_y(y: np.ndarray) -> np.ndarray:
    """Top of the head per frame from ``(T, 26)`` image rows: the head point or the nose,
    whichever is higher (NaN where both are unknown)."""
    return np.fmin(y[:, INDEX["head"]], y[:, INDEX["nose"]])


def confident(person: np.ndarray, min_score: float = 0.3) -> np.ndarray:
    """Per point of a ``(26, 3)`` person: drawn (finite x, y) with a score of ``min_score``
    or more."""
    return np.isfinite(person[:, :2]).all(axis=1) & (np.nan_to_num(person[:, 2]) >= min_score)


def bbox(person: np.ndarray, min_score: float = 0.3) -> np.ndarray | None:
    """Bounding box ``[x0, y0, x1, y1]`` of a ``(26, 3)`` person's confident points."""
    ok = np.isfinite(person[:, 0]) & (np.nan_to_num(person[:, 2]) >= min_score)
    if ok.sum() < 3:
        return None
    xy = person[ok, :2]
    return np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()])
