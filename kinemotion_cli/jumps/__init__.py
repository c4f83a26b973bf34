"""One analysis pipeline for every jump type: signals -> flight -> type -> events/metrics.

Each jump type lives in its own small module (``cmj``, ``drop_jump``, ``squat_jump``) that
adds its own events and metrics to the shared flight measurement.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.jumps import cmj, drop_jump, squat_jump
from kinemotion_cli.jumps.common import (
    Context,
    Flight,
    G,
    Measure,
    Signals,
    compute_signals,
    find_flights,
    floor_level,
    hip_height,
    index_at,
    scale_from_flight,
    scale_from_stature,
)

JUMP_CHOICES = ("auto", "cmj", "dj", "sj")
TYPE_NAMES = {"cmj": "cmj", "dj": "drop_jump", "sj": "squat_jump"}
SJ_MIN_HOLD_S = 0.35


@dataclass
class JumpResult:
    """Everything measured about one jump."""

    jump_type: str
    events: dict[str, Measure]
    metrics: dict[str, Measure]
    scale: dict
    warnings: list[str] = field(default_factory=list)
    signals: Signals | None = None
    flight: Flight | None = None
    hip_h: np.ndarray | None = None


def _check_visible(s: Signals, fl: Flight) -> None:
    """The feet must be tracked around takeoff and landing."""
    for name, time in (("takeoff", fl.takeoff), ("landing", fl.landing)):
        i = index_at(s.t, time)
        lo, hi = max(i - 2, 0), min(i + 2, len(s.t))
        if hi <= lo or not np.isfinite(s.foot_y[lo:hi]).all():
            raise KmoError(
                f"the athlete's feet are not tracked at {name} ({time:.3f} s), e.g. out of "
                "frame; film the whole body with some margin.",
                ExitCode.NOT_MEASURABLE,
            )


def _check_before_takeoff(s: Signals, fl: Flight, hip_h: np.ndarray, hip_v: np.ndarray) -> None:
    """The video must show the athlete (hips tracked) for a few frames before takeoff."""
    i_to = index_at(s.t, fl.takeoff)
    lo = max(index_at(s.t, fl.takeoff - 3.0), 1)
    if i_to - lo < 3:
        raise KmoError(
            f"the video starts too late: takeoff at {fl.takeoff:.3f} s leaves no time before "
            "the jump; film at least 1 s of standing before the jump.",
            ExitCode.NO_JUMP,
        )
    seg = slice(lo, i_to)
    if (np.isfinite(hip_h[seg]) & np.isfinite(hip_v[seg])).sum() < 3:
        raise KmoError(
            "the athlete's hips are not tracked before takeoff; film the whole body.",
            ExitCode.NOT_MEASURABLE,
        )


RATIOS = {
    "rsi_modified": ("jump_height_m", "time_to_takeoff_s"),
    "rsi_height_over_contact": ("jump_height_m", "ground_contact_time_s"),
    "rsi_flight_over_contact": ("flight_time_s", "ground_contact_time_s"),
}


def _ratio_uncertainties(metrics: dict[str, Measure]) -> None:
    """Fill in ratio metrics' (RSI) uncertainty from their terms; drop non-finite ones."""
    for key, (num, den) in RATIOS.items():
        m, n, d = metrics.get(key), metrics.get(num), metrics.get(den)
        if m is None or m.uncertainty is not None or n is None or d is None:
            continue
        if not (np.isfinite(m.value) and n.value and d.value) or None in (
            n.uncertainty,
            d.uncertainty,
        ):
            continue
        rel = float(np.hypot(n.uncertainty / n.value, d.uncertainty / d.value))
        m.uncertainty = abs(m.value) * rel if np.isfinite(rel) else None
    for m in metrics.values():  # no number, no uncertainty (both print as null)
        if m.uncertainty is not None and not (np.isfinite(m.value) and np.isfinite(m.uncertainty)):
            m.uncertainty = None


def analyze(*args, **kwargs) -> JumpResult:
    """Find the jump in a landmark series and measure it (see :func:`_analyze`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices are handled
        return _analyze(*args, **kwargs)


def _analyze(
    t: np.ndarray,
    landmarks: np.ndarray,
    fps: float,
    jump: str = "auto",
    stature_m: float | None = None,
) -> JumpResult:
    """Find the jump in a landmark series and measure it."""
    if jump not in JUMP_CHOICES:
        raise KmoError(f"--jump must be one of {', '.join(JUMP_CHOICES)}.")
    t = np.asarray(t, dtype=np.float64)
    if len(t) < max(10, int(0.5 * fps)):
        raise KmoError(
            f"the video is too short ({len(t)} frames) to contain a jump; film at least "
            "1 s before and after the jump.",
            ExitCode.NO_JUMP,
        )
    s = compute_signals(t, landmarks, fps)
    floor = floor_level(s)
    flights, elevated = find_flights(s, floor)
    if not flights:
        raise KmoError(
            "no jump found: the feet never leave the floor on a flight path; check the video "
            "shows a complete jump (takeoff and landing in view).",
            ExitCode.NO_JUMP,
        )
    warnings: list[str] = []
    fl = max(flights, key=lambda f: f.duration)
    if len(flights) > 1:
        warnings.append(
            f"{len(flights)} flights found; measured the longest (takeoff {fl.takeoff:.3f} s)"
        )
    _check_visible(s, fl)

    if stature_m is not None:
        ppm, ppm_sd = scale_from_stature(s, stature_m)
        scale_method = f"scale from stature {stature_m:g} m"
    else:
        got = scale_from_flight(s, fl)
        if got is None:
            ppm, ppm_sd = s.body_px / 1.75, 0.1 * s.body_px / 1.75
            scale_method = "scale assumed (1.75 m stature; pass --height)"
            warnings.append("distances use an assumed 1.75 m stature; pass --height for accuracy")
        else:
            ppm, ppm_sd = got
            scale_method = "scale from flight parabola (g)"

    # A drop jump starts on a box: an elevated resting phase ending in a fall onto the floor.
    drop = None
    before = [e for e in elevated if e[1] <= fl.i0 and s.t[fl.i0] - s.t[e[1] - 1] < 2.0]
    if before:
        drop = drop_jump.find_drop(s, before[-1], fl.floor_pre, ppm)

    breaks = [index_at(t, fl.takeoff), index_at(t, fl.landing)]
    if drop is not None:
        breaks.append(index_at(t, drop.contact))
    standing_until = index_at(t, drop.leave if drop else fl.takeoff - 0.5)
    hip_h, hip_v = hip_height(s, breaks, standing_until)
    _check_before_takeoff(s, fl, hip_h, hip_v)
    ctx = Context(s, fl, hip_h, hip_v, ppm, ppm_sd, scale_method, warnings)

    if drop is not None:
        detected = "drop_jump"
    else:
        detected = "squat_jump" if squat_jump.hold_duration(ctx) >= SJ_MIN_HOLD_S else "cmj"
    jump_type = detected if jump == "auto" else TYPE_NAMES[jump]
    if jump != "auto" and (jump_type == "drop_jump") != (detected == "drop_jump"):
        said = "a drop jump (from a box)" if detected == "drop_jump" else "no drop from a box"
        raise KmoError(
            f"--jump {jump} does not match the video: it shows {said}; "
            "use --jump auto or the right type.",
            ExitCode.JUMP_MISMATCH,
        )

    height = G * fl.duration**2 / 8
    t_sd = float(np.hypot(fl.takeoff_sigma, fl.landing_sigma))
    events = {
        "takeoff_s": Measure(fl.takeoff, "s", fl.takeoff_sigma, "foot parabola meets the floor"),
        "landing_s": Measure(fl.landing, "s", fl.landing_sigma, "foot parabola meets the floor"),
    }
    metrics = {
        "flight_time_s": Measure(fl.duration, "s", t_sd, "landing - takeoff"),
        "jump_height_m": Measure(
            height, "m", G * fl.duration / 4 * t_sd, "flight time: h = g t^2 / 8"
        ),
    }
    if jump_type == "drop_jump":
        ev, me = drop_jump.measure(ctx, height, drop)
    elif jump_type == "squat_jump":
        ev, me = squat_jump.measure(ctx, height)
    else:
        ev, me = cmj.measure(ctx, height)
    events = {**ev, **events}
    metrics.update(me)
    _ratio_uncertainties(metrics)
    scale = {"pixels_per_m": ppm, "uncertainty": ppm_sd, "method": scale_method}
    return JumpResult(jump_type, events, metrics, scale, warnings, s, fl, hip_h)
