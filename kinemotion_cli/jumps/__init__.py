"""Events and metrics of every jump in a clip: body tracks -> flights -> types -> measures.

One analysis for every jump type. Each type lives in its own small module (``cmj``,
``squat_jump``, ``drop_jump``, ``rebound``) that declares its events, phases and metrics
(:class:`~kinemotion_cli.jumps.types.JumpType`) and measures them; this module finds the
flights, decides each jump's type from the physics of its ground phase and dispatches
through the registry:

* a ballistic fall from an elevated stance just before the contact: **drop jump**;
* the previous jump's landing, with no rest before taking off again: **rebound**;
* a rest (trunk still) before the takeoff: **squat jump** when the hip then goes straight
  up, **countermovement jump** when it first goes down.
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass

import numpy as np

from kinemotion_cli import signal as sig
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.jumps import cmj, drop_jump, rebound, squat_jump
from kinemotion_cli.jumps.body import Body, build_body
from kinemotion_cli.jumps.common import G, Measure, index_at
from kinemotion_cli.jumps.contact import STILL_BODY_PER_S, local_slope
from kinemotion_cli.jumps.flight import (
    Drop,
    Flight,
    fall_in_view,
    fall_unseen,
    find_drop,
    find_flights,
)
from kinemotion_cli.jumps.types import COMMON_EVENTS, JumpContext, JumpType, Scale

#: The registry of jump types, in the order they are listed to users.
JUMP_TYPES: dict[str, JumpType] = {
    m.TYPE.name: m.TYPE for m in (cmj, drop_jump, squat_jump, rebound)
}
BY_CLI: dict[str, JumpType] = {t.cli: t for t in JUMP_TYPES.values()}
JUMP_CHOICES: tuple[str, ...] = ("auto", *BY_CLI)

REST_S = 0.25  # the trunk still this long = the athlete came to rest
REST_HALF_WINDOW_S = 0.05  # trunk velocity: local slope over +-50 ms
SETTLED_BAND = 0.02  # a rest's hip stays within 2 % of body height (sway, drift) of its level
COUNTERMOVEMENT_SHARE = 0.25  # dip after the rest above this share of the push: a CMJ
ASSUMED_STATURE_M = 1.75


@dataclass(frozen=True)
class Jump:
    """One measured jump."""

    index: int  # 1-based, in time order
    jump_type: str
    events: dict[str, Measure]
    metrics: dict[str, Measure]
    flight: Flight
    drop: Drop | None
    scale: Scale
    warnings: tuple[str, ...]

    @property
    def type(self) -> JumpType:
        return JUMP_TYPES[self.jump_type]


@dataclass(frozen=True)
class Analysis:
    """Every jump found in one clip, and the body tracks they were measured on."""

    jumps: tuple[Jump, ...]
    body: Body
    hip_h: np.ndarray  # low-passed hip height (px, up positive) above its first rest level
    warnings: tuple[str, ...]


def analyze(
    t: np.ndarray,
    landmarks: np.ndarray,
    fps: float,
    jump: str = "auto",
    stature_m: float | None = None,
    observed: np.ndarray | None = None,
) -> Analysis:
    """Find every jump in a landmark series ``(T, 26, 3)`` and measure it. ``observed``
    marks the frames the pose model ran on (None: all; the others were filled in between
    and do not count in the landmark noise).

    Raises :class:`KmoError`: no jump (exit 3), not measurable (4), or no jump of the type
    asked with ``jump`` (5).
    """
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices are handled
        return _analyze(t, landmarks, fps, jump, stature_m, observed)


def _analyze(
    t: np.ndarray,
    landmarks: np.ndarray,
    fps: float,
    jump: str,
    stature_m: float | None,
    observed: np.ndarray | None = None,
) -> Analysis:
    if jump not in JUMP_CHOICES:
        raise KmoError(f"--jump must be one of {', '.join(JUMP_CHOICES)}.")
    t = np.asarray(t, dtype=np.float64)
    if len(t) < max(10, int(0.3 * fps)):
        raise KmoError(
            f"the video is too short ({len(t)} frames) to contain a jump; film the whole "
            "jump with some standing before and after.",
            ExitCode.NO_JUMP,
        )
    body = build_body(t, landmarks, fps, observed)
    flights, refused = find_flights(body)
    if not flights:
        why = f" ({'; '.join(refused[:3])})" if refused else ""
        raise KmoError(
            "no jump found: the feet never leave the ground on a ballistic flight"
            f"{why}; check the video shows a complete jump (takeoff and landing in view).",
            ExitCode.NO_JUMP,
        )
    breaks = [index_at(t, x) for f in flights for x in (f.takeoff, f.landing)]
    hip_f = sig.lowpass_segments(body.hip_y, fps, breaks, cutoff_hz=10.0)
    trunk_v = local_slope(body.trunk_y, t, REST_HALF_WINDOW_S)
    rest_mask = np.isfinite(trunk_v) & (np.abs(trunk_v) < STILL_BODY_PER_S * body.body_px)
    jumps: list[Jump] = []
    notes: list[str] = []
    for k, fl in enumerate(flights):
        prev = flights[k - 1] if k else None
        jumps.append(_jump(body, fl, prev, hip_f, rest_mask, stature_m, len(jumps) + 1))
    first_rest = _last_rest(rest_mask, t, 0, index_at(t, flights[0].takeoff))
    level = _level(hip_f, first_rest)
    hip_h = level - hip_f
    if jump != "auto":
        want = BY_CLI[jump]
        kept = [j for j in jumps if JUMP_TYPES[j.jump_type].starts == want.starts]
        if not kept:
            said = ", ".join(sorted({JUMP_TYPES[j.jump_type].label.lower() for j in jumps}))
            raise KmoError(
                f"--jump {jump} does not match the video: it shows {said}; use --jump auto "
                "or the right type.",
                ExitCode.JUMP_MISMATCH,
            )
        if len(kept) < len(jumps):
            notes.append(
                f"--jump {jump}: {len(jumps) - len(kept)} jump(s) of another kind left out"
            )
        jumps = [
            _retype(j, want, body, hip_f, rest_mask, stature_m, flights, i + 1)
            for i, j in enumerate(kept)
        ]
    return Analysis(tuple(jumps), body, hip_h, tuple(notes))


def _retype(
    j: Jump,
    want: JumpType,
    body: Body,
    hip_f: np.ndarray,
    rest_mask: np.ndarray,
    stature_m: float | None,
    flights: list[Flight],
    index: int,
) -> Jump:
    """Re-measure a jump as the type asked with ``--jump`` (same kind of start)."""
    k = flights.index(j.flight)
    prev = flights[k - 1] if k else None
    return _jump(body, j.flight, prev, hip_f, rest_mask, stature_m, index, force=want)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _last_rest(mask: np.ndarray, t: np.ndarray, lo: int, hi: int) -> tuple[int, int] | None:
    """The last run of rest frames in [lo, hi) lasting at least ``REST_S``."""
    best = None
    for a, b in _runs(mask[lo:hi]):
        a, b = a + lo, b + lo
        if t[b - 1] - t[a] >= REST_S:
            best = (a, b)
    return best


def _settled(
    rest: tuple[int, int] | None, hip: np.ndarray, t: np.ndarray, body_px: float
) -> tuple[int, int] | None:
    """The part of a rest at the level the athlete finally settled at.

    Slow enough, a change of posture passes the stillness test: a 12.5 cm squat reached over
    a second keeps the trunk under STILL_BODY_PER_S, and standing, going down and holding the
    squat made one "rest" whose level was the standing one (the squat jump was typed a CMJ).
    Going back from the rest's end, the rest keeps only the frames whose hip stays within
    SETTLED_BAND of the body height of its level over the last REST_S, when those last
    REST_S or more."""
    if rest is None:
        return None
    a, b = rest
    tail = hip[index_at(t, t[b - 1] - REST_S) : b]
    tail = tail[np.isfinite(tail)]
    if tail.size == 0:
        return rest
    level = float(np.median(tail))
    off = np.isfinite(hip[a:b]) & (np.abs(hip[a:b] - level) > SETTLED_BAND * body_px)
    if not off.any():
        return rest
    first = a + int(np.flatnonzero(off)[-1]) + 1
    return (first, b) if first < b and t[b - 1] - t[first] >= REST_S else rest


def _level(hip: np.ndarray, rest: tuple[int, int] | None) -> float:
    vals = hip[rest[0] : rest[1]] if rest else hip
    vals = vals[np.isfinite(vals)]
    return float(np.median(vals)) if vals.size else 0.0


def _scale(body: Body, fl: Flight, stature_m: float | None) -> tuple[Scale, str | None]:
    if stature_m is not None:
        ppm = body.body_px / stature_m
        return Scale(ppm, 0.03 * ppm, f"scale from stature {stature_m:g} m"), None
    got = fl.ppm()
    if got is not None:
        return Scale(got[0], got[1], "scale from flight parabola (g)"), None
    ppm = body.body_px / ASSUMED_STATURE_M
    note = "distances use an assumed 1.75 m stature; pass --height for accuracy"
    return Scale(ppm, 0.1 * ppm, "scale assumed (1.75 m stature; pass --height)"), note


def _jump(
    body: Body,
    fl: Flight,
    prev: Flight | None,
    hip_f: np.ndarray,
    rest_mask: np.ndarray,
    stature_m: float | None,
    index: int,
    force: JumpType | None = None,
) -> Jump:
    """Type and measure the jump whose flight is ``fl``."""
    t = body.t
    start = index_at(t, prev.landing) if prev else 0
    i_to = index_at(t, fl.takeoff)
    notes: list[str] = []
    scale, note = _scale(body, fl, stature_m)
    if note:
        notes.append(note)
    rest = _settled(_last_rest(rest_mask, t, start, i_to), hip_f, t, body.body_px)
    drop = find_drop(body, fl, start, scale.pixels_per_m)
    if drop is None and prev is None and rest is None:
        drop = fall_in_view(body, fl, fl.ppm()[0] if fl.ppm() else None)
        if drop is not None:
            notes.append("the clip starts during the fall: the box is not in view")
    if drop is None:
        drop = fall_unseen(body, fl, start, scale.pixels_per_m)
        if drop is not None:
            notes.append(
                "the fall from the box was not seen (the athlete was lost during it): first "
                "contact placed between the last frame on the box plus the fall time and the "
                "first frame standing on the floor"
            )
    if drop is not None and rest is not None and t[rest[0]] > drop.contact:
        drop = None  # came to rest after the drop: a standing jump, not a drop jump
    if drop is not None and prev is not None and (drop.leave or 0.0) <= prev.landing:
        drop = None  # the "fall" is the previous jump's: a rebound
    contact, contact_sd = None, None
    if drop is not None:
        kind = drop_jump.TYPE
        contact, contact_sd = drop.contact, drop.contact_sigma
    elif prev is not None and rest is None:
        kind = rebound.TYPE
        contact, contact_sd = prev.landing, prev.landing_sigma
    else:
        kind = _standing_kind(hip_f, rest, start, i_to)
        if rest is None:
            notes.append("no standing still before this jump in view: typed as a CMJ")
    if force is not None and force.starts == kind.starts:
        kind = force
    level = _level(hip_f, rest if rest else (start, i_to))
    hip_h = level - hip_f
    hip_v = sig.derivative(hip_h, t)
    height = G * fl.duration**2 / 8
    ctx = JumpContext(body, fl, start, rest, contact, contact_sd, drop, hip_h, hip_v, scale, height)
    own_events, own_metrics = kind.measure(ctx)
    t_sd = fl.duration_sigma
    events = {
        **own_events,
        "takeoff_s": Measure(
            fl.takeoff, "s", fl.takeoff_sigma, "last foot point leaves the ground"
        ),
        "landing_s": Measure(fl.landing, "s", fl.landing_sigma, "first foot point touches down"),
    }
    metrics = {
        "flight_time_s": Measure(fl.duration, "s", t_sd, "landing - takeoff"),
        "jump_height_m": Measure(
            height, "m", G * fl.duration / 4 * t_sd, "flight time: h = g t^2 / 8"
        ),
        **own_metrics,
    }
    return Jump(index, kind.name, events, metrics, fl, drop, scale, tuple(notes))


def _standing_kind(
    hip: np.ndarray, rest: tuple[int, int] | None, start: int, i_to: int
) -> JumpType:
    """CMJ or squat jump: after the last rest, does the hip go down before going up?"""
    if rest is None:
        return cmj.TYPE
    seg = hip[rest[1] - 1 : i_to + 1]  # image y: larger = lower
    if not np.isfinite(seg).any():
        return cmj.TYPE
    level = _level(hip, rest)
    lowest = float(np.nanmax(seg))
    top = float(hip[i_to]) if np.isfinite(hip[i_to]) else float(np.nanmin(seg))
    dip = lowest - level
    push = lowest - top
    if push <= 0:
        return cmj.TYPE
    return cmj.TYPE if dip > COUNTERMOVEMENT_SHARE * push else squat_jump.TYPE


def timeline(analysis: Analysis) -> list[tuple[float, str, Jump]]:
    """Every measured event of every jump as ``(time, key, jump)``, in time order."""
    out = [(float(m.value), key, j) for j in analysis.jumps for key, m in j.events.items() if m.ok]
    return sorted(out, key=lambda e: e[0])


def phase_spans(analysis: Analysis, t0: float, t1: float) -> list[tuple[float, float, str]]:
    """Consecutive ``(start, end, phase)`` spans covering [t0, t1], from the jump types'
    declarations: each event begins the phase its type declares after it."""
    after = {}
    for jt in JUMP_TYPES.values():
        for e in (*jt.events, *COMMON_EVENTS):
            after[(jt.name, e.key)] = e.phase_after
    first = JUMP_TYPES[analysis.jumps[0].jump_type].first_phase if analysis.jumps else "standing"
    spans, start, name = [], t0, first
    for t, key, j in timeline(analysis):
        if not t0 < t < t1:
            continue
        if t > start:
            spans.append((start, t, name))
        start, name = t, after[(j.jump_type, key)]
    spans.append((start, t1, name))
    return spans


def jump_at(analysis: Analysis, t: float) -> Jump | None:
    """The jump under way at time ``t``: the last one whose first event is at or before it
    (the first jump before any event)."""
    current = analysis.jumps[0] if analysis.jumps else None
    for j in analysis.jumps:
        starts = [m.value for m in j.events.values() if m.ok]
        if starts and min(starts) <= t:
            current = j
    return current
