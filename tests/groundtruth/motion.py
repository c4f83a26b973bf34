"""Analytic jump kinematics: feet height z(t), leg crouch c(t), sideways shift x(t).

All lengths in metres, up positive. The hip displacement is h(t) = z(t) + c(t): c(t) <= 0
is the hip drop relative to the standing posture while the feet are on a support, and
c = 0 in the air (the body then moves rigidly with z).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

G = 9.81
SNAP_GRID = 240.0  # default takeoff times sit half way between 240 fps frames ...
SNAP_MOD = 8  # ... and at 2.5/240 s past a multiple of 1/30 s, so off-frame at 30/60/120/240 fps

# state: (z, vz, c, vc, x)
State = tuple[float, float, float, float, float]
Piece = Callable[[float], State]


def snap_time(t: float) -> float:
    """Smallest time >= t of the form (8k + 2.5)/240 s (never on a 30/60/120/240 fps frame)."""
    k = math.ceil((t * SNAP_GRID - 2.5) / SNAP_MOD)
    return (SNAP_MOD * k + 2.5) / SNAP_GRID


def _hermite(
    p0: float, m0: float, p1: float, m1: float, t0: float, dur: float
) -> Callable[[float], tuple]:
    def f(t: float) -> tuple[float, float]:
        s = (t - t0) / dur
        s2, s3 = s * s, s * s * s
        p = (
            (2 * s3 - 3 * s2 + 1) * p0
            + (s3 - 2 * s2 + s) * dur * m0
            + (-2 * s3 + 3 * s2) * p1
            + (s3 - s2) * dur * m1
        )
        dp = (
            (6 * s2 - 6 * s) * p0 / dur
            + (3 * s2 - 4 * s + 1) * m0
            + (-6 * s2 + 6 * s) * p1 / dur
            + (3 * s2 - 2 * s) * m1
        )
        return p, dp

    return f


def _cosine(p0: float, p1: float, t0: float, dur: float) -> Callable[[float], tuple]:
    def f(t: float) -> tuple[float, float]:
        s = (t - t0) / dur
        return p0 + (p1 - p0) * (1 - math.cos(math.pi * s)) / 2, (p1 - p0) * math.pi / (
            2 * dur
        ) * math.sin(math.pi * s)

    return f


@dataclass
class Motion:
    """Piecewise motion plus its exact events (s) and metrics."""

    jump: str
    pieces: list[tuple[float, Piece]] = field(default_factory=list)  # (start time, piece)
    events: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    end_s: float = 0.0  # end of the last movement (standing still afterwards)
    max_up_m: float = 0.0  # highest foot position (for framing)
    shift_m: float = 0.0  # total sideways shift (drop jump)

    def add(self, t0: float, piece: Piece) -> None:
        """Append a piece valid from t0 until the next piece starts."""
        self.pieces.append((t0, piece))

    def state(self, t: float) -> State:
        """(z, vz, c, vc, x) at time t."""
        cur = self.pieces[0][1]
        for t0, p in self.pieces:
            if t >= t0:
                cur = p
            else:
                break
        return cur(t)

    def hip_velocity(self, t: float) -> float:
        """Hip velocity dz/dt + dc/dt (m/s, up positive)."""
        s = self.state(t)
        return s[1] + s[3]


def _const(z: float, c: float = 0.0, x: float = 0.0) -> Piece:
    return lambda t: (z, 0.0, c, 0.0, x)


def _crouch(f: Callable[[float], tuple], z: float = 0.0, x: float = 0.0) -> Piece:
    def p(t: float) -> State:
        c, vc = f(t)
        return (z, 0.0, c, vc, x)

    return p


def _flight(t0: float, z0: float, v0: float, x: float = 0.0) -> Piece:
    def p(t: float) -> State:
        tau = t - t0
        return (z0 + v0 * tau - G * tau * tau / 2, v0 - G * tau, 0.0, 0.0, x)

    return p


def _peak(m: Motion, t0: float, t1: float, fn: Callable[[float], float], n: int = 4001) -> float:
    vals = [m.hip_velocity(t0 + (t1 - t0) * i / (n - 1) * (1 - 1e-12)) for i in range(n)]
    return fn(vals)


def _flight_and_landing(
    m: Motion, t_to: float, v0: float, flight: float, d_land: float, x: float
) -> None:
    t_ld = t_to + flight
    m.add(t_to, _flight(t_to, 0.0, v0, x))
    dur1 = 2 * d_land / v0
    m.add(t_ld, _crouch(_hermite(0.0, -v0, -d_land, 0.0, t_ld, dur1), x=x))
    rec = 0.6
    m.add(t_ld + dur1, _crouch(_cosine(-d_land, 0.0, t_ld + dur1, rec), x=x))
    m.add(t_ld + dur1 + rec, _const(0.0, x=x))
    m.end_s = t_ld + dur1 + rec
    m.events["takeoff_s"] = t_to
    m.events["landing_s"] = t_ld
    m.metrics["flight_time_s"] = flight
    m.metrics["jump_height_m"] = G * flight * flight / 8
    m.max_up_m = max(m.max_up_m, G * flight * flight / 8)


def build_motion(
    jump: str,
    flight_time: float = 0.5,
    depth: float | None = None,
    box: float = 0.3,
    takeoff_s: float | None = None,
    eccentric_s: float = 0.5,
    landing_depth: float = 0.2,
    standing_s: float = 1.0,
    shift_m: float = 0.0,
) -> Motion:
    """Build the motion for jump in {"cmj", "drop_jump", "squat_jump", "none"}."""
    m = Motion(jump)
    v0 = G * flight_time / 2
    if jump == "cmj":
        d = 0.25 if depth is None else depth
        tc, te = 2 * d / v0, eccentric_s
        t_to = snap_time(standing_s + te + tc) if takeoff_s is None else takeoff_s
        t_low, t_ms = t_to - tc, t_to - tc - te
        m.add(0.0, _const(0.0))
        m.add(t_ms, _crouch(_cosine(0.0, -d, t_ms, te)))
        m.add(t_low, _crouch(_hermite(-d, 0.0, 0.0, v0, t_low, tc)))
        _flight_and_landing(m, t_to, v0, flight_time, landing_depth, 0.0)
        m.events.update(movement_start_s=t_ms, lowest_point_s=t_low)
        m.metrics.update(
            countermovement_depth_m=d,
            eccentric_duration_s=te,
            concentric_duration_s=tc,
            time_to_takeoff_s=t_to - t_ms,
            rsi_modified=m.metrics["jump_height_m"] / (t_to - t_ms),
            peak_eccentric_velocity_m_s=_peak(m, t_ms, t_low, min),
            peak_concentric_velocity_m_s=_peak(m, t_low, t_to, max),
        )
    elif jump == "drop_jump":
        d = 0.15 if depth is None else depth
        v_imp = math.sqrt(2 * G * box)
        t_fall = math.sqrt(2 * box / G)
        te, tc = 2 * d / v_imp, 2 * d / v0
        pre = t_fall + te + tc
        t_to = snap_time(standing_s + pre) if takeoff_s is None else takeoff_s
        t_low, t_c = t_to - tc, t_to - tc - te
        t_off = t_c - t_fall

        def fall(t: float) -> State:
            tau = t - t_off
            return (box - G * tau * tau / 2, -G * tau, 0.0, 0.0, -shift_m + shift_m * tau / t_fall)

        m.add(0.0, _const(box, x=-shift_m))
        m.add(t_off, fall)
        m.add(t_c, _crouch(_hermite(0.0, -v_imp, -d, 0.0, t_c, te)))
        m.add(t_low, _crouch(_hermite(-d, 0.0, 0.0, v0, t_low, tc)))
        _flight_and_landing(m, t_to, v0, flight_time, landing_depth, 0.0)
        m.max_up_m = max(m.max_up_m, box)
        m.shift_m = shift_m
        gct = t_to - t_c
        m.events.update(box_leave_s=t_off, contact_start_s=t_c, lowest_point_s=t_low)
        m.metrics.update(
            drop_height_m=box,
            ground_contact_time_s=gct,
            rsi_height_over_contact=m.metrics["jump_height_m"] / gct,
            rsi_flight_over_contact=flight_time / gct,
            countermovement_depth_m=d,
            eccentric_duration_s=te,
            concentric_duration_s=tc,
            impact_velocity_m_s=-v_imp,
            peak_eccentric_velocity_m_s=_peak(m, t_c, t_low, min),
            peak_concentric_velocity_m_s=_peak(m, t_low, t_to, max),
        )
    elif jump == "squat_jump":
        d = 0.30 if depth is None else depth
        descent, hold, tc = 0.8, 1.0, 2 * d / v0
        pre = descent + hold + tc
        t_to = snap_time(standing_s + pre) if takeoff_s is None else takeoff_s
        t_po = t_to - tc
        t_ms = t_po - hold - descent
        m.add(0.0, _const(0.0))
        m.add(t_ms, _crouch(_cosine(0.0, -d, t_ms, descent)))
        m.add(t_ms + descent, _const(0.0, c=-d))
        m.add(t_po, _crouch(_hermite(-d, 0.0, 0.0, v0, t_po, tc)))
        _flight_and_landing(m, t_to, v0, flight_time, landing_depth, 0.0)
        m.events.update(movement_start_s=t_ms, push_off_start_s=t_po)
        m.metrics.update(
            squat_depth_m=d,
            concentric_duration_s=tc,
            peak_concentric_velocity_m_s=_peak(m, t_po, t_to, max),
        )
    elif jump == "none":
        d = 0.2 if depth is None else depth
        half = 0.9
        t_ms = snap_time(standing_s) if takeoff_s is None else takeoff_s
        m.add(0.0, _const(0.0))
        m.add(t_ms, _crouch(_cosine(0.0, -d, t_ms, half)))
        m.add(t_ms + half, _crouch(_cosine(-d, 0.0, t_ms + half, half)))
        m.add(t_ms + 2 * half, _const(0.0))
        m.end_s = t_ms + 2 * half
        m.events.update(movement_start_s=t_ms, lowest_point_s=t_ms + half)
        m.metrics.update(
            countermovement_depth_m=d,
            peak_eccentric_velocity_m_s=_peak(m, t_ms, t_ms + half, min),
        )
    else:
        raise ValueError(f"unknown jump type {jump!r}")
    if jump in ("cmj", "squat_jump") and min(m.events.values()) < 1.0 - 1e-9:
        raise ValueError("quiet standing before the movement must last >= 1.0 s")
    return m
