"""Shared building blocks for every jump type: signals, flights, parabola fits, scale.

Conventions: image y grows downwards (pixels); heights are positive upwards; times are
seconds from the first frame. Events fall between frames: takeoff and landing are the roots
of a parabola fitted to the airborne feet, intersected with the floor level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from kinemotion_cli import signal as sig
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.landmarks import FOOT_POINTS, INDEX

G = 9.81  # m/s^2
ASSUMED_STATURE_M = 1.70  # only used to sanity-check a flight's curvature, never reported


@dataclass
class Measure:
    """A number with its unit, 1-sigma uncertainty and the method that produced it."""

    value: float
    unit: str
    uncertainty: float | None
    method: str


@dataclass
class Signals:
    """Per-frame signals of the jumper (pixels, image y down)."""

    t: np.ndarray
    fps: float
    foot_y: np.ndarray
    hip_y: np.ndarray
    head_y: np.ndarray
    body_px: float
    noise_px: float
    foot_source: str
    landmarks: np.ndarray


@dataclass
class Parabola:
    """y(t) = a (t - t0)^2 + b (t - t0) + c, with the parameter covariance and fit residual."""

    a: float
    b: float
    c: float
    t0: float
    cov: np.ndarray
    rms: float
    n: int

    def __call__(self, t: np.ndarray | float) -> np.ndarray | float:
        s = np.asarray(t) - self.t0
        return self.a * s * s + self.b * s + self.c

    def roots(self, level: float) -> tuple[float, float] | None:
        """Both times where y = level (early, late), or None."""
        disc = self.b * self.b - 4 * self.a * (self.c - level)
        if self.a == 0 or disc < 0:
            return None
        r = np.sqrt(disc)
        s1, s2 = sorted(((-self.b - r) / (2 * self.a), (-self.b + r) / (2 * self.a)))
        return self.t0 + s1, self.t0 + s2

    def vertex(self) -> float:
        """Time of the turning point."""
        return self.t0 - self.b / (2 * self.a)

    def time_sigma(self, t: float, level_sigma: float = 0.0) -> float:
        """1-sigma uncertainty of a root at time ``t`` (fit + level uncertainty)."""
        s = t - self.t0
        j = np.array([s * s, s, 1.0])
        var_y = float(j @ self.cov @ j) + level_sigma**2
        slope = abs(2 * self.a * s + self.b)
        return float(np.sqrt(var_y) / slope) if slope > 0 else float("inf")


@dataclass
class Flight:
    """One airborne phase (feet above the floor on a ballistic path)."""

    takeoff: float
    landing: float
    takeoff_sigma: float
    landing_sigma: float
    fit: Parabola
    i0: int
    i1: int
    floor_pre: float
    floor_post: float

    @property
    def duration(self) -> float:
        return self.landing - self.takeoff


@dataclass
class Context:
    """Everything a jump-type module needs."""

    s: Signals
    flight: Flight
    hip_h: np.ndarray  # hip height above its standing level (px, up positive), low-passed
    hip_v: np.ndarray  # its derivative (px/s)
    ppm: float
    ppm_sigma: float
    scale_method: str
    warnings: list[str] = field(default_factory=list)


def fit_parabola(t: np.ndarray, y: np.ndarray, a_fixed: float | None = None) -> Parabola | None:
    """Least-squares parabola (optionally with fixed curvature) through finite samples."""
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    need = 2 if a_fixed is not None else 3
    if len(t) < need:
        return None
    t0 = float(np.mean(t))
    s = t - t0
    if a_fixed is None:
        x = np.stack([s * s, s, np.ones_like(s)], axis=1)
        target = y
    else:
        x = np.stack([s, np.ones_like(s)], axis=1)
        target = y - a_fixed * s * s
    coef, *_ = np.linalg.lstsq(x, target, rcond=None)
    resid = target - x @ coef
    dof = len(t) - x.shape[1]
    rms = float(np.sqrt(np.sum(resid**2) / dof)) if dof > 0 else 0.0
    cov_small = np.linalg.pinv(x.T @ x) * max(rms, 0.25) ** 2
    if a_fixed is None:
        a, b, c = coef
        cov = cov_small
    else:
        a, (b, c) = a_fixed, coef
        cov = np.zeros((3, 3))
        cov[1:, 1:] = cov_small
    return Parabola(float(a), float(b), float(c), t0, cov, rms, int(len(t)))


def _aligned_mean(ys: np.ndarray) -> np.ndarray:
    """Mean of several point tracks after removing each one's median offset (NaN-aware)."""
    ref = np.nanmedian(ys, axis=1, keepdims=True) if ys.shape[1] else ys
    offsets = np.nanmedian(ys - ref, axis=0)
    offsets = np.where(np.isfinite(offsets), offsets, 0.0)
    out = np.nanmean(ys - offsets[None, :], axis=1) if ys.shape[1] else np.full(len(ys), np.nan)
    return out + np.nanmax(offsets) if np.isfinite(offsets).any() else out


def compute_signals(t: np.ndarray, landmarks: np.ndarray, fps: float) -> Signals:
    """Clean the landmarks and derive the foot, hip and head signals."""
    lm = sig.mask_low_confidence(landmarks)
    # All foot points: averaging them cancels much of the pose model's tendency to draw
    # airborne feet plantar-flexed (heels drawn higher, toes lower than a rigid translation).
    foot_idx = list(FOOT_POINTS)
    source = "heels, toes and ankles"
    heel_toe = [i for i in foot_idx if i not in (INDEX["left_ankle"], INDEX["right_ankle"])]
    if np.isfinite(lm[:, heel_toe, 1]).sum() < 0.3 * len(t) * len(heel_toe):
        foot_idx = [INDEX["left_ankle"], INDEX["right_ankle"]]
        source = "ankles (no heel/toe landmarks)"
    head = np.fmin(lm[:, INDEX["head"], 1], lm[:, INDEX["nose"], 1])
    raw_foot = np.nanmax(lm[:, foot_idx, 1], axis=1) if len(t) else np.array([])
    body = raw_foot - head
    body_px = float(np.nanmedian(body)) if np.isfinite(body).any() else float("nan")
    if not np.isfinite(body_px) or body_px <= 10:
        raise KmoError(
            "the athlete's feet and head are not visible; film the whole body, head to feet.",
            ExitCode.NOT_MEASURABLE,
        )
    cleaned = sig.clean_landmarks(landmarks, t, fps, outlier_floor_px=0.12 * body_px)
    foot_y = _aligned_mean(cleaned[:, foot_idx, 1])
    hip_y = cleaned[:, INDEX["hip"], 1]
    head_y = np.fmin(cleaned[:, INDEX["head"], 1], cleaned[:, INDEX["nose"], 1])
    noise = sig.noise_sigma(foot_y)
    if not np.isfinite(noise):
        noise = 1.0
    return Signals(t, fps, foot_y, hip_y, head_y, body_px, max(noise, 0.2), source, cleaned)


def stationary(y: np.ndarray, t: np.ndarray, body_px: float, fps: float) -> np.ndarray:
    """Frames where a signal moves slower than 0.15 body heights per second."""
    filled = sig.interpolate_gaps(y, t, max_gap_s=0.2)
    sm = median_filter(np.nan_to_num(filled, nan=0.0), size=max(3, int(0.05 * fps) | 1))
    v = np.abs(sig.derivative(np.where(np.isfinite(filled), sm, np.nan), t))
    return np.isfinite(v) & (v < 0.15 * body_px)


def _runs(mask: np.ndarray, bridge: int = 1) -> list[tuple[int, int]]:
    """Half-open runs of True, bridging gaps of up to ``bridge`` False samples."""
    m = mask.copy()
    idx = np.flatnonzero(m)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= bridge + 1:
            m[a:b] = True
    d = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def threshold_px(s: Signals) -> float:
    """Height above the floor that counts as airborne."""
    return max(6.0 * s.noise_px, 0.02 * s.body_px)


def floor_level(s: Signals) -> float:
    """The floor: the lowest level where the feet rest (90th percentile of resting frames)."""
    rest = stationary(s.foot_y, s.t, s.body_px, s.fps) & np.isfinite(s.foot_y)
    vals = s.foot_y[rest] if rest.sum() >= 3 else s.foot_y[np.isfinite(s.foot_y)]
    if vals.size == 0:
        raise KmoError(
            "the athlete's feet are not visible; film the whole body.", ExitCode.NOT_MEASURABLE
        )
    return float(np.percentile(vals, 90))


def _local_floor(s: Signals, lo: int, hi: int, default: float, thr: float) -> tuple[float, float]:
    """Median foot level (and its sigma) over resting frames in [lo, hi)."""
    lo, hi = max(lo, 0), min(hi, len(s.t))
    seg = s.foot_y[lo:hi]
    seg = seg[np.isfinite(seg) & (np.abs(seg - default) < thr)]
    if seg.size < 2:
        return default, s.noise_px
    return float(np.median(seg)), float(1.25 * s.noise_px / np.sqrt(seg.size))


def find_flights(s: Signals, floor: float) -> tuple[list[Flight], list[tuple[int, int]]]:
    """Ballistic airborne phases, and elevated phases that are not flights (e.g. a box)."""
    thr = threshold_px(s)
    up = np.isfinite(s.foot_y) & (s.foot_y < floor - thr)
    rest = stationary(s.foot_y, s.t, s.body_px, s.fps)
    ppm_guess = s.body_px / ASSUMED_STATURE_M
    win = int(round(0.4 * s.fps))
    flights, elevated = [], []
    for i0, i1 in _runs(up, bridge=2):
        if rest[i0 : min(i1, i0 + max(3, int(0.2 * s.fps)))].all():
            elevated.append((int(i0), int(i1)))  # starts standing on something: not a flight
            continue
        if i1 - i0 < 3 or i0 == 0 or i1 >= len(s.t):
            continue
        fl = _fit_flight(s, i0, i1, floor, thr, win)
        if fl is None:
            continue
        ratio = 2 * fl.fit.a / G / ppm_guess
        if 0.25 <= ratio <= 4.0 and fl.duration >= 0.08:
            flights.append(fl)
    return flights, elevated


def _fit_flight(s: Signals, i0: int, i1: int, floor: float, thr: float, win: int) -> Flight | None:
    t, y = s.t, s.foot_y
    fit = fit_parabola(t[i0:i1], y[i0:i1])
    if fit is None or fit.a <= 0 or not (t[i0] <= fit.vertex() <= t[i1 - 1]):
        return None
    f_pre, sd_pre = _local_floor(s, i0 - win, i0, floor, 2 * thr)
    f_post, sd_post = _local_floor(s, i1, i1 + win, floor, 2 * thr)
    for _ in range(2):  # refit with every frame strictly inside the flight
        r_pre, r_post = fit.roots(f_pre), fit.roots(f_post)
        if r_pre is None or r_post is None:
            return None
        to, ld = r_pre[0], r_post[1]
        margin = 0.5 / s.fps
        inside = (t > to + margin) & (t < ld - margin) & np.isfinite(y)
        if inside.sum() < 3:
            break
        new = fit_parabola(t[inside], y[inside])
        if new is None or new.a <= 0:
            break
        fit = new
    r_pre, r_post = fit.roots(f_pre), fit.roots(f_post)
    if r_pre is None or r_post is None:
        return None
    to, sd_to = _refine_root(s, fit, f_pre, sd_pre, (r_pre[0], fit.vertex()), early=True)
    ld, sd_ld = _refine_root(s, fit, f_post, sd_post, (fit.vertex(), r_post[1]), early=False)
    return Flight(to, ld, sd_to, sd_ld, fit, i0, i1, f_pre, f_post)


LOCAL_FIT_FRACTION = 0.7  # frames below this fraction of the apex height refine each root


def _refine_root(
    s: Signals,
    fit: Parabola,
    level: float,
    level_sd: float,
    span: tuple[float, float],
    early: bool,
) -> tuple[float, float]:
    """Re-estimate one root from the airborne frames nearest the floor on its side.

    The curvature stays that of the whole flight (it is g times the scale); only the offset
    and slope are refitted on the frames in the lower part of the flight, which carry the
    timing information and are least affected by how the pose model sees a body high in
    the air. Falls back to the whole-flight root when too few frames are available.
    """
    root = fit.roots(level)
    base = root[0] if early else root[1]
    apex_h = level - float(fit(fit.vertex()))
    t, y = s.t, s.foot_y
    lo, hi = span
    sel = (
        (t > lo + 0.5 / s.fps) & (t < hi) & np.isfinite(y)
        if early
        else ((t > lo) & (t < hi - 0.5 / s.fps) & np.isfinite(y))
    )
    sel &= level - y < LOCAL_FIT_FRACTION * apex_h
    if sel.sum() < 3:
        return base, fit.time_sigma(base, level_sd)
    local = fit_parabola(t[sel], y[sel], a_fixed=fit.a)
    r = local.roots(level) if local is not None else None
    if r is None:
        return base, fit.time_sigma(base, level_sd)
    new = r[0] if early else r[1]
    return new, local.time_sigma(new, level_sd)


def index_at(t: np.ndarray, time: float) -> int:
    """Index of the first frame at or after ``time``."""
    return int(np.searchsorted(t, time))


def scale_from_flight(s: Signals, fl: Flight) -> tuple[float, float] | None:
    """Pixels per metre from the hip's ballistic curvature in flight (a = ppm * g / 2)."""
    inside = (s.t > fl.takeoff + 0.5 / s.fps) & (s.t < fl.landing - 0.5 / s.fps)
    for y in (s.hip_y, s.foot_y):
        fit = fit_parabola(s.t[inside], y[inside])
        if fit is not None and fit.a > 0 and fit.n >= 4:
            return 2 * fit.a / G, 2 * float(np.sqrt(max(fit.cov[0, 0], 0.0))) / G
    return None


def scale_from_stature(s: Signals, stature_m: float) -> tuple[float, float]:
    """Pixels per metre from the athlete's stature and the standing head-to-floor distance."""
    rest = stationary(s.hip_y, s.t, s.body_px, s.fps)
    body = (s.foot_y - s.head_y)[rest]
    body = body[np.isfinite(body)]
    px = float(np.median(body)) if body.size else s.body_px
    return px / stature_m, 0.03 * px / stature_m  # head-top estimate: about 3 % uncertain


def hip_height(s: Signals, breaks: list[int], standing_until: int) -> tuple[np.ndarray, np.ndarray]:
    """Hip height above standing (px, up positive) and its velocity, filtered per segment."""
    y = sig.lowpass_segments(s.hip_y, s.fps, breaks, cutoff_hz=10.0)
    pre = y[: max(standing_until, 1)]
    rest = stationary(s.hip_y, s.t, s.body_px, s.fps)[: len(pre)]
    vals = pre[rest & np.isfinite(pre)] if (rest & np.isfinite(pre)).sum() >= 3 else pre
    level = float(np.nanmedian(vals)) if np.isfinite(vals).any() else float(np.nanmedian(y))
    h = level - y
    return h, sig.derivative(h, s.t)


def onset_before(v: np.ndarray, t: np.ndarray, i_peak: int, lo: int, frac: float = 0.08) -> float:
    """Sub-frame time, going back from a velocity peak, where |v| falls below ``frac`` of it."""
    peak = abs(v[i_peak])
    i = i_peak
    while i > lo and np.isfinite(v[i - 1]) and abs(v[i - 1]) >= frac * peak:
        i -= 1
    if i <= lo or not np.isfinite(v[i - 1]):
        return float(t[i])
    a, b = abs(v[i - 1]), abs(v[i])
    w = (frac * peak - a) / (b - a) if b != a else 0.0
    return float(t[i - 1] + w * (t[i] - t[i - 1]))


def vertex_time(t: np.ndarray, y: np.ndarray, i: int, half: int = 2) -> float:
    """Sub-frame time of an extremum near index ``i`` (parabola through its neighbours)."""
    lo, hi = max(i - half, 0), min(i + half + 1, len(t))
    fit = fit_parabola(t[lo:hi], y[lo:hi])
    if fit is None or fit.a == 0:
        return float(t[i])
    v = fit.vertex()
    return float(v) if t[lo] <= v <= t[hi - 1] else float(t[i])


def interp_at(t: np.ndarray, y: np.ndarray, time: float) -> float:
    """Linear interpolation of ``y`` at ``time`` (NaN-aware)."""
    ok = np.isfinite(y)
    return float(np.interp(time, t[ok], y[ok])) if ok.any() else float("nan")
