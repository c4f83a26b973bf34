"""second_look.py: the pose model looks again, on a crop, where a followed person was lost."""

from __future__ import annotations

import numpy as np
import pytest

from kinemotion_cli.jumps import analyze
from kinemotion_cli.landmarks import bbox
from kinemotion_cli.second_look import (
    DISCOVER_S,
    MARGIN,
    TILE,
    crops,
    discovery_frame,
    gaps,
    merge,
    tiles,
)
from kinemotion_cli.subject import track_jumper
from tests.landmark_series import series


def look(image, scale, t, boxes, known, infer, every=False):  # noqa: ANN001, ANN201
    """What the pipeline does with one frame: its parts, the pose model on each, merged."""
    parts = crops(image, scale, boxes)
    return merge(parts, [infer(part.image, t) for part in parts], scale, known, every)


@pytest.fixture(scope="module")
def two_people():  # noqa: ANN201
    """A jumper (x ~ 840) and a standing bystander (x ~ 240); the detector misses the jumper
    from just before takeoff until after landing."""
    t, lm, truth = series("cmj", 60)
    jumper = lm.copy()
    jumper[..., 0] += 300
    bystander = np.repeat(lm[:1], len(t), axis=0)
    bystander[..., 0] -= 300
    ev = truth.events
    lost = (t > ev["takeoff_s"] - 0.05) & (t < ev["landing_s"] + 0.05)
    people = [[bystander[i]] + ([] if lost[i] else [jumper[i]]) for i in range(len(t))]
    return t, jumper, bystander, people, lost, truth


def test_gaps_are_the_frames_where_a_followed_person_is_missing(two_people) -> None:
    t, jumper, _, people, lost, _ = two_people
    todo = gaps(people, t)
    assert sorted(todo) == list(np.flatnonzero(lost))  # the bystander is never missing
    first, last = np.flatnonzero(lost)[[0, -1]]
    before, after = bbox(jumper[first - 1]), bbox(jumper[last + 1])
    h = max(before[3] - before[1], after[3] - after[1])
    (box,) = todo[first]
    np.testing.assert_allclose(box[[0, 1]], np.minimum(before, after)[[0, 1]] - MARGIN * h)
    np.testing.assert_allclose(box[[2, 3]], np.maximum(before, after)[[2, 3]] + MARGIN * h)
    # the jumper in flight is inside the crop
    for i in np.flatnonzero(lost):
        b = bbox(jumper[i])
        assert box[0] <= b[0] and box[1] <= b[1] and b[2] <= box[2] and b[3] <= box[3]


def test_a_gap_longer_than_a_flight_is_not_looked_at() -> None:
    t = np.arange(200) / 60
    _, lm, _ = series("cmj", 60)
    person = lm[0]
    people = [[person] if i < 50 or i > 150 else [] for i in range(200)]  # 1.7 s missing
    assert gaps(people, t) == {}


def test_look_maps_crop_pixels_back_and_skips_people_already_known(two_people) -> None:
    t, jumper, bystander, people, lost, _ = two_people
    i = int(np.flatnonzero(lost)[len(np.flatnonzero(lost)) // 2])
    (box,) = gaps(people, t)[i]
    scale = 2.0  # the decoded image is half the video's size
    image = np.zeros((600, 540, 3), np.uint8)
    x0, y0 = (box[:2] / scale).round().astype(int)
    seen = {}

    def infer(crop: np.ndarray, t_s: float) -> list[np.ndarray]:
        seen["shape"], seen["t"] = crop.shape, t_s
        out = []
        for p in (bystander[i], jumper[i]):  # the crop shows both, in crop pixels
            q = p.copy()
            q[:, 0] = q[:, 0] / scale - x0
            q[:, 1] = q[:, 1] / scale - y0
            out.append(q)
        return out

    found = look(image, scale, float(t[i]), [box], people[i], infer)
    assert seen["t"] == float(t[i]) and seen["shape"][0] > 16
    (p,) = found  # the bystander was already detected in that frame: not added again
    np.testing.assert_allclose(p[:, :2], jumper[i][:, :2], atol=scale)


def test_refilled_frames_let_the_jump_be_measured(two_people) -> None:
    """What the pipeline does with the second look: the flight is back in the jumper's
    track, so the jump is found and timed (without it, frames in flight are missing)."""
    t, jumper, _, people, lost, truth = two_people
    refilled = [ps + ([jumper[i]] if lost[i] else []) for i, ps in enumerate(people)]
    track = track_jumper(refilled, t)
    assert track.jumper_coverage == 1.0
    (j,) = analyze(t, track.landmarks, 60).jumps
    for key in ("takeoff_s", "landing_s"):
        assert abs(j.events[key].value - truth.events[key]) <= 0.008


def test_tiles_cover_the_frame_at_a_higher_resolution() -> None:
    boxes = tiles(540.0, 960.0)
    assert len(boxes) == 4
    for b in boxes:
        np.testing.assert_allclose(b[2:] - b[:2], [TILE * 540, TILE * 960])
        assert b.min() >= 0 and b[2] <= 540 and b[3] <= 960
    union = np.r_[np.min([b[:2] for b in boxes], axis=0), np.max([b[2:] for b in boxes], axis=0)]
    np.testing.assert_allclose(union, [0, 0, 540, 960])


def test_discovery_frames_come_every_step_whatever_the_frame_rate() -> None:
    for fps in (25.0, 29.97, 60.0, 240.0):
        t = np.arange(int(2.0 * fps)) / fps  # 2 s
        hits = [i for i in range(len(t)) if discovery_frame(t[i], t[i - 1] if i else None)]
        assert len(hits) == round(2.0 / DISCOVER_S)
        assert np.all(np.diff(t[hits]) <= DISCOVER_S + 1.0 / fps)


def test_tiles_keep_every_new_person(two_people) -> None:
    t, jumper, bystander, _, _, _ = two_people
    i = 10
    image = np.zeros((1100, 1080, 3), np.uint8)

    def infer(crop: np.ndarray, t_s: float) -> list[np.ndarray]:
        return [bystander[i].copy(), jumper[i].copy()]  # tile at the origin: same pixels

    box = np.array([0.0, 0.0, 1080.0, 1100.0])
    assert len(look(image, 1.0, float(t[i]), [box], [], infer, every=True)) == 2
    assert len(look(image, 1.0, float(t[i]), [box], [], infer)) == 1  # a crop: the nearest
    known = [bystander[i]]
    (p,) = look(image, 1.0, float(t[i]), [box], known, infer, every=True)
    np.testing.assert_allclose(p, jumper[i])
