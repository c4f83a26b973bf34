"""Ground contact of each foot point: its planted level, when it leaves, when it touches.

Physics, not a global floor:

* A point on the ground stands still. Its *planted level* is measured from the frames just
  before it leaves (takeoff side) or just after it touches (landing side), so a landing a few
  centimetres away from the takeoff spot (a different image level under perspective), a
  drifting stance or a tilted camera never mix levels.
* A point that moves with the body while the body crouches is not on the ground (a far foot
  half hidden, a mis-tracked landmark): its displacement is regressed on the hip's and it is
  only trusted when it stays still while the hip moves.
* A point leaves its level on a smooth path from rest (toes roll off) or with a velocity
  (flat feet); it arrives with a velocity. Each event is the root of a hinge model fitted
  to the planted frames and the first airborne frames: ``h = 0`` before ``t0``,
  ``h = v (t - t0) + a/2 (t - t0)^2`` after, ``v >= 0``, with ``t0`` found between frames.

Takeoff is when the last trusted contact point leaves; landing is when the first one touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinemotion_cli.jumps.body import STILL_BODY_PER_S, Body

SLOPE_HALF_WINDOW_S = 0.03  # velocity = local regression slope over +-30 ms (>= 3 frames)
MIN_PLANTED_S = 0.04  # a planted run lasts at least this long (and 2 frames)
LEVEL_S = 0.15  # the level is the median of the planted frames within this time of the event
LEVEL_GUARD_S = 0.03  # ... except those nearest the event, where a point may start to move
TOP_BODY = 0.05  # a point 5 % of body height from its apex is past the top (~0.14 s)
MAX_BETA = 0.25  # a contact point moves less than a quarter of the hip while planted
K_NOISE = 3.0  # airborne = more than 3 noise sigmas above the level ...
CLEAR_SHARE = 0.1  # ... and more than a tenth of the point's rise: clearly on its way


@dataclass(frozen=True)
class Contact:
    """One point's planted level and the moment it leaves (or reaches) it."""

    point: int
    time: float
    sigma: float
    level: float  # image y of the planted point (px)
    level_sigma: float
    planted: tuple[int, int]  # half-open frame range of the planted run used
    beta: float | None  # regression slope of the point on the hip while planted (None: n/a)
    trusted: bool  # stood still while the body moved
    # disagreement between two models of this moment (the level left or reached, the feet
    # riding on the body's ballistic path), as a standard deviation (s): errors of the
    # models themselves, which averaging points does not reduce
    model_sd: float = 0.0


def local_slope(y: np.ndarray, t: np.ndarray, half_window_s: float) -> np.ndarray:
    """Velocity per second: least-squares slope of ``y`` over ``t +- half_window_s``.

    The window is widened to at least one neighbour on each side. NaN samples are skipped;
    fewer than 3 finite samples give NaN.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    out = np.full(n, np.nan)
    if n < 3:
        return out
    ok = np.isfinite(y)
    tt = t - t[0]
    w = ok.astype(float)
    yy = np.where(ok, y, 0.0)
    c = [np.concatenate([[0.0], np.cumsum(v)]) for v in (w, w * tt, w * tt * tt, yy, yy * tt)]
    lo = np.searchsorted(t, t - half_window_s - 1e-12, side="left")
    hi = np.searchsorted(t, t + half_window_s + 1e-12, side="right")
    idx = np.arange(n)
    lo = np.minimum(lo, np.maximum(idx - 1, 0))
    hi = np.maximum(hi, np.minimum(idx + 2, n))
    s0, s1, s2, sy, sty = (v[hi] - v[lo] for v in c)
    den = s0 * s2 - s1 * s1
    good = (s0 >= 3) & (den > 1e-18)
    out[good] = (s0[good] * sty[good] - s1[good] * sy[good]) / den[good]
    return out


def slope_noise(sigma: float, fps: float) -> float:
    """Standard deviation of :func:`local_slope` for white noise ``sigma`` at ``fps``: the
    window holds the frames within +-``SLOPE_HALF_WINDOW_S`` (at least one on each side)."""
    dt = 1.0 / fps
    k = max(1, int(np.floor(SLOPE_HALF_WINDOW_S / dt + 1e-9)))  # frames on each side
    offsets = np.arange(-k, k + 1) * dt
    return float(sigma / np.sqrt(np.sum(offsets**2)))


def still_mask(body: Body, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(still, velocity) of point ``k``: slower than a planted point can appear to move."""
    v = local_slope(body.y[:, k], body.t, SLOPE_HALF_WINDOW_S)
    thr = max(STILL_BODY_PER_S * body.body_px, 4.0 * slope_noise(body.point_noise[k], body.fps))
    return np.isfinite(v) & (np.abs(v) < thr), v


def _beta(body: Body, k: int, lo: int, hi: int) -> float | None:
    """Slope of point ``k`` on the hip over frames [lo, hi); None if the hip barely moved."""
    y, h = body.y[lo:hi, k], body.hip_y[lo:hi]
    ok = np.isfinite(y) & np.isfinite(h)
    if ok.sum() < 4:
        return None
    h, y = h[ok], y[ok]
    spread = float(np.percentile(h, 95) - np.percentile(h, 5))
    if spread < max(6.0 * body.noise_px, 0.02 * body.body_px):
        return None
    hc = h - h.mean()
    return float(np.dot(hc, y - y.mean()) / np.dot(hc, hc))


SHAPE_S = 0.1  # airborne frames within this time of leaving give the shape of the path ...
SHAPE_FRACTION = 0.7  # ... as long as the point is below this fraction of its rise
ONSET_MAX_S = 0.05  # a point leaving from rest ramps up its speed within this time


def _hinge(
    tau: np.ndarray,
    h: np.ndarray,
    lo: float,
    hi: float,
    step: float,
    accel: float | None = None,
) -> tuple[float, float, float]:
    """Best ``t0`` in [lo, hi] for h = 0 (tau <= t0), v (tau-t0) + a/2 (tau-t0)^2 after.

    ``tau`` runs *away* from the planted frames (time for a departure, reversed time for an
    arrival). ``accel`` fixes ``a`` (a free fall); otherwise it is fitted; ``v >= 0`` (the
    point cannot start by moving into the floor). Returns (t0, residual sum of squares,
    its second derivative in t0).
    """
    grid = np.arange(lo, hi + step / 2, step)
    rss = np.empty(len(grid))
    for j, t0 in enumerate(grid):
        s = tau - t0
        air = s > 0
        r_planted = float(np.sum(h[~air] ** 2))
        sa, ha = s[air], h[air]
        if sa.size == 0:
            rss[j] = r_planted
            continue
        if accel is not None:
            rest = ha - 0.5 * accel * sa * sa
            v = max(float(np.dot(sa, rest) / np.dot(sa, sa)), 0.0)
            rss[j] = r_planted + float(np.sum((rest - v * sa) ** 2))
            continue
        x = np.stack([sa, 0.5 * sa * sa], axis=1)
        if sa.size >= 2:
            coef, *_ = np.linalg.lstsq(x, ha, rcond=None)
        else:
            coef = np.array([ha[0] / sa[0], 0.0])
        if coef[0] < 0:
            a = float(np.dot(x[:, 1], ha) / max(np.dot(x[:, 1], x[:, 1]), 1e-30))
            coef = np.array([0.0, a])
        rss[j] = r_planted + float(np.sum((ha - x @ coef) ** 2))
    j = int(np.argmin(rss))
    curv = (rss[j - 1] - 2 * rss[j] + rss[j + 1]) / step**2 if 0 < j < len(grid) - 1 else 0.0
    return float(grid[j]), float(rss[j]), float(curv)


def kink(
    tau: np.ndarray, h: np.ndarray, lo: float, hi: float, step: float
) -> tuple[float, float] | None:
    """Where a line bends away: ``h = o + d tau`` up to ``t0``, then it also gains
    ``v (tau - t0) + a/2 (tau - t0)^2`` with ``v >= 0``; ``t0`` searched in [lo, hi].

    Returns (t0, its standard deviation), or None when nothing bends (no gain after the
    best ``t0``) or the best ``t0`` is an end of the range (the bend is not inside it).
    The deviation is the profile's: half the span of ``t0`` whose residual stays within
    one noise variance of the best (a kink's residual is not a parabola in ``t0``, so its
    curvature at the minimum would say too little).
    """
    grid = np.arange(lo, hi + step / 2, step)
    rss = np.full(len(grid), np.inf)
    gain = np.zeros(len(grid))
    for j, t0 in enumerate(grid):
        s = np.clip(tau - t0, 0.0, None)
        cols = [np.ones_like(tau), tau, s, 0.5 * s * s]
        x = np.stack(cols, axis=1)
        coef, *_ = np.linalg.lstsq(x, h, rcond=None)
        if coef[2] < 0:  # it cannot start by moving back: no velocity step
            x = np.stack([cols[0], cols[1], cols[3]], axis=1)
            coef, *_ = np.linalg.lstsq(x, h, rcond=None)
            coef = np.array([coef[0], coef[1], 0.0, coef[2]])
            x = np.stack(cols, axis=1)
        rss[j] = float(np.sum((h - x @ coef) ** 2))
        gain[j] = float(coef[2] * (tau.max() - t0) + 0.5 * coef[3] * (tau.max() - t0) ** 2)
    j = int(np.argmin(rss))
    if not np.isfinite(rss[j]) or gain[j] <= 0 or j in (0, len(grid) - 1):
        return None  # no bend, or none inside the range searched
    var = rss[j] / max(len(tau) - 5, 1)
    inside = grid[rss <= rss[j] + var]
    sd = max(0.5 * float(inside.max() - inside.min()), step)
    return float(grid[j]), sd


def _onset(tau: np.ndarray, h: np.ndarray, t_path: float, thr: float) -> float | None:
    """Where a point that leaves from rest really left, if the frames show it.

    A toe rolling off the floor starts with no speed and speeds up over some tens of ms, so
    the straight part of its path, extended back, meets the level late. When frames before
    ``t_path`` are already off the level by more than the noise and rise steadily, the
    leaving is the start of that rise: fitted from rest (``h = c (tau - t0)^2``) on those
    frames and the next one.
    """
    before = np.flatnonzero((tau < t_path) & (tau > t_path - ONSET_MAX_S))
    if before.size == 0:
        return None
    up = [int(p) for p in before if np.isfinite(h[p]) and h[p] > thr]
    if not up or up[-1] != before[-1]:  # the rise must go on up to the path's start
        return None
    first = up[0]
    while first - 1 in up or (first - 1 >= 0 and first - 1 in before and h[first - 1] > thr):
        first -= 1
    seg = [p for p in range(first, min(int(before[-1]) + 2, len(h))) if np.isfinite(h[p])]
    if len(seg) < 2 or np.any(np.diff(h[seg]) <= 0):
        return None
    r = np.sqrt(np.clip(h[seg], 0.0, None))
    slope, icpt = np.polyfit(tau[seg], r, 1)
    if slope <= 0:
        return None
    t0 = -icpt / slope
    prev = tau[first - 1] if first > 0 else t0
    return float(min(max(t0, prev), t_path))


def _event(
    body: Body,
    k: int,
    tau_all: np.ndarray,
    order: np.ndarray,
    away: int,
    level: float,
    level_sd: float,
    i_air_pos: int,
    apex_h: float,
    n_planted: int,
    noise_thr: float,
    accel: float | None = None,
) -> tuple[float, float, float]:
    """Sub-frame event of point ``k`` along ``order`` (frame indices running away from the
    planted run; ``i_air_pos`` is the position in ``order`` of the first clearly airborne
    frame): its time, the fit's sd and the sd of frames not seen around it."""
    dt = 1.0 / body.fps
    sigma = body.point_noise[k]
    h = away * (level - body.y[order, k])
    tau = tau_all[order]
    t_air = tau[i_air_pos]
    planted = list(range(max(0, i_air_pos - max(2, int(round(0.1 * body.fps)))), i_air_pos))
    # A free fall (known curvature) keeps its shape all the way; any other path only near
    # the event.
    span, frac = (np.inf, 0.9) if accel is not None else (SHAPE_S, SHAPE_FRACTION)
    air = [i_air_pos]
    for p in range(i_air_pos + 1, len(order)):
        if not np.isfinite(h[p]) or tau[p] - t_air > span or h[p] > frac * apex_h:
            break
        air.append(p)
    if len(air) < 3 and i_air_pos + 1 < len(order) and np.isfinite(h[i_air_pos + 1]):
        air = list(range(i_air_pos, min(i_air_pos + 3, len(order))))  # at least the shape
    sel = np.array([p for p in planted + air if np.isfinite(h[p])])
    prev = tau[i_air_pos - 1] if i_air_pos > 0 else t_air - dt
    # The point may leave up to half a frame before the last still frame: frames between
    # it and the first clearly airborne one can be off the level by less than the noise.
    first = tau[max(n_planted - 1, 0)] if n_planted else prev
    early = LEVEL_GUARD_S + SLOPE_HALF_WINDOW_S if accel is None else LEVEL_S
    lo, hi = min(first, prev) - early - 0.5 * dt, t_air
    step = max((hi - lo) / 200.0, 1e-5)
    t0, rss, curv = _hinge(tau[sel], h[sel], lo, hi, step, accel)
    # the residual, not only white noise: pose models also err in ways tied to the motion
    dof = max(len(sel) - 3, 1)
    scatter = max(sigma, float(np.sqrt(rss / dof)))
    fit_sd = float(np.sqrt(2.0 * scatter**2 / curv)) if curv > 0 else (hi - lo) / np.sqrt(12)
    if accel is None:
        onset = _onset(tau, h, t0, noise_thr)
        if onset is not None and onset < t0:
            fit_sd = max(fit_sd, (t0 - onset) / 2)
            t0 = onset
    last = sel[-1]
    speed = max(h[last] / max(tau[last] - t0, dt), 1e-6)
    sd = float(np.hypot(min(fit_sd, hi - lo), level_sd / speed))
    # Frames not seen between the level and the first airborne frame: the event lies
    # somewhere in that span, whatever the fit says, and so does every point's (the span's
    # sd is shared by the points, not reduced by averaging them: a model sd).
    seen = [p for p in range(i_air_pos) if np.isfinite(h[p])]
    t_level = tau[seen[-1]] if seen else t_air - dt
    unseen = 0.0
    if t_air - t_level > 1.5 * dt:
        t0 = min(max(t0, t_level), t_air)
        unseen = (t_air - t_level) / np.sqrt(12.0)
    return t0, sd, unseen


def _moving_away(v: np.ndarray, away: int, thr_v: float) -> np.ndarray:
    """Frames where the point moves away from its level (``away``=+1: up, -1: down)."""
    return (-away * v) > thr_v


def _planted_frames(body: Body) -> int:
    """The fewest frames a planted run (a stance on a level) spans."""
    return max(2, int(np.ceil(MIN_PLANTED_S * body.fps)))


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in ``mask``."""
    best = cur = 0
    for m in mask:
        cur = cur + 1 if m else 0
        best = max(best, cur)
    return best


def _planted_run(
    body: Body,
    k: int,
    still: np.ndarray,
    moving: np.ndarray,
    order: np.ndarray,
    away: int,
    thr: float,
    begin: int = 0,
) -> tuple[int, int] | None:
    """Positions (in ``order``) of the planted run nearest the reference frame (from
    position ``begin`` on, when given: the next run after one that was not the level).

    Walk from the reference frame (the apex) towards the contact: skip the slow top of the
    path, then the movement, then take the run of still frames. A pause in mid-air (e.g. the
    legs tucking) is not a planted run: a planted point is at the end of its path, so a
    still run with the point further from the apex shortly before it is skipped.
    """
    y = body.y[:, k]
    n = len(order)
    need = _planted_frames(body)
    p = begin
    # The top ends where the point moves, or where it is well away from the reference
    # frame's position (its frames in between were not seen: the walk must not pass over
    # them into the stance beyond).
    top = max(3 * thr, TOP_BODY * body.body_px)
    while not begin and p < n and not moving[order[p]] and not abs(y[order[p]] - y[order[0]]) > top:
        p += 1
    while p < n:
        while p < n and moving[order[p]]:
            p += 1
        start = p
        while p < n and still[order[p]]:
            p += 1
        if p - start >= need:
            level = float(np.nanmedian(y[order[start:p]]))
            rise = away * (level - y[order[0]])  # the point's rise from this level to the apex
            t_end = body.t[order[p - 1]]
            beyond = order[p:][np.abs(body.t[order[p:]] - t_end) <= 0.3]
            further = away * (level - y[beyond])  # > 0: nearer the apex side than the level
            # A pause in mid-air has the real level well below it, by a good part of the
            # rise, and the body was there too: a foot gets further from its level only
            # with the trunk (it falls from a box, it rose from the floor). A foot drawn far
            # off while the trunk stays (a pose model that has just found the person) is not.
            trunk = body.trunk_y
            trunk_further = away * (np.nanmedian(trunk[order[start:p]]) - trunk[beyond])
            with_body = ~(np.nan_to_num(trunk_further, nan=-np.inf) > 0.5 * further)
            below = np.nan_to_num(further, nan=0.0) < -max(3 * thr, 0.5 * rise)
            if not np.any(below & with_body):
                return start, p
        if p == start:
            p += 1
        while p < n and not moving[order[p]] and not still[order[p]]:
            p += 1
    return None


GROUND, AIR, UNKNOWN = "ground", "air", "unknown"


def contact_event(
    body: Body,
    k: int,
    i_ref: int,
    bound: int,
    before: bool,
    away: int = 1,
    accel: float | None = None,
) -> tuple[str, Contact | None]:
    """A point's planted level and the moment it leaves it or reaches it.

    ``before=True``: the point leaves its level before frame ``i_ref`` (takeoff, leaving a
    box); ``before=False``: it reaches its level after ``i_ref`` (landing, first contact).
    ``away=+1``: off the level the point is higher (the floor); ``-1``: lower (a box top).
    ``accel`` (px/s^2, away from the level) fixes the path's curvature after leaving, for a
    free fall. Frames beyond ``bound`` are not looked at. Returns ``(GROUND, None)`` when the
    point is still on its level at ``i_ref`` (it never left), ``(AIR, contact)``, or
    ``(UNKNOWN, None)`` when the data do not tell.
    """
    y = body.y[:, k]
    if not np.isfinite(y[i_ref]):
        return UNKNOWN, None
    still, v = still_mask(body, k)
    sigma = body.point_noise[k]
    thr_v = max(STILL_BODY_PER_S * body.body_px, 4.0 * slope_noise(sigma, body.fps))
    if before:
        order = np.arange(i_ref, max(bound, 0) - 1, -1)
        moving = _moving_away(v, away, thr_v)
        tau_all = body.t
    else:
        order = np.arange(i_ref, min(bound, len(y)))
        moving = _moving_away(-v, away, thr_v)  # in reversed time it moves away
        tau_all = -body.t
    if len(order) < 4:
        return UNKNOWN, None
    thr0 = K_NOISE * sigma
    run = _planted_run(body, k, still, moving, order, away, thr0)
    if run is None:
        # on the ground at the reference frame: no lower position of the point in the window
        near = y[order[: max(2, int(0.1 * body.fps))]]
        span = y[order]
        if np.isfinite(near).all() and np.isfinite(span).sum() >= 4:
            lowest = float(np.nanpercentile(away * -span, 10))  # the most floor-ward position
            if away * -float(np.median(near)) - lowest <= 2 * thr0:
                return GROUND, None
        return UNKNOWN, None
    while True:
        start, stop = run
        planted_idx = order[start:stop]  # nearest the reference frame first
        t_ev = body.t[planted_idx[0]]
        near_t = np.abs(body.t[planted_idx] - t_ev)
        use = planted_idx[(near_t >= LEVEL_GUARD_S) & (near_t <= LEVEL_S)]
        if use.size < 2:
            use = planted_idx[: max(2, min(len(planted_idx), 3))]
        vals = y[use]
        vals = vals[np.isfinite(vals)]
        if vals.size < 2:
            return UNKNOWN, None
        level = float(np.median(vals))
        level_sd = float(1.25 * sigma / np.sqrt(vals.size))
        # positions running away from the planted run, towards the reference frame
        seq = np.concatenate([planted_idx[::-1], order[:start][::-1]])
        h = away * (level - y[seq])
        apex_h = float(np.nanmax(h)) if np.isfinite(h).any() else 0.0
        # Clearly airborne: above the noise and a tenth of the way up; the hinge fit then finds
        # the moment of leaving from the shape of the path, so this threshold does not bias it.
        noise_thr = K_NOISE * float(np.hypot(sigma, level_sd))
        thr = max(noise_thr, CLEAR_SHARE * apex_h)
        n_pl = len(planted_idx)
        # Once off its level the point stays off it until the reference frame: a still run it
        # later stood below (e.g. the box before a drop, seen from the next flight) is not the
        # level it left from, and a point back at that level at the reference frame is not on
        # the ground there. Standing below takes as long as a planted run; a frame or two (a
        # toe joint overshooting as the foot flattens, a wrong pose) is not a level.
        between = h[n_pl:]
        grounded = start == 0 or apex_h <= noise_thr
        # (a point noisier than its estimate may dip 3 noise sigmas; twice that is a real dip)
        deepest = -2 * noise_thr if grounded else -thr
        if _longest_run(np.nan_to_num(between, nan=0.0) < deepest) < _planted_frames(body):
            break
        # An arrival: the point reached a lower level before this still run, which is then
        # the pose model drawing the planted foot higher for a few frames as the body
        # crouches; the stance goes on, and so does the search (within the window). A
        # departure's lower level further on is another stance (the floor below a box).
        run = None if before else _planted_run(body, k, still, moving, order, away, thr0, stop)
        if run is None:
            return UNKNOWN, None
    if grounded:
        return GROUND, None
    above = np.isfinite(h) & (h > thr)
    last_low = n_pl - 1
    for p in range(len(seq) - 1, n_pl - 1, -1):
        if np.isfinite(h[p]) and not above[p]:  # unseen frames do not end the flight
            last_low = p
            break
    # the first frame seen airborne after it (frames not seen in between: _event)
    i_air_pos = next((p for p in range(last_low + 1, len(seq)) if above[p]), len(seq))
    if i_air_pos >= len(seq):
        return UNKNOWN, None
    t_evt, sd, unseen = _event(
        body,
        k,
        tau_all,
        seq,
        away,
        level,
        level_sd,
        i_air_pos,
        apex_h,
        len(planted_idx),
        noise_thr,
        accel,
    )
    time = t_evt if before else -t_evt
    lo, hi = int(planted_idx.min()), int(planted_idx.max()) + 1
    beta = _beta(body, k, lo, hi)
    trusted = beta is None or abs(beta) <= MAX_BETA
    return AIR, Contact(k, float(time), sd, level, level_sd, (lo, hi), beta, trusted, unseen)
