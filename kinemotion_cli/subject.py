"""Subject selection: follow each person across frames and pick the jumper.

People are associated frame to frame by how far their body points moved, relative to their
size: the median over the points both poses show, so a person keeps the pose that shows them,
not one a model drew half on them and half on somebody overlapping them. A pose drawn twice
in one frame (most of its points in the same place) is one person. The jumper is the track,
present in most frames, with the largest vertical range of the hips relative to body height;
a standing bystander or a coach barely moves.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.landmarks import (
    FEET_NAMES,
    INDEX,
    N_KEYPOINTS,
    bbox,
    confident,
    head_top_y,
)
from kinemotion_cli.signal import DEFAULT_MIN_SCORE

MAX_MATCH = 0.6  # median point distance / box height allowed between frames
SAME_POINT = 0.05  # two points nearer than this share of the box height coincide ...
SAME_SHARE = 0.8  # ... and two poses with this share of their points coinciding are one
MIN_COMMON = 3  # points both poses show, to compare them point by point
MAX_AGE_S = 1.0
MIN_TRACK_SHARE = 0.1  # a person seen in fewer frames than this share is not followed
MOVES = 0.08  # a person whose hips span more than this share of their height moves


@dataclass
class _PersonTrack:
    """One person followed over time (while building tracks)."""

    frames: dict[int, np.ndarray] = field(default_factory=dict)
    box: np.ndarray | None = None
    last_t: float = -np.inf
    last: np.ndarray | None = None  # the latest pose


def centre_size(box: np.ndarray) -> tuple[np.ndarray, float]:
    """A box's centre and its height (at least 1 px)."""
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]), max(box[3] - box[1], 1.0)


def _point_distances(
    a: np.ndarray, b: np.ndarray, box_a: np.ndarray, box_b: np.ndarray
) -> np.ndarray | None:
    """Distances between the points both poses show, over the larger box height; None when
    they share too few points."""
    ok = confident(a, DEFAULT_MIN_SCORE) & confident(b, DEFAULT_MIN_SCORE)
    if ok.sum() < MIN_COMMON:
        return None
    size = max(centre_size(box_a)[1], centre_size(box_b)[1])
    return np.hypot(*(a[ok, :2] - b[ok, :2]).T) / size


def _distance(a: np.ndarray, b: np.ndarray, box_a: np.ndarray, box_b: np.ndarray) -> float:
    """How far a person moved between two poses, relative to their size: the median point
    distance, or the box centres' distance when the poses share too few points."""
    d = _point_distances(a, b, box_a, box_b)
    if d is not None:
        return float(np.median(d))
    (c0, s0), (c1, s1) = centre_size(box_a), centre_size(box_b)
    return float(np.linalg.norm(c1 - c0)) / max(s0, s1)


def _one_each(people: Sequence[np.ndarray], boxes: list) -> list[int]:
    """Indices of the people in one frame, each pose drawn twice counted once (the first)."""
    kept: list[int] = []
    for j, b in enumerate(boxes):
        if b is None:
            continue
        same = False
        for k in kept:
            d = _point_distances(people[j], people[k], b, boxes[k])
            if d is not None and float(np.mean(d < SAME_POINT)) >= SAME_SHARE:
                same = True
                break
        if not same:
            kept.append(j)
    return kept


def build_tracks(
    people_per_frame: Sequence[Sequence[np.ndarray]],
    times: np.ndarray,
    cuts: Sequence[int] = (),
) -> list[_PersonTrack]:
    """Greedy frame-to-frame association of detected people into tracks. No track goes on
    across a cut (frames in ``cuts`` start a new shot: whoever is there is somebody new)."""
    tracks: list[_PersonTrack] = []
    new_shot = set(cuts)
    for i, people in enumerate(people_per_frame):
        if i in new_shot:
            for tr in tracks:
                tr.box = None
        boxes = [bbox(p) for p in people]
        cands = [(j, boxes[j]) for j in _one_each(people, boxes)]
        pairs = []
        for ti, tr in enumerate(tracks):
            if tr.box is None or times[i] - tr.last_t > MAX_AGE_S:
                continue
            for j, b in cands:
                d = _distance(tr.last, people[j], tr.box, b)
                if d <= MAX_MATCH:
                    pairs.append((d, ti, j))
        used_t, used_p = set(), set()
        for _d, ti, j in sorted(pairs):
            if ti in used_t or j in used_p:
                continue
            used_t.add(ti)
            used_p.add(j)
            tracks[ti].frames[i] = people[j]
            tracks[ti].box = boxes[j]
            tracks[ti].last_t = float(times[i])
            tracks[ti].last = people[j]
        for j, b in cands:
            if j not in used_p:
                tracks.append(_PersonTrack({i: people[j]}, b, float(times[i]), people[j]))
    return tracks


def _motion(track: _PersonTrack) -> tuple[float, float]:
    """(vertical hip range / body height, median body height) of a track."""
    hips = np.array([p[INDEX["hip"], 1] for p in track.frames.values()])
    sizes = np.array([b[3] - b[1] for p in track.frames.values() if (b := bbox(p)) is not None])
    size = float(np.median(sizes)) if sizes.size else 1.0
    hips = hips[np.isfinite(hips)]
    if hips.size < 3:
        return 0.0, size
    return float(np.percentile(hips, 98) - np.percentile(hips, 2)) / size, size


@dataclass(frozen=True)
class Track:
    """The jumper's landmarks over time, and how the jumper was chosen."""

    times: np.ndarray
    landmarks: np.ndarray  # (T, 26, 3), NaN where the jumper was not seen
    people_tracked: int
    jumper_coverage: float  # share of frames with the jumper
    detection_rate: float  # share of frames with anybody
    observed: np.ndarray | None = None  # per frame: inferred (False: filled in between)

    def seen(self) -> np.ndarray:
        """Per frame: the pose model was run on it (not filled in between, ``sparse.py``)."""
        if self.observed is None:
            return np.ones(len(self.times), bool)
        return np.asarray(self.observed, bool)

    def subject(self) -> dict:
        """The JSON ``subject`` object."""
        return {
            "people_tracked": self.people_tracked,
            "jumper_coverage": round(self.jumper_coverage, 4),
            "detection_rate": round(self.detection_rate, 4),
        }


AMBIGUOUS = (
    "several people move as much as each other and more than one of them jumps, so the "
    "jumper is ambiguous; film one athlete at a time, or crop the video to the jumper."
)


def candidates(
    people_per_frame: Sequence[Sequence[np.ndarray]],
    times: np.ndarray,
    cuts: Sequence[int] = (),
    observed: Sequence[bool] = (),
    partly_seen: bool = False,
) -> list[Track]:
    """Every person followed over the clip who could be the jumper, most likely first.

    A candidate is present in at least half as many frames as the best-covered person; they
    are ranked by vertical hip range relative to body height (a standing bystander or a coach
    barely moves). The first is the jumper unless it moves much like the next ones: then the
    analysis decides (the jumper is the one who jumps, see :func:`choose`).

    ``partly_seen``: instead, the people seen in fewer frames than that (a pose detector
    that misses an athlete beside a more salient person) whose hips move, most often seen
    first: where none of the candidates jumps, one of these may.
    """
    n = len(people_per_frame)
    tracks = [
        t
        for t in build_tracks(people_per_frame, times, cuts)
        if len(t.frames) >= max(3, MIN_TRACK_SHARE * n)
    ]
    if not tracks:
        raise KmoError(
            "nobody was detected in the video; film the whole athlete, well lit, "
            "and check the file shows a person.",
            ExitCode.NOT_MEASURABLE,
        )
    stats = []
    for tr in tracks:
        motion, size = _motion(tr)
        stats.append((motion, len(tr.frames) / n, size, tr))
    max_cov = max(s[1] for s in stats)
    eligible = [s for s in stats if s[1] >= 0.5 * max_cov]
    eligible.sort(key=lambda s: (s[0], s[2]), reverse=True)
    best = eligible[0]
    alike = [best] + [
        s
        for s in eligible[1:]
        if best[0] > MOVES and s[0] > 0.75 * best[0] and s[2] > 0.5 * best[2]
    ]
    if partly_seen:  # the ones left out for coverage that move: most often seen first
        left_out = [s for s in stats if s[1] < 0.5 * max_cov and s[0] > MOVES]
        alike = sorted(left_out, key=lambda s: s[1], reverse=True)
    detected = sum(1 for p in people_per_frame if len(p))
    out = []
    for _motion_share, cov, _size, tr in alike:
        lm = np.full((n, N_KEYPOINTS, 3), np.nan)
        for i, person in tr.frames.items():
            lm[i] = person
        out.append(
            Track(
                np.asarray(times, dtype=float),
                lm,
                len(tracks),
                float(cov),
                detected / n if n else 0.0,
                np.asarray(observed, bool) if len(observed) == n and n else None,
            )
        )
    return out


def out_of_picture(landmarks: np.ndarray, height: int) -> tuple[str, float] | None:
    """("head" or "feet", share) when, in more than half of the frames where the person is,
    the head is above the picture (or drawn at or below the hips, as a pose model draws a
    face it invents when the real one is out of view) or the feet are below it."""
    y = np.asarray(landmarks, dtype=float)[..., 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without the person
        hips = np.nanmax(y[:, [INDEX["left_hip"], INDEX["right_hip"], INDEX["hip"]]], axis=1)
        feet = np.nanmax(y[:, [INDEX[n] for n in FEET_NAMES]], axis=1)
    head = head_top_y(y)
    present = np.isfinite(hips)
    if not present.any():
        return None
    with np.errstate(invalid="ignore"):
        outside = {"head": (head < 0) | (head >= hips), "feet": feet > height}
    for part, bad in outside.items():
        share = float(bad[present].mean())
        if share > 0.5:
            return part, share
    return None


def track_jumper(people_per_frame: Sequence[Sequence[np.ndarray]], times: np.ndarray) -> Track:
    """The jumper's :class:`Track` when one person clearly moves most; else exit 4."""
    found = candidates(people_per_frame, times)
    if len(found) > 1:
        raise KmoError(AMBIGUOUS, ExitCode.NOT_MEASURABLE)
    return found[0]
