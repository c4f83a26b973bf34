"""Where the pose model runs: on every frame where the body moves, sparsely where it stands.

Quiet standing carries almost no information, yet it is most of many clips. The pose model
runs on every :func:`step`-th frame (a coarse pass at about :data:`COARSE_HZ` frames per
second, every frame at 15 fps or less). Between two consecutive coarse frames:

* when every person shown stood still over that interval, and over the :data:`HOLD_S`
  before it, the frames between are filled by linear interpolation (:func:`between`);
* otherwise every frame between is inferred.

*Still* is the contact logic's own notion of a planted point
(:data:`kinemotion_cli.jumps.body.STILL_BODY_PER_S`): every body point both coarse frames
show confidently moved less than 0.15 body heights per second. A body that turns round (the
apex of a flight, the bottom of a countermovement) can meet that over one interval while it
is not at rest; it cannot for :data:`HOLD_S` in a row, since it accelerates by at least about
one g there. So frames are filled only after that long of stillness, the clip's first
:data:`HOLD_S` and the frames after the last coarse frame are inferred, and every takeoff,
landing, first contact and lowest point lies where every frame was inferred. A movement
start (8 % of the peak downward hip speed, slower than *still*) may lie in a filled interval
and move by up to one coarse interval.

The schedule depends only on the pose model's output, so it is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kinemotion_cli.jumps.body import STILL_BODY_PER_S
from kinemotion_cli.landmarks import bbox, confident
from kinemotion_cli.signal import DEFAULT_MIN_SCORE

COARSE_HZ = 15.0  # the coarse pass infers about this many frames per second ...
MAX_STEP = 4  # ... and at least every 4th frame (a bounded number of frames held back)
HOLD_S = 0.25  # frames are filled only after this long of stillness


def step(fps: float) -> int:
    """Frames from one coarse frame to the next at ``fps`` (1: every frame is inferred)."""
    if not np.isfinite(fps) or fps <= 0:
        return 1
    return int(min(MAX_STEP, max(1, round(fps / COARSE_HZ))))


def _moved(a: np.ndarray, b: np.ndarray) -> float | None:
    """Largest point displacement from pose ``a`` to pose ``b`` over the larger box height;
    None when the two do not show the same points confidently (not comparable)."""
    ok_a, ok_b = confident(a, DEFAULT_MIN_SCORE), confident(b, DEFAULT_MIN_SCORE)
    box_a, box_b = bbox(a), bbox(b)
    if not ok_a.any() or not np.array_equal(ok_a, ok_b) or box_a is None or box_b is None:
        return None
    size = max(box_a[3] - box_a[1], box_b[3] - box_b[1], 1.0)
    return float(np.max(np.hypot(*(a[ok_a, :2] - b[ok_a, :2]).T)) / size)


def pairs(a: Sequence[np.ndarray], b: Sequence[np.ndarray], dt: float) -> list[int] | None:
    """For each person of ``a``, the person of ``b`` who is the same one standing still
    ``dt`` seconds later; None unless everybody in both stood still (same number of people,
    at least one, each matched once)."""
    if not a or len(a) != len(b) or dt <= 0:
        return None
    limit = STILL_BODY_PER_S * dt
    out: list[int] = []
    for p in a:
        moved = [(_moved(p, q), j) for j, q in enumerate(b) if j not in out]
        still = [(m, j) for m, j in moved if m is not None and m < limit]
        if not still:
            return None
        out.append(min(still)[1])
    return out


def between(
    a: Sequence[np.ndarray], b: Sequence[np.ndarray], match: list[int], w: float
) -> list[np.ndarray]:
    """The people a fraction ``w`` (0..1) of the way from frame ``a`` to frame ``b``:
    positions interpolated linearly, each point's score the lower of its two."""
    out = []
    for p, j in zip(a, match):
        q = b[j]
        mid = p.copy()
        mid[:, :2] = (1.0 - w) * p[:, :2] + w * q[:, :2]
        mid[:, 2] = np.minimum(p[:, 2], q[:, 2])
        out.append(mid)
    return out


@dataclass(frozen=True)
class Fill:
    """Two coarse frames between which everybody stood still (per configuration: the
    people at each end, and who is who)."""

    t0: float
    t1: float
    before: list
    after: list
    matches: list

    def at(self, t: float) -> list[list[np.ndarray]]:
        """The people at time ``t`` (between the two), per configuration."""
        w = min(1.0, max(0.0, (t - self.t0) / max(self.t1 - self.t0, 1e-9)))
        return [between(a, b, m, w) for a, b, m in zip(self.before, self.after, self.matches)]


class Schedule:
    """Which frames to infer, decided as the coarse frames' people come in."""

    def __init__(self, fps: float) -> None:
        self.step = step(fps)
        self._last: tuple[float, list] | None = None  # the last coarse frame: time, people
        self._still_since: float | None = None  # stillness began (None: moving now)

    def coarse(self, index: int) -> bool:
        """Whether frame ``index`` is a coarse frame (always inferred)."""
        return index % self.step == 0

    def fill(self, t: float, people: list) -> Fill | None:
        """A coarse frame at ``t`` and its people (one list per configuration): how to fill
        the frames since the previous coarse frame, or None to infer them."""
        last, self._last = self._last, (t, people)
        if last is None:
            return None
        t0, before = last
        matches = [pairs(a, b, t - t0) for a, b in zip(before, people)]
        if any(m is None for m in matches):
            self._still_since = None
            return None
        if self._still_since is None:
            self._still_since = t0
        if t0 - self._still_since < HOLD_S - 1e-9:
            return None
        return Fill(t0, t, before, people, matches)
