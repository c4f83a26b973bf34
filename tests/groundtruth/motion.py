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


# ---------------------------------------------------------------------------------------------
# Program: several jumps per clip plus the real-footage mechanisms (heel rise, toe-first
# landings, leg tuck, displaced landings, drift, steps). `build_motion` above stays the
# single-jump reference; `build_program` with one jump and no mechanism reproduces it exactly.
#
# Vertical state per piece: (z, vz, c, vc, x, e, ve) with z = ankle displacement (m, both
# feet; = the feet height of `build_motion`), c = hip - ankle change (<= 0: crouch or tuck),
# x = sideways shift of the drop-jump box start, e = plantarflexion: how far the ankle stands
# above its standing height over the lowest point of the foot (the toe tip) beyond the
# standing ankle-to-sole height p0 (p(t) = p0 + e). Hip displacement H = z + c, toe (lowest
# point) height = z - e. Overlay tracks add the sideways/depth position of the stance.
# ---------------------------------------------------------------------------------------------

REBOUND = "rebound"
# Arm swing of a countermovement jump (angles from hanging, forward-up positive): furthest
# back 60 % into the descent, highest at takeoff (a forward swing at up to ~14 rad/s),
# coming down in flight, hanging again after the landing.
ARM_BACK, ARM_TAKEOFF, ARM_LANDING = math.radians(-45), math.radians(160), math.radians(60)
ARM_BACK_SHARE = 0.6
ARM_RECOVER_S = 0.5
# Both arms are ~10 % of body mass, their centre of mass ~18 % of stature from the shoulder:
# in flight the centre of mass is ballistic, so arms coming down lift the rest of the body by
# ARM_SHARE * ARM_COM * (cos a - cos a_takeoff) (per metre of stature).
ARM_SHARE, ARM_COM = 0.10, 0.18
E_RISE_RELAX_S = 0.025  # after takeoff the plantarflexion rate falls from v0 to 0 in this time


@dataclass
class JumpDef:
    """One jump of a program (lengths m, times s)."""

    jump: str = "cmj"  # cmj | squat_jump | drop_jump | rebound | none
    flight_time: float = 0.5
    depth: float | None = None  # countermovement / squat / contact depth (rebound: from contact)
    box: float = 0.3  # drop jump only (first jump)
    eccentric_s: float = 0.5
    contact_s: float = 0.22  # rebound: ground contact time (rounded to 1/240 s)
    gap_s: float = 1.0  # quiet standing before a cmj / squat jump that follows a landing
    landing_shift_m: tuple[float, float] = (0.0, 0.0)  # (sideways, toward camera) in flight
    landing_depth: float = 0.2
    tuck_m: float = 0.0  # feet rise this much relative to the hip mid-flight
    takeoff_s: float | None = None  # first jump only: explicit takeoff time
    hold_s: float = 1.0  # squat jump: the squat is held this long before the push-off


@dataclass
class StepDef:
    """A small step during quiet standing: one foot lifts and moves in depth."""

    t: float  # start time (s, motion time)
    foot: str = "left"
    length_m: float = 0.10  # toward the camera (negative: away)
    lift_m: float = 0.05
    dur_s: float = 0.32


def _power_rise(e1: float, v1: float, t0: float, dur: float) -> Callable[[float], tuple]:
    """e = e1 s^n on [t0, t0 + dur], n = v1 dur / e1: e(0) = e'(0) = 0, e(1) = e1, e'(1) = v1."""
    n = v1 * dur / e1
    if n <= 1.0:
        raise ValueError("heel rise too slow for this takeoff velocity (make heel_rise_s longer)")

    def f(t: float) -> tuple[float, float]:
        s = min(max((t - t0) / dur, 0.0), 1.0)
        return e1 * s**n, n * e1 * s ** (n - 1) / dur

    return f


def _power_drop(e0: float, v0: float, t0: float, dur: float) -> Callable[[float], tuple]:
    """e = e0 (1 - s)^n: e(0) = e0, e'(0) = -v0 (the ankle keeps the body's speed), e(1) = 0."""
    n = v0 * dur / e0
    if n <= 1.0:
        raise ValueError("heel drop too slow for this landing velocity (make heel_drop_s longer)")

    def f(t: float) -> tuple[float, float]:
        s = min(max((t - t0) / dur, 0.0), 1.0)
        return e0 * (1 - s) ** n, -n * e0 * (1 - s) ** (n - 1) / dur

    return f


def _const7(z: float, c: float = 0.0, x: float = 0.0) -> Piece:
    return lambda t: (z, 0.0, c, 0.0, x, 0.0, 0.0)


def _ground7(f: Callable[[float], tuple], z: float = 0.0, x: float = 0.0, e_fn=None) -> Piece:
    """Feet on a support at height z; hip (relative to flat standing on it) from f."""
    if e_fn is None:

        def p(t: float) -> tuple:
            c, vc = f(t)
            return (z, 0.0, c, vc, x, 0.0, 0.0)

    else:

        def p(t: float) -> tuple:
            h, vh = f(t)
            e, ve = e_fn(t)  # toe planted: the ankle (and all above) rises by e
            return (z + e, ve, h - e, vh - ve, x, e, ve)

    return p


def _flight7(
    t0: float, z0: float, v0: float, x: float = 0.0, c_fn=None, e_fn=None, d_fn=None
) -> Piece:
    """Ballistic hip from H = z0 with v0; legs tucked by c_fn, plantarflexion e_fn; the whole
    body moved by d_fn off the ballistic path of the centre of mass (arm swing)."""

    def p(t: float) -> tuple:
        tau = t - t0
        z = z0 + v0 * tau - G * tau * tau / 2
        vz = v0 - G * tau
        c = vc = e = ve = 0.0
        if d_fn is not None:
            d, vd = d_fn(t)
            z, vz = z + d, vz + vd
        if c_fn is not None:
            c, vc = c_fn(t)
            z, vz = z - c, vz - vc
        if e_fn is not None:
            e, ve = e_fn(t)
        return (z, vz, c, vc, x, e, ve)

    return p


def _sin2_bump(amp: float, t0: float, dur: float) -> Callable[[float], tuple]:
    """amp sin^2(pi s) on [t0, t0 + dur], 0 outside (C1)."""

    def f(t: float) -> tuple[float, float]:
        s = (t - t0) / dur
        if s <= 0.0 or s >= 1.0:
            return 0.0, 0.0
        return amp * math.sin(math.pi * s) ** 2, amp * math.pi / dur * math.sin(2 * math.pi * s)

    return f


def _smooth_step(t: float, t0: float, t1: float) -> tuple[float, float]:
    """Cosine ramp 0 -> 1 on [t0, t1] (C1) and its derivative."""
    if t <= t0:
        return 0.0, 0.0
    if t >= t1:
        return 1.0, 0.0
    s = (t - t0) / (t1 - t0)
    return (1 - math.cos(math.pi * s)) / 2, math.pi / (2 * (t1 - t0)) * math.sin(math.pi * s)


def round240(t: float) -> float:
    """t rounded to a multiple of 1/240 s (keeps events on the off-grid half-step lattice)."""
    return round(t * SNAP_GRID) / SNAP_GRID


@dataclass
class Program(Motion):
    """A motion with several jumps and overlay tracks; `state` stays the 5-tuple of Motion."""

    jumps: list[dict] = field(default_factory=list)  # per jump: jump_type, events, metrics
    standing: list[tuple[float, float]] = field(default_factory=list)  # quiet-standing spans
    flights: list[tuple[float, float, float, float]] = field(default_factory=list)
    # (t_to, t_ld, dx, dz) per flight, plus drift ramps (t0, t1, dx, dz)
    drifts: list[tuple[float, float, float, float]] = field(default_factory=list)
    steps: list[StepDef] = field(default_factory=list)
    mechanisms: list[str] = field(default_factory=list)
    arms: list[tuple[float, float, float, float]] = field(default_factory=list)
    # arm swing: (t0, t1, angle0, angle1) cosine ramps of both arms' angle (rad; 0: hanging)

    def arm_angle(self, t: float) -> float:
        """Both arms' angle about the shoulders at t (rad): 0 hanging, pi overhead."""
        a = 0.0
        for t0, t1, a0, a1 in self.arms:
            if t >= t0:
                a = a1 if t >= t1 else _cosine(a0, a1, t0, t1 - t0)(t)[0]
        return a

    def full(self, t: float) -> tuple:
        """(z, vz, c, vc, x, e, ve) of the vertical pieces (x: drop-jump box shift only)."""
        cur = self.pieces[0][1]
        for t0, p in self.pieces:
            if t >= t0:
                cur = p
            else:
                break
        return cur(t)

    def state(self, t: float) -> State:
        z, vz, c, vc, x = self.full(t)[:5]
        return (z, vz, c, vc, x + self.stance(t)[0])

    def stance(self, t: float) -> tuple[float, float]:
        """(sideways, toward-camera) position of the stance (m): landing shifts, drift, steps."""
        dx = dz = 0.0
        for t_to, t_ld, sx, sz in self.flights:
            if t >= t_ld:
                dx, dz = dx + sx, dz + sz
            elif t > t_to:
                f = (t - t_to) / (t_ld - t_to)
                dx, dz = dx + sx * f, dz + sz * f
        for t0, t1, sx, sz in self.drifts:
            f = _smooth_step(t, t0, t1)[0]
            dx, dz = dx + sx * f, dz + sz * f
        for st in self.steps:
            dz += st.length_m / 2 * _smooth_step(t, st.t, st.t + st.dur_s)[0]
        return dx, dz

    def feet(self, t: float) -> tuple[tuple[float, float], tuple[float, float]]:
        """Per foot (left, right): (extra lift m, depth offset m from the stance) of steps."""
        out = [[0.0, 0.0], [0.0, 0.0]]
        for st in self.steps:
            k = 0 if st.foot == "left" else 1
            out[k][0] += _sin2_bump(st.lift_m, st.t, st.dur_s)(t)[0]
            f = _smooth_step(t, st.t, st.t + st.dur_s)[0]
            out[k][1] += st.length_m * f - st.length_m / 2 * f  # foot moves L, stance L/2
            out[1 - k][1] -= st.length_m / 2 * f
        return (out[0][0], out[0][1]), (out[1][0], out[1][1])

    def hip(self, t: float) -> tuple[float, float]:
        """Hip displacement (m, up positive, relative to standing on the floor) and velocity."""
        z, vz, c, vc = self.full(t)[:4]
        return z + c, vz + vc

    def toe(self, t: float) -> float:
        """Height of the lowest contact point (toe tip) of both feet (no steps) above the floor."""
        s = self.full(t)
        return s[0] - s[5]


def _pre_takeoff(
    m: Program, jd: JumpDef, t_to: float, v0: float, e_to: float, hr_win
) -> tuple[float, dict, dict]:
    """Add the pieces before takeoff of a standing jump; return (start, events, metrics)."""
    ev: dict[str, float] = {}
    me: dict[str, float] = {}
    if jd.jump == "cmj":
        d = 0.25 if jd.depth is None else jd.depth
        tc, te = 2 * (d + e_to) / v0, jd.eccentric_s
        t_low, t_ms = t_to - tc, t_to - tc - te
        m.add(t_ms, _ground7(_cosine(0.0, -d, t_ms, te)))
        conc = _hermite(-d, 0.0, e_to, v0, t_low, tc)
        _split_ground(m, t_low, t_to, conc, hr_win)
        ev.update(movement_start_s=t_ms, lowest_point_s=t_low)
        me.update(
            countermovement_depth_m=d,
            eccentric_duration_s=te,
            concentric_duration_s=tc,
            time_to_takeoff_s=t_to - t_ms,
        )
        return t_ms, ev, me
    if jd.jump == "squat_jump":
        d = 0.30 if jd.depth is None else jd.depth
        descent, hold, tc = 0.8, jd.hold_s, 2 * (d + e_to) / v0
        t_po = t_to - tc
        t_ms = t_po - hold - descent
        m.add(t_ms, _ground7(_cosine(0.0, -d, t_ms, descent)))
        m.add(t_ms + descent, _const7(0.0, c=-d))
        _split_ground(m, t_po, t_to, _hermite(-d, 0.0, e_to, v0, t_po, tc), hr_win)
        ev.update(movement_start_s=t_ms, push_off_start_s=t_po)
        me.update(squat_depth_m=d, concentric_duration_s=tc)
        return t_ms, ev, me
    raise ValueError(f"{jd.jump!r} cannot follow a landing (use cmj, squat_jump or rebound)")


def _split_ground(m: Program, ta: float, tb: float, f, wins, z: float = 0.0, x: float = 0.0):
    """Ground pieces on [ta, tb) with hip f; plantarflexion windows [(t0, t1, e_fn)] inside."""
    cuts = {ta, tb}
    for w0, w1, _ in wins:
        cuts |= {min(max(w0, ta), tb), min(max(w1, ta), tb)}
    cuts_l = sorted(cuts)
    for a, b in zip(cuts_l, cuts_l[1:]):
        if b <= a:
            continue
        fn = next((fn for w0, w1, fn in wins if w0 <= a and b <= w1), None)
        m.add(a, _ground7(f, z, x, fn))


def build_program(
    jumps: list[JumpDef],
    standing_s: float = 1.0,
    heel_rise_s: float = 0.0,
    heel_rise_m: float = 0.05,
    heel_drop_s: float | None = None,
    shift_m: float = 0.0,
    drift_m: tuple[float, float] = (0.0, 0.0),
    steps: list[StepDef] | tuple = (),
    end_standing_s: float = 0.7,
    arm_swing_m: float = 0.0,
) -> Program:
    """Build a program of jumps (the first may be cmj/squat_jump/drop_jump/none).

    ``arm_swing_m`` > 0: countermovement jumps swing the arms (``Program.arms``), and in
    their flight the body rides this far (m, per unit of cos of the arm angle) off the centre
    of mass's parabola (``_arm_flight``)."""
    if not jumps:
        raise ValueError("need at least one jump")
    first = jumps[0]
    m = Program(first.jump)
    heel = heel_rise_s > 0
    e_to = heel_rise_m if heel else 0.0
    e_ld = e_to
    hd = (heel_rise_s if heel_drop_s is None else heel_drop_s) if heel else 0.0
    mech: list[str] = []
    if heel:
        mech.append("heel_rise")
    up = 0.0
    prev: dict | None = None  # previous jump's landing (t_ld, v_land)
    cursor = 0.0  # end of the last recovery (quiet standing from here)
    for k, jd in enumerate(jumps):
        is_last = k == len(jumps) - 1
        next_rebound = not is_last and jumps[k + 1].jump == REBOUND
        T = jd.flight_time
        v0 = G * T / 2
        ev: dict[str, float] = {}
        me: dict[str, float] = {}
        if jd.tuck_m:
            mech.append("leg_tuck") if "leg_tuck" not in mech else None
        if any(jd.landing_shift_m):
            mech.append("landing_shift") if "landing_shift" not in mech else None
        if jd.jump == "none":
            if len(jumps) != 1:
                raise ValueError("'none' is a whole clip")
            d = 0.2 if jd.depth is None else jd.depth
            half = 0.9
            t_ms = snap_time(standing_s) if jd.takeoff_s is None else jd.takeoff_s
            m.add(0.0, _const7(0.0))
            m.add(t_ms, _ground7(_cosine(0.0, -d, t_ms, half)))
            m.add(t_ms + half, _ground7(_cosine(-d, 0.0, t_ms + half, half)))
            m.add(t_ms + 2 * half, _const7(0.0))
            m.end_s = t_ms + 2 * half
            m.standing = [(0.0, t_ms), (m.end_s, m.end_s + end_standing_s)]
            ev.update(movement_start_s=t_ms, lowest_point_s=t_ms + half)
            me.update(
                countermovement_depth_m=d,
                peak_eccentric_velocity_m_s=_peak(m, t_ms, t_ms + half, min),
            )
            m.events, m.metrics = ev, me
            m.jumps.append({"jump_type": "none", "events": ev, "metrics": me})
            break
        # windows of plantarflexion on the ground before this takeoff
        if jd.jump == REBOUND:
            if prev is None:
                raise ValueError("a rebound needs a jump before it")
            t_c, v_imp = prev["t_ld"], prev["v_land"]
            t_to = t_c + round240(jd.contact_s)
            gct = t_to - t_c
            hd_k, hr_k = hd, heel_rise_s
            if heel and hd_k + hr_k > 0.9 * gct:
                f = 0.9 * gct / (hd_k + hr_k)
                hd_k, hr_k = hd_k * f, hr_k * f
            d = (gct - 2 * e_ld / v_imp - 2 * e_to / v0) / (2 / v_imp + 2 / v0)
            if d < 0.02:
                raise ValueError(f"rebound contact {gct:.3f} s too short for this landing")
            te, tc = 2 * (d + e_ld) / v_imp, 2 * (d + e_to) / v0
            t_low = t_c + te
            wins = []
            if heel:
                wins = [
                    (t_c, t_c + hd_k, _power_drop(e_ld, v_imp, t_c, hd_k)),
                    (t_to - hr_k, t_to, _power_rise(e_to, v0, t_to - hr_k, hr_k)),
                ]
            _split_ground(m, t_c, t_low, _hermite(e_ld, -v_imp, -d, 0.0, t_c, te), wins)
            _split_ground(m, t_low, t_to, _hermite(-d, 0.0, e_to, v0, t_low, tc), wins)
            ev.update(contact_start_s=t_c, lowest_point_s=t_low)
            me.update(ground_contact_time_s=gct)
            start = t_c
        else:
            hr_win = []
            if k == 0 and jd.jump == "drop_jump":
                d = 0.15 if jd.depth is None else jd.depth
                v_imp = math.sqrt(2 * G * (jd.box - e_ld))
                t_fall = math.sqrt(2 * (jd.box - e_ld) / G)
                te, tc = 2 * (d + e_ld) / v_imp, 2 * (d + e_to) / v0
                pre = t_fall + te + tc
                t_to = snap_time(standing_s + pre) if jd.takeoff_s is None else jd.takeoff_s
                t_low, t_c = t_to - tc, t_to - tc - te
                t_off = t_c - t_fall
                box, sh = jd.box, shift_m

                def fall(t: float, t_off=t_off, box=box, sh=sh, t_fall=t_fall) -> tuple:
                    tau = t - t_off
                    return (box - G * tau * tau / 2, -G * tau, 0.0, 0.0,
                            -sh + sh * tau / t_fall, 0.0, 0.0)  # fmt: skip

                m.add(0.0, _const7(box, x=-shift_m))
                if heel:  # the foot points during the second half of the fall (toe first)
                    e_fall = _cosine(0.0, e_ld, t_off + t_fall / 2, t_fall / 2)

                    def fall_e(t: float, fall=fall, e_fall=e_fall, t_mid=t_off + t_fall / 2):
                        s = fall(t)
                        e, ve = e_fall(t) if t >= t_mid else (0.0, 0.0)
                        return (*s[:5], e, ve)

                    m.add(t_off, fall_e)
                else:
                    m.add(t_off, fall)
                wins = []
                if heel:
                    wins = [
                        (t_c, t_c + hd, _power_drop(e_ld, v_imp, t_c, hd)),
                        (t_to - heel_rise_s, t_to, _power_rise(e_to, v0, t_to - heel_rise_s,
                                                               heel_rise_s)),
                    ]  # fmt: skip
                _split_ground(m, t_c, t_low, _hermite(e_ld, -v_imp, -d, 0.0, t_c, te), wins)
                _split_ground(m, t_low, t_to, _hermite(-d, 0.0, e_to, v0, t_low, tc), wins)
                up = max(up, jd.box)
                m.shift_m = shift_m
                ev.update(box_leave_s=t_off, contact_start_s=t_c, lowest_point_s=t_low)
                me.update(
                    drop_height_m=jd.box,
                    ground_contact_time_s=t_to - t_c,
                    countermovement_depth_m=d,
                    eccentric_duration_s=te,
                    concentric_duration_s=tc,
                    impact_velocity_m_s=-v_imp,
                )
                start = t_off
                m.standing.append((0.0, t_off))
            else:
                if jd.jump not in ("cmj", "squat_jump"):
                    raise ValueError(f"unknown or misplaced jump type {jd.jump!r}")
                d = jd.depth if jd.depth is not None else (0.25 if jd.jump == "cmj" else 0.30)
                if jd.jump == "cmj":
                    pre = jd.eccentric_s + 2 * (d + e_to) / v0
                else:
                    pre = 0.8 + jd.hold_s + 2 * (d + e_to) / v0
                if k == 0:
                    base = standing_s
                    t_to = snap_time(base + pre) if jd.takeoff_s is None else jd.takeoff_s
                    m.add(0.0, _const7(0.0))
                else:
                    t_to = snap_time(cursor + jd.gap_s + pre)
                if heel:
                    hr_win = [(t_to - heel_rise_s, t_to,
                               _power_rise(e_to, v0, t_to - heel_rise_s, heel_rise_s))]  # fmt: skip
                start, ev2, me2 = _pre_takeoff(m, jd, t_to, v0, e_to, hr_win)
                ev.update(ev2)
                me.update(me2)
                m.standing.append((cursor, start))
        # flight
        t_ld = t_to + T
        v_land = v0  # symmetric flight: toe leaves and lands with the same plantarflexion
        d_fn = None
        if arm_swing_m > 0 and jd.jump == "cmj":
            mech.append("arm_swing") if "arm_swing" not in mech else None
            T, d_fn = _arm_flight(t_to, T, v0, arm_swing_m)  # the feet's flight time
            t_ld = t_to + T
            v_land = G * T - v0  # the offset is flat at landing: the parabola's speed
            t_ms, t_low = ev["movement_start_s"], ev["lowest_point_s"]
            t_back = t_ms + ARM_BACK_SHARE * (t_low - t_ms)
            m.arms += [
                (t_ms, t_back, 0.0, ARM_BACK),
                (t_back, t_to, ARM_BACK, ARM_TAKEOFF),
                (t_to, t_ld, ARM_TAKEOFF, ARM_LANDING),
                (t_ld, t_ld + ARM_RECOVER_S, ARM_LANDING, 0.0),
            ]
            up = max(up, e_to + G * T * T / 8 + 2 * arm_swing_m)
        c_fn = None
        if jd.tuck_m:
            a = 0.15 * T
            c_fn = _neg(_sin2_bump(jd.tuck_m, t_to + a, T - 2 * a))
        e_fn = None
        if heel:
            e_fn = _flight_plantar(t_to, t_ld, v0, e_to, e_ld)
        m.add(t_to, _flight7(t_to, e_to, v0, 0.0, c_fn, e_fn, d_fn))
        if any(jd.landing_shift_m):
            m.flights.append((t_to, t_ld, jd.landing_shift_m[0], jd.landing_shift_m[1]))
        ev.update(takeoff_s=t_to, landing_s=t_ld)
        me["flight_time_s"] = T
        me["jump_height_m"] = G * T * T / 8
        up = max(up, e_to + G * T * T / 8)
        if not next_rebound:
            dl = jd.landing_depth
            dur1 = 2 * (dl + e_ld) / v_land
            wins = [(t_ld, t_ld + hd, _power_drop(e_ld, v_land, t_ld, hd))] if heel else []
            _split_ground(m, t_ld, t_ld + dur1, _hermite(e_ld, -v_land, -dl, 0.0, t_ld, dur1),
                          wins)  # fmt: skip
            rec = 0.6
            m.add(t_ld + dur1, _ground7(_cosine(-dl, 0.0, t_ld + dur1, rec)))
            m.add(t_ld + dur1 + rec, _const7(0.0))
            cursor = m.end_s = t_ld + dur1 + rec
        # metrics that need the whole jump
        jt = jd.jump
        if jt == "cmj":
            me["rsi_modified"] = me["jump_height_m"] / me["time_to_takeoff_s"]
            me["peak_eccentric_velocity_m_s"] = _peak_h(m, ev["movement_start_s"],
                                                        ev["lowest_point_s"], min)  # fmt: skip
            me["peak_concentric_velocity_m_s"] = _peak_h(m, ev["lowest_point_s"], t_to, max)
        elif jt == "squat_jump":
            me["peak_concentric_velocity_m_s"] = _peak_h(m, ev["push_off_start_s"], t_to, max)
        elif jt in ("drop_jump", REBOUND):
            gct = me["ground_contact_time_s"]
            me["rsi_height_over_contact"] = me["jump_height_m"] / gct
            me["rsi_flight_over_contact"] = T / gct
            if jt == "drop_jump":
                me["peak_eccentric_velocity_m_s"] = _peak_h(m, ev["contact_start_s"],
                                                            ev["lowest_point_s"], min)  # fmt: skip
                me["peak_concentric_velocity_m_s"] = _peak_h(m, ev["lowest_point_s"], t_to, max)
        ev = dict(sorted(ev.items(), key=lambda kv: kv[1]))
        m.jumps.append({"jump_type": jt, "events": ev, "metrics": me, "start_s": start})
        prev = {"t_ld": t_ld, "v_land": v_land}
    m.events, m.metrics = m.jumps[0]["events"], m.jumps[0]["metrics"]
    m.max_up_m = up
    if first.jump != "none":
        m.standing.append((m.end_s, m.end_s + end_standing_s))
        if (
            first.jump in ("cmj", "squat_jump")
            and min(m.events.values()) < 1.0 - 1e-9
            and first.takeoff_s is None
        ):
            raise ValueError("quiet standing before the movement must last >= 1.0 s")
    # drift: spread over the quiet-standing spans, each a C1 ramp inside the span
    if any(drift_m):
        mech.append("drift")
        spans = [(a + 0.1, b - 0.1) for a, b in m.standing if b - a > 0.4]
        total = sum(b - a for a, b in spans)
        for a, b in spans:
            f = (b - a) / total
            m.drifts.append((a, b, drift_m[0] * f, drift_m[1] * f))
    if steps:
        mech.append("steps")
        for st in steps:
            ok = any(a + 0.05 <= st.t and st.t + st.dur_s <= b - 0.05 for a, b in m.standing)
            if not ok:
                raise ValueError(f"step at {st.t} s is not inside a quiet-standing span")
            if st.foot not in ("left", "right"):
                raise ValueError("step foot must be 'left' or 'right'")
        m.steps = list(steps)
    if len(jumps) > 1:
        mech.append("multi_jump")
    if any(j.jump == REBOUND for j in jumps):
        mech.append("rebound")
    m.mechanisms = mech
    return m


def _arm_flight(t_to: float, T: float, v0: float, kappa: float) -> tuple[float, Callable]:
    """The feet's flight time with arm swing, and the body's offset off the centre of mass's
    parabola: kappa (cos a(t) - cos a_takeoff), the arms easing from ARM_TAKEOFF down to
    ARM_LANDING over the flight (offset and its rate 0 at takeoff). The flight ends where
    the offset parabola returns to the takeoff level (a fixed point: the ramp spans it)."""
    t_ld = t_to + T
    for _ in range(50):
        ramp = _cosine(ARM_TAKEOFF, ARM_LANDING, t_to, t_ld - t_to)

        def d_fn(t: float, ramp=ramp, t_ld=t_ld) -> tuple[float, float]:
            if t >= t_ld:
                return kappa * (math.cos(ARM_LANDING) - math.cos(ARM_TAKEOFF)), 0.0
            a, va = ramp(t)
            return kappa * (math.cos(a) - math.cos(ARM_TAKEOFF)), -kappa * math.sin(a) * va

        lo, hi = 0.5 * T, 1.5 * T
        for _ in range(80):  # z(tau) = v0 tau - g tau^2 / 2 + d: positive, then negative
            mid = (lo + hi) / 2
            if v0 * mid - G * mid * mid / 2 + d_fn(t_to + mid)[0] > 0:
                lo = mid
            else:
                hi = mid
        new = t_to + (lo + hi) / 2
        if abs(new - t_ld) < 1e-12:
            break
        t_ld = new
    return t_ld - t_to, d_fn


def _neg(f: Callable[[float], tuple]) -> Callable[[float], tuple]:
    def g(t: float) -> tuple[float, float]:
        a, b = f(t)
        return -a, -b

    return g


def _flight_plantar(t_to: float, t_ld: float, v0: float, e_to: float, e_ld: float):
    """Plantarflexion in flight: keeps rate v0 at takeoff (toe leaves from rest), settles
    at e_to + v0 r / 2 within r = E_RISE_RELAX_S, then relaxes to e_ld at landing."""
    r = min(E_RISE_RELAX_S, (t_ld - t_to) / 4)
    e_pk = e_to + v0 * r / 2
    first = _hermite(e_to, v0, e_pk, 0.0, t_to, r)
    rest = _cosine(e_pk, e_ld, t_to + r, t_ld - t_to - r)

    def f(t: float) -> tuple[float, float]:
        return first(t) if t < t_to + r else rest(t)

    return f


def _peak_h(m: Program, t0: float, t1: float, fn, n: int = 4001) -> float:
    vals = [m.hip(t0 + (t1 - t0) * i / (n - 1) * (1 - 1e-12))[1] for i in range(n)]
    return fn(vals)


METRIC_NEEDS: dict[str, tuple[str, ...]] = {
    "flight_time_s": ("takeoff_s", "landing_s"),
    "jump_height_m": ("takeoff_s", "landing_s"),
    "ground_contact_time_s": ("contact_start_s", "takeoff_s"),
    "rsi_height_over_contact": ("contact_start_s", "takeoff_s", "landing_s"),
    "rsi_flight_over_contact": ("contact_start_s", "takeoff_s", "landing_s"),
    "countermovement_depth_m": ("movement_start_s", "lowest_point_s"),
    "eccentric_duration_s": ("movement_start_s", "lowest_point_s"),
    "concentric_duration_s": ("lowest_point_s", "takeoff_s"),
    "time_to_takeoff_s": ("movement_start_s", "takeoff_s"),
    "rsi_modified": ("movement_start_s", "takeoff_s", "landing_s"),
    "peak_eccentric_velocity_m_s": ("movement_start_s", "lowest_point_s"),
    "peak_concentric_velocity_m_s": ("lowest_point_s", "takeoff_s"),
    "squat_depth_m": ("movement_start_s", "push_off_start_s"),
    "drop_height_m": ("box_leave_s", "contact_start_s"),
    "impact_velocity_m_s": ("contact_start_s",),
}


def jumps_in_view(prog: Program, start_s: float, end_s: float) -> list[dict]:
    """Truth jumps in video time (t - start_s) for a clip showing motion times [start, end].

    Jumps wholly outside are dropped; a partly visible jump keeps its visible events, lists
    the others in "not_in_view" and keeps only metrics whose events are all visible."""
    out = []
    for j in prog.jumps:
        ev = j["events"]
        vis = {k: v - start_s for k, v in ev.items() if start_s <= v <= end_s}
        if not vis:
            continue
        missing = [k for k in ev if k not in vis]
        me = {}
        for k, v in j["metrics"].items():
            needs = METRIC_NEEDS.get(k, ())
            if "push_off_start_s" in ev and k.startswith(("concentric", "peak_concentric")):
                needs = ("push_off_start_s", "takeoff_s")
            if all(n in vis for n in needs if n in ev):
                me[k] = v
        d = {"index": len(out) + 1, "jump_type": j["jump_type"], "events": vis, "metrics": me}
        if missing:
            d["not_in_view"] = missing
        out.append(d)
    return out
