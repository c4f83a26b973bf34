"""Camera motion: how the background moves in the image, so it can be removed from landmarks.

A hand-held phone pans and tilts, sometimes following the jumper up; in image space the
jumper's path is then no longer ballistic. The background tells how the camera moved:
corner features outside every detected person are tracked (pyramidal Lucas-Kanade, with a
forward-backward check) from a reference *keyframe* to each frame, and a similarity
transform (shift, rotation, zoom) is fitted with RANSAC. Matching against a keyframe rather
than chaining frame-to-frame estimates keeps the error from accumulating; a new keyframe is
taken only when too few of its features remain visible.

The result maps every frame to the first frame's coordinates (:func:`stabilize`). A camera
whose image moves less than ``STATIC_PX`` is treated as static and nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRACK_WIDTH = 480  # frames are tracked at about this width (px): the decoded width divided by
# a whole number (area averaging by a whole factor is exact and about 20 times faster)
MAX_FEATURES = 300
MIN_INLIERS = 15  # fewer inliers: this frame's camera motion is unknown
REKEY_SHARE = 0.5  # new keyframe when fewer than half of the keyframe's features remain
PERSON_MARGIN = 0.15  # people's boxes are grown by 15 % of their size before masking
STATIC_PX = 1.0  # camera motion below 1 video pixel anywhere in the frame: static
MAX_HOLE_S = 0.2  # frames without an estimate are bridged when the gap is this short
# A cut (an edit) is told from a lost background track by comparing the whole picture at
# 32x32 px: consecutive frames of one shot correlate above 0.96 there, hand-held or following
# the jumper; different views of one room correlate below 0.46 (measured on the generated
# set and a montage of the footage's four views).
THUMB = 32
SAME_SHOT = 0.7
FLAT_LEVELS = 2.0  # a frame with less contrast than this (8-bit levels) shows no picture


@dataclass(frozen=True)
class CameraMotion:
    """How the image moved over the clip, in video pixels."""

    to_first: np.ndarray  # (T, 2, 3): maps frame i's pixels to the first frame's
    known: np.ndarray  # (T,) bool: the transform of frame i was measured (or bridged)
    status: str  # "static", "compensated", "partly compensated" or "not measurable"
    reason: str | None
    max_shift_px: float  # largest displacement of any image corner from the first frame
    max_rotation_deg: float
    max_zoom: float  # largest relative size change (0.02 = 2 %)
    cuts: tuple[int, ...] = ()  # frames that start a new shot (an edit); to_first is per shot

    @property
    def applied(self) -> bool:
        """True when the landmarks were moved to the first frame's coordinates."""
        return self.status in ("compensated", "partly compensated")


def _as3(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


class CameraTracker:
    """Feed it every frame (and the people in it); ask for the :class:`CameraMotion`."""

    def __init__(self, width: int, height: int, scale: float = 1.0) -> None:
        """``width`` x ``height``: the video's size; ``scale``: video pixels per pixel of the
        frames it will be given (``video.decoded_size``)."""
        import cv2

        # One thread: the cores are busy inferring poses (pipeline.py); OpenCV's own thread
        # pool would spin on them and doubled the tracking's CPU time (2 cores, 1080x1920).
        cv2.setNumThreads(1)
        self.width, self.height = width, height
        shrink = max(1, round(width / scale / TRACK_WIDTH))  # decoded px -> tracking px
        self.k = 1.0 / (shrink * scale)  # video px -> tracking px
        self._key = None  # (gray, points, keyframe->first 3x3)
        self._prev = np.eye(3)  # keyframe -> current frame, last estimate (tracking px)
        self._to_first: list[np.ndarray] = []
        self._known: list[bool] = []
        self._features_seen = False
        self._thumb: np.ndarray | None = None
        self._cuts: list[int] = []
        self._skipped: list[int] = []  # frames not tracked: interpolated in result()

    def _gray(self, image: np.ndarray, scale: float) -> np.ndarray:
        import cv2

        g = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        n = 1.0 / (self.k * scale)  # image px per tracking px
        if round(n) > 1 and abs(n - round(n)) < 1e-6:  # a whole factor: exact and fast
            n = round(n)
            g = g[: g.shape[0] // n * n, : g.shape[1] // n * n]  # the last < n px rows/columns
            return cv2.resize(g, (g.shape[1] // n, g.shape[0] // n), interpolation=cv2.INTER_AREA)
        if abs(n - 1.0) > 1e-3:  # frames of another scale than announced
            size = (max(1, round(g.shape[1] / n)), max(1, round(g.shape[0] / n)))
            g = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
        return g

    def _mask(self, shape: tuple[int, int], boxes: list[np.ndarray]) -> np.ndarray:
        mask = np.full(shape, 255, np.uint8)
        for b in boxes:
            w, h = b[2] - b[0], b[3] - b[1]
            x0, x1 = (b[0] - PERSON_MARGIN * w) * self.k, (b[2] + PERSON_MARGIN * w) * self.k
            y0, y1 = (b[1] - PERSON_MARGIN * h) * self.k, (b[3] + PERSON_MARGIN * h) * self.k
            mask[max(int(y0), 0) : max(int(np.ceil(y1)), 0), max(int(x0), 0) : max(int(x1), 0)] = 0
        return mask

    def _new_key(self, gray: np.ndarray, boxes: list[np.ndarray], to_first: np.ndarray) -> None:
        import cv2

        pts = cv2.goodFeaturesToTrack(
            gray, MAX_FEATURES, 0.01, 7, mask=self._mask(gray.shape, boxes), blockSize=7
        )
        if pts is None or len(pts) < MIN_INLIERS:
            self._key = None
            return
        self._features_seen = True
        self._key = (gray, pts.reshape(-1, 2).astype(np.float32), to_first)
        self._prev = np.eye(3)

    def _cut(
        self, prev: np.ndarray | None, thumb: np.ndarray | None, gray: np.ndarray, boxes: list
    ) -> bool:
        """Start a new shot when this frame, which the background tracking lost, is an edit:
        the picture is another one even at THUMB px (a fast pan, blur or a person passing the
        lens keep its layout). The new shot gets its own coordinates; nothing is carried over
        from the old one."""
        if prev is None or thumb is None or _correlation(prev, thumb) >= SAME_SHOT:
            return False
        self._cuts.append(len(self._to_first))
        self._new_key(gray, boxes, np.eye(3))
        self._to_first.append(np.eye(3))
        self._known.append(True)
        return True

    def skip(self) -> None:
        """Add a frame without looking at it (nobody moved in it: ``sparse.py``); its motion
        is interpolated between the frames tracked on each side."""
        self._skipped.append(len(self._to_first))
        self._to_first.append(self._to_first[-1] if self._to_first else np.eye(3))
        self._known.append(False)

    def _bridge_skipped(self) -> tuple[list[np.ndarray], list[bool]]:
        """The transforms and known flags with every skipped frame interpolated between the
        tracked frames around it (when both were measured, within one shot)."""
        to_first, known = list(self._to_first), list(self._known)
        tracked = np.ones(len(to_first), bool)
        tracked[self._skipped] = False
        for i, j in _holes(tracked):  # runs of skipped frames, half-open
            a, b = i - 1, j  # the tracked frames around the run
            same_shot = not any(a < c <= b for c in self._cuts)
            if a >= 0 and b < len(to_first) and known[a] and known[b] and same_shot:
                for k in range(i, j):
                    w = (k - a) / (b - a)
                    to_first[k] = (1 - w) * to_first[a] + w * to_first[b]
                    known[k] = True
        return to_first, known

    def update(self, image: np.ndarray, scale: float, boxes: list[np.ndarray]) -> None:
        """Add the next frame (``scale``: its pixels -> video pixels) and the people's boxes
        (video pixels)."""
        import cv2

        gray = self._gray(image, scale)
        last = self._to_first[-1] if self._to_first else np.eye(3)
        thumb, prev_thumb = _thumbnail(gray), self._thumb  # the last frame with a picture
        self._thumb = thumb if thumb is not None else prev_thumb
        if self._key is None:
            if self._cut(prev_thumb, thumb, gray, boxes):
                return
            self._new_key(gray, boxes, last)
            self._to_first.append(last)
            self._known.append(not self._to_first[:-1] or self._key is not None)
            return
        key_gray, key_pts, key_to_first = self._key
        guess = cv2.transform(key_pts[None], self._prev[:2])[0].astype(np.float32)
        lk = dict(winSize=(21, 21), maxLevel=3, flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
        cur, st, _ = cv2.calcOpticalFlowPyrLK(key_gray, gray, key_pts, guess.copy(), **lk)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(gray, key_gray, cur, key_pts.copy(), **{**lk})
        ok = (st.ravel() == 1) & (st2.ravel() == 1)
        ok &= np.linalg.norm(back - key_pts, axis=1) < 0.5
        ok &= (
            self._mask(gray.shape, boxes)[
                np.clip(cur[:, 1].astype(int), 0, gray.shape[0] - 1),
                np.clip(cur[:, 0].astype(int), 0, gray.shape[1] - 1),
            ]
            > 0
        )
        m, inl = None, None
        if ok.sum() >= MIN_INLIERS:
            m, inl = cv2.estimateAffinePartial2D(
                key_pts[ok], cur[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0
            )
        n_in = int(inl.sum()) if inl is not None else 0
        if m is None or n_in < MIN_INLIERS:
            if self._cut(prev_thumb, thumb, gray, boxes):
                return
            self._to_first.append(last)
            self._known.append(False)
            self._new_key(gray, boxes, last)
            return
        self._prev = _as3(m)
        # tracking px of this frame -> keyframe -> first frame (all in tracking px)
        frame_to_first = key_to_first @ np.linalg.inv(self._prev)
        self._to_first.append(frame_to_first)
        self._known.append(True)
        if n_in < REKEY_SHARE * len(key_pts):
            self._new_key(gray, boxes, frame_to_first)

    def result(self) -> CameraMotion:
        """The camera motion over every frame fed so far."""
        frames, seen = self._bridge_skipped()
        n = len(frames)
        known = np.array(seen, dtype=bool)
        s = np.diag([self.k, self.k, 1.0])  # video px -> tracking px
        to_first = np.array([np.linalg.inv(s) @ m @ s for m in frames]).reshape(n, 3, 3)
        if n and not self._features_seen:
            return CameraMotion(
                np.tile(np.eye(3)[:2], (n, 1, 1)),
                np.zeros(n, bool),
                "not measurable",
                "too little still background to see how the camera moved",
                0.0,
                0.0,
                0.0,
                tuple(self._cuts),
            )
        corners = np.array(
            [[0, 0, 1], [self.width, 0, 1], [0, self.height, 1], [self.width, self.height, 1]],
            dtype=float,
        ).T
        shift = np.abs(to_first @ corners - corners[None]).max(axis=(1, 2)) if n else np.zeros(0)
        lin = to_first[:, :2, :2] if n else np.zeros((0, 2, 2))
        zoom = np.sqrt(np.abs(np.linalg.det(lin))) if n else np.zeros(0)
        rot = np.degrees(np.arctan2(lin[:, 1, 0], lin[:, 0, 0])) if n else np.zeros(0)
        max_shift = float(shift[known].max()) if known.any() else 0.0
        status, reason = "static", None
        if max_shift >= STATIC_PX:
            holes = _holes(known)
            fps_gap = [b - a for a, b in holes]
            if not holes:
                status = "compensated"
            else:
                status = "partly compensated"
                reason = (
                    f"camera motion unknown in {sum(fps_gap)} frame(s) (background hidden or "
                    "blurred)"
                )
        elif (~known[1:]).any() if n > 1 else False:
            reason = f"camera motion unknown in {int((~known[1:]).sum())} frame(s)"
        return CameraMotion(
            to_first[:, :2, :],
            known,
            status,
            reason,
            max_shift,
            float(np.abs(rot[known]).max()) if known.any() else 0.0,
            float(np.abs(zoom[known] - 1).max()) if known.any() else 0.0,
            tuple(self._cuts),
        )


def _thumbnail(gray: np.ndarray) -> np.ndarray | None:
    """A THUMB x THUMB px, zero-mean, unit-norm version of a frame; None when it shows no
    picture (under FLAT_LEVELS of contrast: a covered lens, a fade to black)."""
    import cv2

    small = cv2.resize(gray, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float64)
    small -= small.mean()
    if float(small.std()) < FLAT_LEVELS:
        return None
    return small / float(np.linalg.norm(small))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two thumbnails (1: the same picture)."""
    return float(np.sum(a * b))


def _holes(known: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], (~known).astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def stabilize(landmarks: np.ndarray, motion: CameraMotion, times: np.ndarray) -> np.ndarray:
    """Landmarks ``(T, K, 3)`` moved to the first frame's coordinates (a copy).

    Frames whose camera motion is unknown are bridged by interpolating the transform when
    the gap is short (``MAX_HOLE_S``); in longer gaps the landmarks are dropped (NaN), since
    their position relative to the scene is unknown.
    """
    out = np.array(landmarks, dtype=float, copy=True)
    if not motion.applied:
        return out
    a = motion.to_first.copy()
    known = motion.known.copy()
    for lo, hi in _holes(known):
        before, after = lo - 1, hi
        if before >= 0 and after < len(a) and times[after] - times[before] <= MAX_HOLE_S:
            w = (times[lo:hi] - times[before]) / (times[after] - times[before])
            a[lo:hi] = (1 - w)[:, None, None] * a[before] + w[:, None, None] * a[after]
            known[lo:hi] = True
    xy = out[..., :2]
    moved = np.einsum("tij,tkj->tki", a[:, :, :2], xy) + a[:, None, :, 2]
    out[..., :2] = np.where(known[:, None, None], moved, np.nan)
    return out
