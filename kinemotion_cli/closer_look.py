"""Closer look: measure a small athlete again on one fixed crop around them.

The pose detector sees the whole frame at a low resolution (MediaPipe: a 224 px square), so
an athlete who fills a small part of a wide picture is a few dozen pixels tall to it, and
in the fastest frames (the flight) the poses break. When the whole frame shows no jump
(exit 3) or cannot follow the athlete's feet or head (exit 4) and the athlete's whole range
spans less than :data:`MAX_SHARE` of the picture, every frame is inferred again on one
square crop around everywhere the athlete was, widened by the room a jump needs, and the
video is measured again from that.

The crop is the same in every frame: it adds no motion of its own, so the camera motion
measured on the whole frame still applies. It is a retry only: a video measured on the
whole frame is never re-measured, so nothing that works changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.landmarks import bbox
from kinemotion_cli.subject import AMBIGUOUS, candidates

MAX_SHARE = 0.6  # crop side / the picture's longer side above which a crop cannot help
ROOM_UP = 0.6  # body heights above the highest box (a jump's rise and raised arms)
ROOM_SIDE = 0.3  # body heights on either side (arm swing, a landing a step away)
ROOM_DOWN = 0.15  # body heights below the lowest box (feet the model cut short)

Box = np.ndarray  # [x0, y0, x1, y1] in video pixels


def worth_retrying(error: KmoError | None) -> bool:
    """Whether a failed measurement may succeed with a closer look: no jump, or a body part
    not followed (exit 4), but not several jumpers (a closer look would not choose one)."""
    if error is None or error.message == AMBIGUOUS:
        return False
    return error.code in (ExitCode.NO_JUMP, ExitCode.NOT_MEASURABLE)


def region(
    people: Sequence[Sequence[np.ndarray]],
    times: np.ndarray,
    cuts: Sequence[int],
    width: int,
    height: int,
) -> Box | None:
    """The square crop (video pixels, inside the picture) around everywhere the most likely
    jumper was, or None when nobody was followed or the crop would not be much smaller than
    the picture (:data:`MAX_SHARE`)."""
    try:
        track = candidates(people, times, cuts)[0]
    except KmoError:
        return None
    boxes = np.array([b for p in track.landmarks if (b := bbox(p)) is not None])
    if len(boxes) < 3:
        return None
    body = float(np.median(boxes[:, 3] - boxes[:, 1]))
    x0, y0 = np.percentile(boxes[:, 0], 2), np.percentile(boxes[:, 1], 2)
    x1, y1 = np.percentile(boxes[:, 2], 98), np.percentile(boxes[:, 3], 98)
    x0, x1 = x0 - ROOM_SIDE * body, x1 + ROOM_SIDE * body
    y0, y1 = y0 - ROOM_UP * body, y1 + ROOM_DOWN * body
    side = max(x1 - x0, y1 - y0)
    if side >= MAX_SHARE * max(width, height):
        return None
    xa, xb = _inside((x0 + x1) / 2, side, width)
    ya, yb = _inside((y0 + y1) / 2, side, height)
    return np.array([xa, ya, xb, yb])


def _inside(centre: float, side: float, size: int) -> tuple[float, float]:
    """An interval of length ``side`` (at most ``size``) around ``centre``, moved into
    [0, size]."""
    side = min(side, float(size))
    lo = min(max(centre - side / 2, 0.0), size - side)
    return float(np.floor(lo)), float(np.ceil(lo + side))


def note(box: Box, width: int, height: int) -> str:
    """The warning a measurement made on the crop carries."""
    x0, y0, x1, y1 = (int(v) for v in box)
    return (
        f"the athlete is small in the {width}x{height} picture and the whole frame showed no "
        f"measurable jump, so the pose model looked again at a crop around them (x {x0}-{x1}, "
        f"y {y0}-{y1} px); film closer, or in portrait, for more reliable numbers"
    )


def tried(error: KmoError) -> KmoError:
    """The whole frame's error, saying that a closer look did not help either."""
    return KmoError(
        f"{error.message} (The athlete is small in the picture; a crop around them showed no "
        "more.)",
        error.code,
    )
