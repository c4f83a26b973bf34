"""Focus: measure the jumper again on crops that follow them, frame by frame.

The pose detector sees the whole frame at a low resolution (MediaPipe: a 224 px square), and
the landmark model draws the body inside the box the detector gave. An athlete who fills a
part of the picture, beside a partner or far from the camera, gets a coarse box, and in the
fast frames of a takeoff the feet are then lost or drawn late (on the named case
``cmj_arms_heel_tf_man_60`` the takeoff came 28.5 ms late from the whole frame, 2.8 ms on
crops; README, "Focus").

Once the whole-frame pass has found the jumper, every frame the pose model ran on where the
jumper was seen (or within :data:`REACH` frames of it) is inferred again on a square crop
around the jumper's landmarks in the nearest such frame, :data:`MARGIN` times their extent
(room for a frame's motion at takeoff speed, and for arms the model had not drawn). The
person found on the crop nearest to the jumper replaces the jumper in that frame; other
people stay as the whole frame showed them, so the tracker tells them apart as before.
Frames the sparse schedule filled in between are filled again from the new inferred frames.

The crops depend only on the first pass's output, so the result is deterministic. A crop
helps only when it makes the jumper larger to the detector: when the crops would not be
much smaller than the picture (:data:`MAX_SHARE`), nothing is done. Only MediaPipe is
focused (:data:`BACKENDS`): RTMPose and RTMO have their own detectors, and no real model of
theirs was at hand to validate crops with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kinemotion_cli.landmarks import confident

BACKENDS = ("mediapipe",)  # where focus was validated on the ground-truth cases
MARGIN = 1.3  # crop side / the extent of the jumper's confident points
REACH = 3  # frames from one where the jumper was seen that still get a crop
MIN_POINTS = 8  # confident points a pose needs to place a crop
MAX_SHARE = 0.8  # median crop side / the picture's longer side above which focus is skipped
SAME_BODY = 0.25  # a person within this share of the jumper's extent is the jumper

Box = np.ndarray  # [x0, y0, x1, y1] in video pixels


def _extent(person: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Centre and larger side of the box of a person's confident points (None: too few)."""
    ok = confident(person)
    if ok.sum() < MIN_POINTS:
        return None
    xy = person[ok, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return (lo + hi) / 2, float(max(hi - lo))


def boxes(
    landmarks: np.ndarray, observed: Sequence[bool], width: int, height: int
) -> list[Box | None]:
    """Per frame, the crop (video pixels) to infer the jumper on, or None: frames filled in
    between (``observed`` False) and frames farther than :data:`REACH` from a pose get none.
    ``landmarks``: the jumper's ``(T, 26, 3)`` whole-frame landmarks, NaN where not seen."""
    ext = [_extent(p) for p in landmarks]
    seen = [e is not None for e in ext]
    out: list[Box | None] = [None] * len(landmarks)
    for i in range(len(landmarks)):
        if observed and not observed[i]:
            continue
        k = _nearest_seen(seen, i)
        if k is None:
            continue
        centre, size = ext[k]
        half = MARGIN * size / 2
        x0, x1 = _inside(centre[0], half, width)
        y0, y1 = _inside(centre[1], half, height)
        out[i] = np.array([x0, y0, x1, y1])
    return out


def _inside(centre: float, half: float, size: int) -> tuple[float, float]:
    """An interval of half-width ``half`` about ``centre``, moved inside ``[0, size]`` (cut
    to it when longer)."""
    lo = min(max(centre - half, 0.0), max(size - 2 * half, 0.0))
    return lo, min(lo + 2 * half, float(size))


def worth(crops: Sequence, width: int, height: int) -> bool:
    """Whether the crops make the jumper larger to the detector: their median side is at
    most :data:`MAX_SHARE` of the picture's longer side."""
    sides = [max(b[2] - b[0], b[3] - b[1]) for b in crops if b is not None]
    return bool(sides) and float(np.median(sides)) <= MAX_SHARE * max(width, height)


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    """Median distance between the points two people both show confidently (inf: none)."""
    ok = confident(a) & confident(b)
    if not ok.any():
        return float("inf")
    return float(np.median(np.hypot(*(a[ok, :2] - b[ok, :2]).T)))


def nearest(people: Sequence[np.ndarray], ref: np.ndarray) -> int | None:
    """The index of the person who is ``ref`` (within :data:`SAME_BODY` of its extent)."""
    e = _extent(ref)
    if not people or e is None:
        return None
    d = [_distance(p, ref) for p in people]
    i = int(np.argmin(d))
    return i if d[i] <= SAME_BODY * e[1] else None


def _nearest_seen(seen: Sequence[bool], i: int) -> int | None:
    """The frame nearest to ``i`` (the earlier on a tie), within :data:`REACH`, where the
    jumper was seen (``seen``: per frame, a pose with :data:`MIN_POINTS`)."""
    near = [k for k in range(max(0, i - REACH), min(len(seen), i + REACH + 1)) if seen[k]]
    return min(near, key=lambda k: (abs(k - i), k)) if near else None


def merge(
    people: Sequence[list[np.ndarray]],
    landmarks: np.ndarray,
    on_crops: dict[int, list[np.ndarray]],
    observed: Sequence[bool],
    times: np.ndarray,
) -> tuple[tuple[list[np.ndarray], ...], int]:
    """The people per frame with the jumper replaced by the person found on the frame's
    crop (``on_crops``: frame -> people on it, in video pixels), and how many frames were
    replaced. The jumper in the whole frame is the person nearest to ``landmarks[i]``; when
    the whole frame did not show the jumper, the crop's person is added unless it is
    somebody the whole frame showed. Filled frames get the jumper interpolated between the
    replaced frames around them."""
    out = [list(p) for p in people]
    seen = [_extent(p) is not None for p in landmarks]
    mine: dict[int, tuple[int, np.ndarray]] = {}  # frame -> (index in out[i], new person)
    for i, found in sorted(on_crops.items()):
        k_ref = _nearest_seen(seen, i)
        if k_ref is None:
            continue
        ref = landmarks[k_ref]
        j = nearest(found, ref)
        if j is None:
            continue
        new = found[j]
        k = nearest(out[i], landmarks[i]) if seen[i] else None
        if k is None and nearest(out[i], new) is not None:
            continue  # the crop found somebody else the whole frame shows
        if k is None:
            out[i].append(new)
            k = len(out[i]) - 1
        else:
            out[i][k] = new
        mine[i] = (k, new)
    if observed:
        _refill(out, landmarks, seen, mine, observed, times)
    return tuple(out), len(mine)


def _refill(
    out: list[list[np.ndarray]],
    landmarks: np.ndarray,
    seen: Sequence[bool],
    mine: dict[int, tuple[int, np.ndarray]],
    observed: Sequence[bool],
    times: np.ndarray,
) -> None:
    """Frames filled in between: the jumper interpolated linearly between the replaced
    inferred frames on either side (each point's score the lower of the two)."""
    i = 0
    n = len(out)
    while i < n:
        if observed[i]:
            i += 1
            continue
        j = i
        while j < n and not observed[j]:
            j += 1
        a, b = i - 1, j  # the inferred frames around the filled stretch
        if a in mine and b in mine:
            pa, pb = mine[a][1], mine[b][1]
            for f in range(i, j):
                k = nearest(out[f], landmarks[f]) if seen[f] else None
                if k is None:
                    continue
                w = (times[f] - times[a]) / (times[b] - times[a])
                xy = (1 - w) * pa[:, :2] + w * pb[:, :2]
                score = np.minimum(pa[:, 2], pb[:, 2])
                out[f][k] = np.column_stack([xy, score])
        i = j
