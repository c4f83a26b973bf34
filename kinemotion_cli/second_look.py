"""Second look: run the pose model again on parts of the frame, for people it missed.

The pose detector sees the whole frame at a low resolution, so a small or far athlete
beside a nearer person is missed in some frames, often in the fastest ones (the flight),
or in every frame. Two looks at parts of the frame, each at a higher resolution:

* every :data:`DISCOVER_S` the model also looks at four overlapping tiles of the frame
  (during the main pass), so a person it never saw whole is found at least there;
* where a followed person is missing between two frames that show them (a gap of at most
  :data:`MAX_GAP_S`), it looks again at a crop around where they must be: the union of
  their boxes before and after the gap, widened by the room a jump needs.

A person found in a part is kept when it is not someone already detected in that frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kinemotion_cli.landmarks import bbox
from kinemotion_cli.subject import build_tracks, centre_size

MAX_GAP_S = 1.0  # gaps up to this long are looked at again (a flight lasts < 1 s)
MARGIN = 0.5  # the crop is the boxes' union widened by this share of the person's height
SAME_PERSON = 0.3  # centres closer than this share of the height are the same person
DISCOVER_S = 0.5  # the frame's tiles are looked at this often (gaps between stay < MAX_GAP_S)
TILE = 2 / 3  # each of the four corner tiles spans 2/3 of the frame's width and height
MIN_SEEN = 3  # a person seen in fewer frames is not looked for in between

Box = np.ndarray  # [x0, y0, x1, y1] in video pixels


def gaps(people: Sequence[Sequence[np.ndarray]], times: np.ndarray) -> dict[int, list[Box]]:
    """Frames to look at again, each with the crop boxes (video pixels) to look in."""
    out: dict[int, list[Box]] = {}
    for tr in build_tracks(people, times):
        if len(tr.frames) < MIN_SEEN:
            continue
        seen = sorted(tr.frames)
        for a, b in zip(seen, seen[1:]):
            if b - a < 2 or times[b] - times[a] > MAX_GAP_S:
                continue
            ba, bb = bbox(tr.frames[a]), bbox(tr.frames[b])
            if ba is None or bb is None:
                continue
            h = max(ba[3] - ba[1], bb[3] - bb[1])
            union = np.array([min(ba[0], bb[0]), min(ba[1], bb[1]), max(ba[2], bb[2]),
                              max(ba[3], bb[3])])  # fmt: skip
            box = union + MARGIN * h * np.array([-1.0, -1.0, 1.0, 1.0])
            for i in range(a + 1, b):
                out.setdefault(i, []).append(box)
    return out


def tiles(width: float, height: float) -> list[Box]:
    """The four overlapping corner tiles of a ``width`` x ``height`` frame."""
    w, h = TILE * width, TILE * height
    return [
        np.array([x0, y0, x0 + w, y0 + h]) for y0 in (0.0, height - h) for x0 in (0.0, width - w)
    ]


def discovery_frame(t: float, t_prev: float | None) -> bool:
    """Whether the frame at ``t`` (after one at ``t_prev``) starts a new DISCOVER_S step."""
    return t_prev is None or np.floor(t / DISCOVER_S) > np.floor(t_prev / DISCOVER_S)


def _centre(person: np.ndarray) -> tuple[np.ndarray, float] | None:
    b = bbox(person)
    return None if b is None else centre_size(b)


@dataclass(frozen=True)
class Part:
    """One crop of a frame to look at: its pixels, where it sits, and the box asked for."""

    image: np.ndarray
    x0: int
    y0: int
    box: Box


def crop(image: np.ndarray, scale: float, box: Box) -> Part | None:
    """The part of a decoded frame (``scale``: its pixels -> video pixels) inside ``box``
    (video pixels); None when less than 16 px of the frame is in it."""
    h_img, w_img = image.shape[:2]
    x0, y0, x1, y1 = (np.asarray(box) / scale).round().astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, w_img), min(y1, h_img)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    return Part(np.ascontiguousarray(image[y0:y1, x0:x1]), int(x0), int(y0), box)


def crops(image: np.ndarray, scale: float, boxes: list[Box]) -> list[Part]:
    """The parts of a decoded frame inside ``boxes`` (:func:`crop`; too small ones skipped)."""
    return [part for box in boxes if (part := crop(image, scale, box)) is not None]


def to_video(person: np.ndarray, origin: tuple[int, int], scale: float) -> np.ndarray:
    """A person found on a part whose top-left corner is at ``origin`` (frame pixels), in
    video pixels (``scale``: frame pixels -> video pixels)."""
    out = person.copy()
    out[:, 0] = (out[:, 0] + origin[0]) * scale
    out[:, 1] = (out[:, 1] + origin[1]) * scale
    return out


def merge(
    parts: Sequence[Part],
    results: Sequence[Sequence[np.ndarray]],
    scale: float,
    known: Sequence[np.ndarray],
    every: bool = False,
) -> list[np.ndarray]:
    """People found in the parts of one frame (``results``: the pose model's answer on each
    part, in its pixels), in video pixels, who are not among ``known``. Per part the
    person nearest its centre is kept, or with ``every`` (tiles) every new person."""
    found: list[np.ndarray] = []
    for part, people in zip(parts, results):
        box = part.box
        want = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        best, best_d, new = None, np.inf, []
        for p in people:
            p = to_video(p, (part.x0, part.y0), scale)
            cs = _centre(p)
            if cs is None:
                continue
            c, size = cs
            if any(
                (ck := _centre(q)) is not None
                and np.linalg.norm(ck[0] - c) < SAME_PERSON * max(size, ck[1])
                for q in [*known, *found]
            ):
                continue
            new.append(p)
            d = float(np.linalg.norm(c - want))
            if d < best_d:
                best, best_d = p, d
        if every:
            found.extend(new)
        elif best is not None:
            found.append(best)
    return found
