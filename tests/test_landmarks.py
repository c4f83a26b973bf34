"""landmarks.py: the Halpe-26 schema, BlazePose-33 and COCO-17 conversions, boxes."""

from __future__ import annotations

import numpy as np
import pytest

from kinemotion_cli import landmarks as L

# BlazePose-33 names in index order (the MediaPipe Pose landmark list).
BLAZEPOSE33 = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip


def test_schema_indices_are_consistent() -> None:
    assert L.N_KEYPOINTS == len(L.HALPE26) == 26 == len(set(L.HALPE26))
    assert all(L.HALPE26[i] == name for name, i in L.INDEX.items())
    assert L.HALPE26[:17] == L.COCO17 and L.COCO17[-1] == "right_ankle"
    assert len(L.FOOT_POINTS) == 8 == len(set(L.FOOT_POINTS))
    assert all("left" in L.HALPE26[i] for i in L.LEFT_FOOT)
    assert all("right" in L.HALPE26[i] for i in L.RIGHT_FOOT)
    assert tuple(L.HALPE26[i] for i in L.FOOT_POINTS) == L.FEET_NAMES
    for a, b in L.SKELETON:
        assert 0 <= a < 26 and 0 <= b < 26 and a != b
    assert len(set(map(frozenset, L.SKELETON))) == len(L.SKELETON)  # no edge twice
    # every point the skeleton draws is connected to the head through the edges
    seen, frontier = {L.INDEX["head"]}, [L.INDEX["head"]]
    while frontier:
        k = frontier.pop()
        for a, b in L.SKELETON:
            for x, y in ((a, b), (b, a)):
                if x == k and y not in seen:
                    seen.add(y)
                    frontier.append(y)
    assert seen == {k for e in L.SKELETON for k in e}


def _blazepose(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bp = np.zeros((33, 3))
    bp[:, :2] = rng.uniform(0, 1000, (33, 2))
    bp[:, 2] = rng.uniform(0.5, 1.0, 33)
    return bp


def test_blazepose_to_halpe26_follows_the_documented_derivation() -> None:
    bp = _blazepose()
    at = {name: bp[i] for i, name in enumerate(BLAZEPOSE33)}
    out = L.blazepose_to_halpe26(bp)
    assert out.shape == (26, 3)
    for name in L.HALPE26[:17]:  # COCO points are copied as they are
        np.testing.assert_array_equal(out[L.INDEX[name]], at[name])
    ears = (at["left_ear"][:2] + at["right_ear"][:2]) / 2
    mouth = (at["mouth_left"][:2] + at["mouth_right"][:2]) / 2
    np.testing.assert_allclose(out[L.INDEX["head"], :2], 2 * ears - mouth)  # mirrored mouth
    score = min(at[k][2] for k in ("left_ear", "right_ear", "mouth_left", "mouth_right"))
    assert out[L.INDEX["head"], 2] == pytest.approx(score)
    neck = (at["left_shoulder"][:2] + at["right_shoulder"][:2]) / 2
    np.testing.assert_allclose(out[L.INDEX["neck"], :2], neck)
    hip = (at["left_hip"] + at["right_hip"]) / 2
    np.testing.assert_allclose(out[L.INDEX["hip"], :2], hip[:2])
    assert out[L.INDEX["hip"], 2] == min(at["left_hip"][2], at["right_hip"][2])
    for side in ("left", "right"):
        toe = at[f"{side}_foot_index"]
        np.testing.assert_array_equal(out[L.INDEX[f"{side}_big_toe"]], toe)
        np.testing.assert_allclose(out[L.INDEX[f"{side}_small_toe"], :2], toe[:2])
        assert out[L.INDEX[f"{side}_small_toe"], 2] == pytest.approx(0.9 * toe[2])
        np.testing.assert_array_equal(out[L.INDEX[f"{side}_heel"]], at[f"{side}_heel"])
    assert set(L.BLAZEPOSE_DERIVATION) == set(L.HALPE26)  # every point is documented


def test_blazepose_conversion_is_vectorised_over_frames() -> None:
    frames = np.stack([_blazepose(s) for s in range(4)])
    out = L.blazepose_to_halpe26(frames)
    assert out.shape == (4, 26, 3)
    for i in range(4):
        np.testing.assert_array_equal(out[i], L.blazepose_to_halpe26(frames[i]))


def test_coco17_to_halpe26_leaves_feet_and_head_unmeasured() -> None:
    kp = np.random.default_rng(1).uniform(0, 500, (2, 17, 3))
    out = L.coco17_to_halpe26(kp)
    assert out.shape == (2, 26, 3)
    np.testing.assert_array_equal(out[:, :17], kp)
    for name in ("head", "left_big_toe", "right_big_toe", "left_small_toe", "left_heel"):
        assert np.isnan(out[:, L.INDEX[name]]).all(), name
    np.testing.assert_allclose(out[:, L.INDEX["neck"], :2], (kp[:, 5, :2] + kp[:, 6, :2]) / 2)
    np.testing.assert_allclose(out[:, L.INDEX["hip"], :2], (kp[:, 11, :2] + kp[:, 12, :2]) / 2)


def test_bbox_uses_confident_points_only() -> None:
    p = np.full((26, 3), np.nan)
    p[:4] = [[10, 20, 0.9], [50, 80, 0.9], [30, 5, 0.9], [900, 900, 0.1]]  # last: low score
    np.testing.assert_array_equal(L.bbox(p), [10, 5, 50, 80])
    assert L.bbox(p, min_score=0.95) is None  # fewer than 3 confident points
    p[2, 2] = np.nan
    assert L.bbox(p) is None
