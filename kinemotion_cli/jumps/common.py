"""Shared building blocks of every jump type: measures, parabola fits, small time helpers.

Conventions: image y grows downwards (pixels); heights are positive upwards; times are
seconds from the first frame. Events fall between frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

G = 9.81  # m/s^2


@dataclass(frozen=True)
class Measure:
    """A number with its unit, 1-sigma uncertainty and the method that produced it.

    ``value`` is None when the quantity is not measurable in this video; ``method`` then says
    why.
    """

    value: float | None
    unit: str
    uncertainty: float | None
    method: str

    @property
    def ok(self) -> bool:
        """True when the value is a finite number."""
        return self.value is not None and bool(np.isfinite(self.value))


def missing(unit: str, why: str) -> Measure:
    """A quantity that could not be measured, with the reason."""
    return Measure(None, unit, None, why)


def faster_than_free_fall(v_px_s: float, drop_px: float, ppm: float, rel: float) -> bool:
    """Whether a body that stood still reaches the downward speed ``v_px_s`` after sinking
    only ``drop_px``: the floor can push but never pull, so nothing standing on it sinks
    faster than free fall, where v^2 = 2 g h. Allowed for: 2 px of landmark noise on the
    drop and twice the scale's relative uncertainty ``rel``."""
    v = abs(v_px_s) / ppm
    h = (max(drop_px, 0.0) + 2.0) / ppm
    return bool(v * v > 2.0 * G * h * (1.0 + 2.0 * rel))


def ratio(num: Measure, den: Measure, unit: str, method: str) -> Measure:
    """``num / den`` with the relative uncertainties of both terms combined."""
    if not (num.ok and den.ok) or den.value <= 0:
        return missing(unit, method + " (a term is not measured)")
    value = num.value / den.value
    sd = None
    if num.uncertainty is not None and den.uncertainty is not None and num.value:
        rel = float(np.hypot(num.uncertainty / num.value, den.uncertainty / den.value))
        sd = abs(value) * rel if np.isfinite(rel) else None
    return Measure(value, unit, sd, method)


@dataclass(frozen=True)
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

    def vertex(self) -> float:
        """Time of the turning point."""
        return self.t0 - self.b / (2 * self.a) if self.a else float("nan")


def fit_parabola(t: np.ndarray, y: np.ndarray, a_fixed: float | None = None) -> Parabola | None:
    """Least-squares parabola (optionally with fixed curvature) through finite samples."""
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
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


def index_at(t: np.ndarray, time: float) -> int:
    """Index of the first frame at or after ``time``."""
    return int(np.searchsorted(t, time))


def onset_before(
    v: np.ndarray,
    t: np.ndarray,
    i_peak: int,
    lo: int,
    frac: float = 0.08,
    away: np.ndarray | None = None,
) -> float:
    """Sub-frame time, going back from a velocity peak, where |v| falls below ``frac`` of it.

    ``away`` (per frame, optional): the body is clearly away from where the movement
    started; going back, a pause there (a pose model drawing a smooth descent in steps) is
    passed through, since the movement began before it."""
    peak = abs(v[i_peak])
    i = i_peak
    while (
        i > lo
        and np.isfinite(v[i - 1])
        and (abs(v[i - 1]) >= frac * peak or (away is not None and away[i - 1]))
    ):
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


def nan_arg(fn, x: np.ndarray, default: int) -> int:  # noqa: ANN001 - np.nanargmin/nanargmax
    """``fn`` (nanargmin/nanargmax) of ``x``, or ``default`` when ``x`` has no finite value."""
    return int(fn(x)) if np.isfinite(x).any() else default
