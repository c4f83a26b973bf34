"""Pinhole floor geometry and camera motion shared by the renderer and the landmark series.

Pinhole: a level optical axis at `height_m` above the floor, the jumper's standing spot at
`distance_m`. A body moved `dz` metres toward the camera is seen `s = D / (D - dz)` times
larger, scaled about the principal point (centre column, horizon row), so its floor row is
``horizon + (floor_row0 - horizon) * s`` with ``horizon = floor_row0 - ppm * height_m``.

Camera motion: a 2x3 affine per frame, ``[a, b, c, d, e, f]`` with
``x_out = a x + b y + c`` and ``y_out = d x + e y + f``, mapping static-scene (world) image
pixel coordinates (pixel centres at integers, upright) to the output frame. It is a
rotation and zoom about the frame centre plus a translation; all are smooth functions of
continuous time, so frames at jittered times see the camera where it is at that instant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

CAMERA_MODES = ("none", "handheld", "follow")


@dataclass
class Pinhole:
    """Floor-plane projection around the jumper's standing spot (image pixels)."""

    ppm: float  # pixels per metre at the reference depth
    floor_row: float  # floor row at the reference depth
    centre_x: float  # principal point column
    height_m: float = 1.4
    distance_m: float = 4.0

    @property
    def horizon_row(self) -> float:
        return self.floor_row - self.ppm * self.height_m

    def scale(self, dz: float) -> float:
        """Image scale of something moved dz metres toward the camera."""
        return self.distance_m / (self.distance_m - dz)

    def project(self, x: np.ndarray | float, y: np.ndarray | float, dz: float):
        """Pixel (x, y) drawn at the reference depth -> where it is seen dz m nearer."""
        s = self.scale(dz)
        hor = self.horizon_row
        return self.centre_x + s * (x - self.centre_x), hor + s * (y - hor)

    def floor_row_at(self, dz: float) -> float:
        return self.horizon_row + (self.floor_row - self.horizon_row) * self.scale(dz)


def _sines(rng: np.random.Generator, n: int, f_lo: float, f_hi: float):
    f = np.exp(rng.uniform(math.log(f_lo), math.log(f_hi), n))
    ph = rng.uniform(0, 2 * math.pi, n)
    amp = 1.0 / f
    amp /= np.abs(amp).sum()
    return f, ph, amp


@dataclass
class CameraPath:
    """Smooth random camera motion; `affine(t)` gives the 2x3 world -> output matrix."""

    mode: str = "none"
    size: tuple[int, int] = (540, 960)  # output (width, height)
    seed: int = 0
    shift_frac: float = 0.02  # translation amplitude (fraction of the frame height)
    rot_deg: float = 1.0  # rotation amplitude (<= 1.5)
    zoom_frac: float = 0.015  # zoom amplitude (<= 0.02)
    follow_k: float = 0.5  # follow: vertical shift = k x the hip's low-passed rise (px)
    follow_tau_s: float = 0.12  # time constant of the critically damped follow lag
    hip_up_px: Callable[[float], float] | None = None  # hip rise in world pixels (follow)
    t0: float = -1.0  # follow filter start (motion time)
    t1: float = 30.0

    def __post_init__(self) -> None:
        if self.mode not in CAMERA_MODES:
            raise ValueError(f"camera mode must be one of {CAMERA_MODES}")
        rng = np.random.default_rng(10_000 + self.seed)
        self._comp = {k: _sines(rng, 5, 0.12, 1.2) for k in ("x", "y", "r", "z")}
        self._tremor = _sines(rng, 3, 4.0, 7.0)
        self._follow = None
        if self.mode == "follow":
            if self.hip_up_px is None:
                raise ValueError("follow needs hip_up_px")
            dt = 1e-3
            n = int((self.t1 - self.t0) / dt) + 2
            tt = self.t0 + dt * np.arange(n)
            u = np.array([self.hip_up_px(float(t)) for t in tt])
            w = 1.0 / self.follow_tau_s
            y, v = u[0], 0.0
            out = np.empty(n)
            for i in range(n):  # critically damped 2nd-order lag, semi-implicit Euler
                out[i] = y
                a = w * w * (u[i] - y) - 2 * w * v
                v += a * dt
                y += v * dt
            self._follow = (tt, out)

    def _walk(self, key: str, t: float) -> float:
        f, ph, amp = self._comp[key]
        return float(np.sum(amp * np.sin(2 * math.pi * f * t + ph)))

    def params(self, t: float) -> tuple[float, float, float, float]:
        """(tx px, ty px, rotation deg, zoom factor) at time t."""
        if self.mode == "none":
            return 0.0, 0.0, 0.0, 1.0
        h = self.size[1]
        amp = 1.0 if self.mode == "handheld" else 0.35  # follow: a steadier hand
        f, ph, a = self._tremor
        trem = float(np.sum(a * np.sin(2 * math.pi * f * t + ph))) * 0.0008 * h * amp
        tx = self._walk("x", t) * self.shift_frac * h * amp + trem
        ty = self._walk("y", t) * self.shift_frac * h * amp - trem
        rot = self._walk("r", t) * self.rot_deg * amp
        zoom = 1.0 + self._walk("z", t) * self.zoom_frac * amp
        if self._follow is not None:
            tt, yy = self._follow
            ty += self.follow_k * float(np.interp(t, tt, yy))
        return tx, ty, rot, zoom

    def affine(self, t: float) -> np.ndarray:
        """2x3 matrix world -> output at time t (identity when the camera is still)."""
        tx, ty, rot, zoom = self.params(t)
        if self.mode == "none":
            return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        cx, cy = (self.size[0] - 1) / 2, (self.size[1] - 1) / 2
        th = math.radians(rot)
        a, b = zoom * math.cos(th), zoom * math.sin(th)
        m = np.array([[a, -b, 0.0], [b, a, 0.0]])
        m[:, 2] = np.array([cx, cy]) - m[:, :2] @ np.array([cx, cy]) + np.array([tx, ty])
        return m

    def margin_px(self, times: np.ndarray) -> float:
        """Largest distance (px) by which an output corner maps outside the world frame."""
        w, h = self.size
        corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [-0.5, h - 0.5], [w - 0.5, h - 0.5]])
        worst = 0.0
        for t in times:
            m = self.affine(float(t))
            inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
            p = corners @ inv[:, :2].T + inv[:, 2]
            worst = max(
                worst,
                float(np.max(-0.5 - p[:, 0])),
                float(np.max(p[:, 0] - (w - 0.5))),
                float(np.max(-0.5 - p[:, 1])),
                float(np.max(p[:, 1] - (h - 0.5))),
            )
        return worst


def apply_affine(m: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Apply a 2x3 matrix to (..., 2) points."""
    return xy @ m[:, :2].T + m[:, 2]


def frame_times(
    n: int, fps: float, jitter_ms: float = 0.0, seed: int = 0, timebase: int = 90000
) -> np.ndarray:
    """Presentation times of n frames: k / fps plus a random jitter (monotonic).

    With jitter the times are rounded to the MP4 time base (1/90000 s), so the scene is
    rendered at exactly the stored time."""
    t = np.arange(n) / fps
    if jitter_ms <= 0:
        return t
    rng = np.random.default_rng(20_000 + seed)
    j = rng.uniform(-1, 1, n) * jitter_ms / 1000.0
    j = np.clip(j, -0.45 / fps, 0.45 / fps)  # keeps the order
    j[0] = 0.0
    return np.round((t + j) * timebase) / timebase
