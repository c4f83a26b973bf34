"""Flights: ballistic phases of the whole body, timed by the feet.

1. Candidates are the tops of the trunk's path (hips and shoulders), the body part least
   disturbed by arm swing and leg tuck.
2. Each candidate is timed by the contact points (``contact.py``): takeoff when the last
   trusted point leaves its own planted level, landing when the first one reaches its own
   planted level after the flight. A trusted point still on the ground at the top vetoes the
   candidate (a heel raise, a step, a squat).
3. The trunk must fly ballistically in between: one parabola whose curvature is g at a scale
   that fits a human body (stature 0.8-2.6 m for the body's height in the image).

Drops from a box are found the same way: the feet leave an elevated planted level, the body
falls ballistically, and the feet reach the floor (``find_drop``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from kinemotion_cli import signal as sig
from kinemotion_cli.jumps.body import Body
from kinemotion_cli.jumps.common import G, Parabola, fit_parabola, index_at
from kinemotion_cli.jumps.contact import AIR, GROUND, Contact, contact_event, kink
from kinemotion_cli.landmarks import LEFT_FOOT, RIGHT_FOOT, TOE_POINTS

MIN_STATURE_M, MAX_STATURE_M = 0.8, 2.6  # body heights that make a curvature plausible
MAX_FLIGHT_S = 1.5  # a 2.7 m jump: nobody flies longer
MIN_INSIDE_FRAMES = 3  # frames strictly inside a flight, to check it is ballistic
CANDIDATE_PROMINENCE = 0.01  # trunk tops at least 1 % of body height above their dips
CANDIDATE_CUTOFF_HZ = 6.0  # the trunk is smoothed this much to find candidate tops
MAX_TRUNK_RMS = 0.03  # the trunk's parabola fits within 3 % of body height (RMS)
MIN_BOX_M = 0.1  # drop-jump boxes are higher than a step (20-60 cm in practice)
TOLD_APART_FRAMES = 0.25  # points' events closer than this share of a frame are one event
PUSH_S = 0.5  # a push-off (the trunk rising from its lowest point to takeoff) lasts at most this
PUSH_SEEN_S = 0.1  # ... and is judged only where the trunk was seen this long before takeoff
MAX_PUSH_G = 6.0  # ... with a mean net upward acceleration below 6 g (hops peak at 3-4 g)


@dataclass(frozen=True)
class Flight:
    """One ballistic airborne phase."""

    takeoff: float
    landing: float
    takeoff_sigma: float
    landing_sigma: float
    i_apex: int
    takeoff_contacts: tuple[Contact, ...]  # trusted points, timing the takeoff
    landing_contacts: tuple[Contact, ...]
    trunk: Parabola | None  # the trunk's parabola in flight
    frames_inside: int

    @property
    def duration(self) -> float:
        return self.landing - self.takeoff

    @property
    def duration_sigma(self) -> float:
        return float(np.hypot(self.takeoff_sigma, self.landing_sigma))

    def ppm(self) -> tuple[float, float] | None:
        """Pixels per metre from the trunk's curvature in flight (a = ppm g / 2), and its sd."""
        if self.trunk is None or self.trunk.a <= 0 or self.trunk.n < 4:
            return None
        return 2 * self.trunk.a / G, 2 * float(np.sqrt(max(self.trunk.cov[0, 0], 0.0))) / G


def trunk_tops(body: Body) -> list[int]:
    """Frames where the trunk reaches a top of its path (candidate flight apexes)."""
    y = sig.interpolate_gaps(body.trunk_y, body.t, max_gap_s=0.25)
    ok = np.isfinite(y)
    if ok.sum() < 5:
        return []
    height = -sig.lowpass(np.where(ok, y, np.nan), body.fps, CANDIDATE_CUTOFF_HZ)
    height = np.where(np.isfinite(height), height, np.nanmin(height))
    return sig.prominent_peaks(height, CANDIDATE_PROMINENCE * body.body_px)


def _pick(
    contacts: list[Contact], latest: bool, frame: float
) -> tuple[float, float, tuple[Contact, ...]]:
    """The event of a set of contacts: the last point to leave or the first to arrive."""
    trusted = [c for c in contacts if c.trusted]
    if not trusted:  # every point moved with the body: use the stillest ones
        best = min(abs(c.beta) for c in contacts if c.beta is not None)
        trusted = [c for c in contacts if c.beta is None or abs(c.beta) <= best + 0.05]
    # Points timed far less sharply than the best one (a hidden toe the model guesses) do
    # not decide the event while sharper ones exist.
    sharpest = min(c.sigma for c in trusted)
    timed = [c for c in trusted if c.sigma <= max(2.0 * sharpest, 0.5 * frame)]
    # The last point to leave (first to arrive), and every point whose event cannot be told
    # apart from it within the noise: they left together, so average them (the max of noisy
    # estimates of one instant would be biased late).
    sign = 1.0 if latest else -1.0

    def close(a: Contact, b: Contact) -> float:
        # Landmarks err more than their fits say, and differently from point to point: events
        # within a quarter of a frame interval of each other are not told apart. A heel
        # leaving before a toe (heel rise) or touching after it (toe-first landing) is
        # further apart, and must not pull the event with it.
        return max(2.0 * float(np.hypot(a.sigma, b.sigma)), TOLD_APART_FRAMES * frame)

    def agree(a: Contact, b: Contact) -> bool:
        return abs(a.time - b.time) <= close(a, b)

    # A foot rolls off its toes and lands on them first: a heel (or ankle) that left before
    # a toe of its own foot (heel rise), or touched after it (toe-first landing), does not
    # end or start the flight, even when the two heels agree with each other better than
    # the two toes do.
    def heel_before_toe(c: Contact) -> bool:
        side = LEFT_FOOT if c.point in LEFT_FOOT else RIGHT_FOOT
        if c.point not in side or c.point in TOE_POINTS:
            return False
        toes = [o for o in timed if o.point in side and o.point in TOE_POINTS]
        return any(sign * (o.time - c.time) > close(o, c) for o in toes)

    timed = [c for c in timed if not heel_before_toe(c)] or timed
    # One landmark alone does not decide: the edge must be confirmed by another point (a
    # landmark derived from the same one, such as BlazePose's copy of a toe, does not count).
    distinct = _distinct(timed)
    ranked = sorted(distinct, key=lambda c: -sign * c.time)
    confirmed = [c for c in ranked if any(o is not c and agree(o, c) for o in ranked)]
    edge = confirmed[0] if confirmed else ranked[0]
    group = [c for c in timed if 0 <= sign * (edge.time - c.time) <= close(c, edge)]
    group = _edge_foot(group, edge, sign, frame)
    w = _inv_var(group)
    time = float(np.sum(w * [c.time for c in group]) / w.sum())
    # The sd of that mean counts each distinct point once (a copied landmark adds no
    # information), plus the points' model disagreement, which the mean does not shrink.
    once = [c for c in distinct if c in group] or group
    w1 = _inv_var(once)
    model = float(np.sum(w1 * [c.model_sd for c in once]) / w1.sum())
    sigma = float(np.hypot(1.0 / np.sqrt(w1.sum()), model))
    if not confirmed and len(ranked) > 1:
        # No point confirms another: the event lies among points that disagree beyond
        # their noise, whichever is taken, and its sd says so (at least half the gap to the
        # next one).
        sigma = float(np.hypot(sigma, 0.5 * abs(ranked[1].time - edge.time)))
    return time, sigma, tuple(trusted)


def _distinct(cs: list[Contact]) -> list[Contact]:
    """``cs`` with each landmark derived from another (same time, same level: BlazePose's
    one toe for Halpe's big and small toe) counted once."""
    return list({(round(c.time, 9), round(c.level, 6)): c for c in cs}.values())


def _inv_var(cs: list[Contact]) -> np.ndarray:
    """Inverse-variance weights of the points' timings."""
    return np.array([1.0 / max(c.sigma, 1e-4) ** 2 for c in cs])


def _foot_mean(cs: list[Contact]) -> tuple[float, float]:
    """Inverse-variance mean time of some points of one foot and its sd (a copied landmark
    counted once)."""
    once = _distinct(cs)
    w = _inv_var(once)
    return float(np.sum(w * [c.time for c in once]) / w.sum()), float(1.0 / np.sqrt(w.sum()))


def _edge_foot(group: list[Contact], edge: Contact, sign: float, frame: float) -> list[Contact]:
    """The points of ``group`` that time the event of ``edge``'s foot, and the other foot's
    only when both feet left (or touched) together within the noise.

    The two feet need not leave or land at the same moment. A point of the other foot can
    lie within the noise of a poorly timed edge point while its own foot's mean is told
    apart from the edge foot's: averaged in, its sharper timing would pull the event to the
    other foot's moment."""
    feet = [[c for c in group if c.point in side] for side in (LEFT_FOOT, RIGHT_FOOT)]
    if not all(feet):
        return group
    own = feet[0] if edge.point in LEFT_FOOT else feet[1]
    other = feet[1] if own is feet[0] else feet[0]
    (t_own, s_own), (t_other, s_other) = _foot_mean(own), _foot_mean(other)
    apart = max(2.0 * float(np.hypot(s_own, s_other)), TOLD_APART_FRAMES * frame)
    return own if sign * (t_own - t_other) > apart else group


def _contacts(
    body: Body,
    i_ref: int,
    bound: int,
    before: bool,
    away: int = 1,
    accel: float | None = None,
) -> tuple[list[Contact], bool]:
    """Every contact point's event around ``i_ref``; and whether a trusted point stayed down."""
    found, grounded = [], False
    for k in body.contact_points:
        status, c = contact_event(body, k, i_ref, bound, before, away, accel)
        if status == AIR and c is not None:
            found.append(c)
        elif status == GROUND:
            grounded = True
    return found, grounded


def _ballistic(body: Body, takeoff: float, landing: float) -> tuple[Parabola | None, int, str]:
    """The trunk's parabola strictly inside the flight, the frames inside, and a refusal."""
    t = body.t
    inside = (t > takeoff) & (t < landing)
    n_inside = int(inside.sum())
    if n_inside < MIN_INSIDE_FRAMES:
        return None, n_inside, f"only {n_inside} frame(s) in the air"
    fit = _robust_parabola(t[inside], body.trunk_y[inside], MAX_TRUNK_RMS * body.body_px)
    if fit is None:
        return None, n_inside, "the trunk is not tracked in the air"
    if fit.a <= 0:
        return fit, n_inside, "the trunk does not fall back in the air"
    stature = body.body_px / (2 * fit.a / G)
    if fit.n >= 4 and not (MIN_STATURE_M <= stature <= MAX_STATURE_M):
        return fit, n_inside, f"the trunk's curvature is not g for a human ({stature:.2f} m)"
    if fit.n >= 5 and fit.rms > MAX_TRUNK_RMS * body.body_px:
        return fit, n_inside, "the trunk does not follow one parabola in the air"
    return fit, n_inside, ""


OFF_PATH_SDS = 4.0  # samples off the body's path by more than this many robust sds ...
MAX_OFF_PATH = 0.25  # ... are the pose model's errors, up to this share of the flight's


def _robust_parabola(t: np.ndarray, y: np.ndarray, tolerance: float) -> Parabola | None:
    """The trunk's parabola in the air, not bent by the frames a pose model draws far off
    the body's path (a blend with somebody beside the jumper, a body drawn half in the air).

    The path that fits best the (1 - MAX_OFF_PATH) share of samples nearest to it (least
    trimmed squares, from fits on the whole flight and on each 60 % stretch of it) tells
    which samples are off it: those further than OFF_PATH_SDS robust sds, and than
    ``tolerance`` (how far the trunk strays from one parabola in a real flight: legs tuck, arms
    swing). The parabola is the least-squares fit of the rest; of every sample when none is
    off, or when the first or last sample in the air is.
    """
    ok = np.isfinite(t) & np.isfinite(y)
    tt, yy = t[ok], y[ok]
    whole = fit_parabola(tt, yy)
    n = len(tt)
    if whole is None or n < 8:
        return whole
    h = int(np.ceil((1.0 - MAX_OFF_PATH) * n))
    span = int(np.ceil(0.6 * n))
    best, best_cost = whole, np.inf
    for start in (
        whole,
        *(fit_parabola(tt[i : i + span], yy[i : i + span]) for i in (0, (n - span) // 2, n - span)),
    ):
        fit = start
        for _ in range(10):  # concentration steps: refit the h nearest until they stay
            if fit is None:
                break
            near = np.sort(np.argsort(np.abs(yy - fit(tt)), kind="stable")[:h])
            again = fit_parabola(tt[near], yy[near])
            if again is None or np.allclose([again.a, again.b, again.c], [fit.a, fit.b, fit.c]):
                break
            fit = again
        if fit is not None:
            cost = float(np.sum(np.sort((yy - fit(tt)) ** 2)[:h]))
            if cost < best_cost:
                best, best_cost = fit, cost
    r = np.abs(yy - best(tt))
    keep = r <= max(OFF_PATH_SDS * 1.4826 * float(np.median(r)), tolerance)
    # The first and last frames in the air anchor the flight: off the path there, the flight's
    # bounds are wrong (a body not yet or no longer in the air), not the pose.
    if keep.all() or not (keep[0] and keep[-1]):
        return whole
    return fit_parabola(tt[keep], yy[keep])


def _on_the_ground_inside(
    body: Body, contacts: list[Contact], takeoff: float, landing: float
) -> str:
    """Why the flight is not one, if a trusted contact point stays on its level through it.

    In the air every foot point rides above the levels it left and reaches; the apex alone
    does not tell (a pose model that swaps a foot for a frame lifts it there). A point whose
    median height over the frames inside the flight is within its noise of its level, or
    below it, stood on the ground.
    """
    inside = (body.t > takeoff) & (body.t < landing)
    for c in contacts:
        if not c.trusted:
            continue
        h = c.level - body.y[inside, c.point]
        h = h[np.isfinite(h)]
        if h.size >= MIN_INSIDE_FRAMES and np.median(h) <= body.point_noise[c.point]:
            return f"a foot point stays on the ground through the flight (landmark {c.point})"
    return ""


def _no_push_off(body: Body, trunk: Parabola, takeoff: float) -> str:
    """Why the flight is not one, if the trunk was not pushed up into it.

    To leave the floor at speed v the body is pushed up from a lower position: with a mean
    net upward acceleration A, the trunk rises v^2 / 2A before takeoff, and the flight then
    rises v^2 / 2g, so the push is at least g / A of the flight's rise. A trunk that was
    no lower (beyond its noise) in the half second before takeoff than a sixth of that
    rise did not take off: a pose model drew the feet of a standing person up and down.
    A clip that starts less than 0.1 s before takeoff (or a trunk not seen then) is no
    evidence either way.
    """
    rise = float(trunk(takeoff) - trunk(trunk.vertex()))  # image y points down
    sel = (body.t >= takeoff - PUSH_S) & (body.t <= takeoff) & np.isfinite(body.trunk_y)
    if not rise > 0 or sel.sum() < 3 or body.t[sel][0] > takeoff - PUSH_SEEN_S:
        return ""
    push = float(np.max(body.trunk_y[sel]) - trunk(takeoff))
    if push < rise / MAX_PUSH_G - 2.0 * body.noise_px:
        return (
            f"the trunk was not pushed up into the flight ({push:.1f} px lower before takeoff, "
            f"{rise:.1f} px of rise)"
        )
    return ""


def find_flights(body: Body) -> tuple[list[Flight], list[str]]:
    """Every flight in the clip, in time order, and why candidates were refused."""
    flights: list[Flight] = []
    refused: list[str] = []
    tops = trunk_tops(body)
    n = len(body.t)
    for j, i_apex in enumerate(tops):
        prev = index_at(body.t, flights[-1].landing) if flights else 0
        if i_apex <= prev:
            continue
        nxt = tops[j + 1] if j + 1 < len(tops) else n
        ups, down_before = _contacts(body, i_apex, prev, before=True)
        downs, down_after = _contacts(body, i_apex, nxt, before=False)
        if down_before or down_after or not ups or not downs:
            continue
        takeoff, sd_to, c_to = _pick(ups, latest=True, frame=1.0 / body.fps)
        landing, sd_ld, c_ld = _pick(downs, latest=False, frame=1.0 / body.fps)
        if not (takeoff < body.t[i_apex] < landing) or landing - takeoff > MAX_FLIGHT_S:
            continue
        trunk, inside, why = _ballistic(body, takeoff, landing)
        if why:
            refused.append(f"{body.t[i_apex]:.2f} s: {why}")
            continue
        grounded = _on_the_ground_inside(body, ups + downs, takeoff, landing)
        if grounded:
            refused.append(f"{body.t[i_apex]:.2f} s: {grounded}")
            continue
        ups = [_with_body(body, c, trunk, i_apex, before=True) for c in ups]
        downs = [_with_body(body, c, trunk, i_apex, before=False) for c in downs]
        takeoff, sd_to, c_to = _pick(ups, latest=True, frame=1.0 / body.fps)
        landing, sd_ld, c_ld = _pick(downs, latest=False, frame=1.0 / body.fps)
        no_push = _no_push_off(body, trunk, takeoff)
        if no_push:
            refused.append(f"{body.t[i_apex]:.2f} s: {no_push}")
            continue
        flights.append(Flight(takeoff, landing, sd_to, sd_ld, i_apex, c_to, c_ld, trunk, inside))
    return flights, refused


TRANSFER_BAND = (0.1, 0.5)  # foot samples between 10 % and 50 % of their rise


def _with_body(body: Body, c: Contact, trunk: Parabola, i_apex: int, before: bool) -> Contact:
    """A departure (``before``) or an arrival re-timed from the feet moving with the body.

    Off the floor a foot moves with the body's ballistic path (the trunk's parabola), so a
    foot sample ``h`` above its planted level at time ``t`` left (or will touch) when the
    trunk was (will be) ``h`` lower than at ``t``: the parabola gives that moment. Samples
    in the lower half of the rise carry it (higher up, the legs tuck). This does not depend
    on the few milliseconds next to the floor, where a toe rolling off it, or a pose model
    drawing the toe along with a rising heel or a flattening foot, make the path ambiguous.
    """
    t, y = body.t, body.y[:, c.point]
    i0 = index_at(t, c.time)
    seg = np.arange(max(i0, 0), i_apex + 1) if before else np.arange(i_apex, min(i0, len(t)))
    h = c.level - y[seg]
    if seg.size < 2 or not np.isfinite(h).any() or trunk.a <= 0:
        return c
    rise = float(np.nanmax(h))
    sigma = body.point_noise[c.point]
    lo, hi = max(4 * sigma, TRANSFER_BAND[0] * rise), TRANSFER_BAND[1] * rise
    use = np.isfinite(h) & (h >= lo) & (h <= hi)
    if use.sum() < 1:
        return c
    vertex = trunk.vertex()
    times = []
    for ti, hi_ in zip(t[seg][use], h[use]):
        target = float(trunk(ti)) + hi_  # the trunk's image y when the foot is on the floor
        disc = trunk.b**2 - 4 * trunk.a * (trunk.c - target)
        if disc < 0:
            continue
        root = np.sqrt(disc) * (-1 if before else 1)
        tc = trunk.t0 + (-trunk.b + root) / (2 * trunk.a)
        if (tc <= vertex) if before else (tc >= vertex):
            times.append(tc)
    if not times:
        return c
    est = float(np.median(times))
    spread = 1.4826 * float(np.median(np.abs(np.array(times) - est))) if len(times) > 2 else 0.0
    speed = max(abs(2 * trunk.a * (est - vertex)), 1e-6)  # the body's speed there, px/s
    sd = float(np.hypot(spread / np.sqrt(len(times)), np.hypot(sigma, c.level_sigma) / speed))
    # two estimates of one moment with independent errors of sd s differ by s sqrt(2)
    model = max(c.model_sd, abs(est - c.time) / np.sqrt(2.0))
    c = dataclasses.replace(c, time=est, sigma=max(sd, 1e-4), model_sd=model)
    return c if before else _arrival_on_path(body, c, trunk)


PATH_AIR_S = 0.08  # airborne frames this close to a landing show the foot riding on the body
PATH_GROUND_S = 0.06  # ... and the frames this close after it show the floor holding it
PATH_SEARCH_S = (0.04, 0.02)  # the landing is looked for this far towards the flight / ground
TOE_JOINT_BODY = 0.03  # toe joints stand at most ~5 cm (3 % of stature) off the floor at touch


def _arrival_on_path(body: Body, c: Contact, trunk: Parabola) -> Contact:
    """Re-time an arrival as the moment the point stops riding on the body's ballistic path.

    In the air a foot point moves with the trunk's parabola plus a slowly changing offset;
    a foot lands with the body's speed, and from that moment the floor holds it back: the
    point's height relative to the parabola bends (a broken-line fit finds where). This
    needs no planted level, so it holds where a landmark sits on a foot that rotates about
    the toes after a toe-first landing: the landmark keeps moving after the toes touch, but
    no longer with the body. (A takeoff has no such bend: the toes roll off the floor from
    rest and reach the body's speed over some tens of ms; it is timed from the level.)
    """
    t, y = body.t, body.y[:, c.point]
    tau = t - c.time  # from the flight towards the ground
    near, far = PATH_SEARCH_S
    sel = np.isfinite(y) & (tau >= -near - PATH_AIR_S) & (tau <= far + PATH_GROUND_S)
    # both sides need 3 frames within those windows, where the assumptions hold (below
    # about 50 fps they do not: the level-based time stands)
    if np.sum(sel & (tau < -near)) < 3 or np.sum(sel & (tau > far)) < 3:
        return c
    tau_s = tau[sel]
    r = y[sel] - trunk(t[sel])  # the point relative to the path (image y, down)
    fit = kink(tau_s, -r, -near, far, max(0.025 / body.fps, 1e-4))
    if fit is None:
        return c
    s0, sd = fit
    # At the touch the point is at most a toe joint's height above where it comes to rest
    # (the tip touches, the foot then flattens): a bend higher up is the model guessing a
    # hidden point, not the floor.
    air = tau_s < s0
    if air.sum() < 2:
        return c
    ride = np.polyfit(tau_s[air], r[air], 1)  # the point riding on the path, up to the bend
    above = c.level - float(trunk(c.time + s0) + np.polyval(ride, s0))
    if above > TOE_JOINT_BODY * body.body_px:
        return c
    model = max(c.model_sd, abs(s0) / np.sqrt(2.0))  # against the time it re-times
    return dataclasses.replace(c, time=c.time + s0, sigma=max(sd, 1e-4), model_sd=model)


@dataclass(frozen=True)
class Drop:
    """A ballistic fall from an elevated stance (a box) onto the floor.

    When the clip starts during the fall, the box is not in view: ``leave``,
    ``leave_sigma`` and ``height_px`` are None.
    """

    leave: float | None
    leave_sigma: float | None
    contact: float
    contact_sigma: float
    height_px: float | None  # box level above the floor level, in the image
    fall_fit: Parabola | None
    unseen: bool = False  # the fall itself was not seen (the athlete lost during it)


def arrival(body: Body, i_from: int, bound: int) -> tuple[float, float, tuple[Contact, ...]] | None:
    """First contact after frame ``i_from`` (the feet reach a planted level), or None."""
    downs, _ = _contacts(body, i_from, bound, before=False)
    if not downs:
        return None
    return _pick(downs, latest=False, frame=1.0 / body.fps)


def find_drop(body: Body, flight: Flight, prev_bound: int, ppm: float | None) -> Drop | None:
    """The fall from a box that ends in the contact phase before ``flight``, if there is one.

    Real only when the feet leave an elevated planted level, the trunk then falls
    ballistically, and the fall time agrees with the drop height (t = sqrt(2 h / g)).
    """
    t = body.t
    starts = [c.planted[0] for c in flight.takeoff_contacts]
    if not starts:
        return None
    i_contact = int(np.median(starts))
    if i_contact - prev_bound < 3:
        return None
    # the frame where the feet are highest shortly before this contact phase: on the box
    lo = max(prev_bound, index_at(t, t[i_contact] - 1.5))
    feet = np.nanmean(body.y[lo:i_contact, list(body.contact_points)], axis=1)
    if not np.isfinite(feet).any():
        return None
    i_top = lo + int(np.nanargmin(feet))
    if i_contact - i_top < 2:
        return None
    # a frame in the middle of the fall: the last one with the feet above half-way
    half = (feet[i_top - lo] + feet[-1]) / 2
    above = np.flatnonzero(np.isfinite(feet) & (feet < half))
    i_mid = lo + int(above[-1]) if above.size else (i_top + i_contact) // 2
    first = arrival(body, i_top, min(i_contact + int(0.5 * body.fps), len(t)))
    scale = ppm if ppm else body.body_px / 1.75
    # the feet fall freely from the box: their path's curvature is g at the flight's scale
    leaves, _ = _contacts(body, i_mid, prev_bound, before=True, away=-1, accel=G * scale)
    if first is None or not leaves:
        return None
    contact, sd_c, c_arr = first
    rough_leave, sd_l, c_box = _pick(leaves, latest=True, frame=1.0 / body.fps)
    if not (rough_leave < contact <= flight.takeoff):
        return None
    pairs = [(b.level, a.level) for b in c_box for a in c_arr if a.point == b.point]
    if not pairs:
        pairs = [(np.mean([b.level for b in c_box]), np.mean([a.level for a in c_arr]))]
    height_px = float(np.median([floor - box for box, floor in pairs]))
    if height_px <= 0:
        return None
    leave, sd_l, fall = _fall_start(body, c_box, rough_leave, sd_l, contact, G * scale / 2)
    # the whole body falls the box height, not just a foot (a step down is not a drop)
    i_l, i_c = index_at(t, leave), index_at(t, contact)
    trunk = body.trunk_y[max(i_l - 1, 0) : i_c + 1]
    trunk = trunk[np.isfinite(trunk)]
    if trunk.size < 2 or trunk.max() - trunk[0] < 0.6 * height_px:
        return None
    measured = contact - leave
    frame = 1.0 / body.fps

    def agrees(drop_px: float) -> bool:  # the fall time of a drop from rest, t = sqrt(2h/g)
        expected = float(np.sqrt(2 * drop_px / scale / G))
        return abs(measured - expected) <= max(0.3 * expected, 1.5 * frame)

    if height_px < MIN_BOX_M * scale or not agrees(height_px):
        # A few cm between the feet's levels is no box (a heel drawn higher as the knees
        # bend, a weight shift): the fall from it lasts a frame or two and "agrees" within
        # a frame. Perspective can also hide a real box in the feet's image levels (a
        # landing nearer the camera is drawn lower, as much as the box is high). In both
        # cases the trunk's own fall tells.
        # Only a free fall counts: the trunk falls at least a box's height (MIN_BOX_M; the
        # first tens of ms of a crouch look like a short fall) on a parabola whose curvature
        # is g (a crouch descends at a controlled speed).
        descent = float(trunk[-1] - trunk[0])
        if descent < MIN_BOX_M * scale or not agrees(descent):
            return None
        if free_fall(body, (t >= leave) & (t <= contact), scale) is None:
            return None
        height_px = descent
    if fall is not None and fall.n >= 3:
        # the first contact, re-timed from the feet falling with the body (as for a landing)
        i_leave = min(max(index_at(t, leave), 0), len(t) - 1)
        arrivals = [_with_body(body, c, fall, i_leave, before=False) for c in c_arr]
        contact, sd_c, _ = _pick(arrivals, latest=False, frame=frame)
    return Drop(leave, sd_l, contact, sd_c, height_px, fall)


def _fall_start(
    body: Body,
    on_box: tuple[Contact, ...],
    rough: float,
    rough_sd: float,
    contact: float,
    a: float,
) -> tuple[float, float, Parabola | None]:
    """When the free fall from the box began: where the trunk's fall, with the curvature of
    g (``a`` = g ppm / 2), starts from the trunk's level while standing on the box.

    The whole fall carries this information, not only its first frames, where a body that
    starts from rest has barely moved. Falls back to the feet's estimate (``rough``).
    """
    t, y = body.t, body.trunk_y
    lo = min(c.planted[0] for c in on_box)
    hi = max(c.planted[1] for c in on_box)
    stance = y[max(lo, hi - int(0.3 * body.fps)) : hi]
    stance = stance[np.isfinite(stance)]
    sigma = sig.noise_sigma(y)
    if stance.size < 2 or not np.isfinite(sigma):
        return rough, rough_sd, None
    level = float(np.median(stance))
    falling = (t > t[hi - 1]) & (t < contact) & np.isfinite(y) & (y - level > 3 * sigma)
    fit = fit_parabola(t[falling], y[falling], a_fixed=a)
    if fit is None or fit.n < 3:
        return rough, rough_sd, fit
    # A fall from rest has its vertex at the stance level: then each falling sample, y - level
    # = a (t - start)^2, tells the start by itself, and their (weighted) median holds where
    # the pose model lags or jumps in a few frames, which a free fit would follow. A fall
    # with a starting velocity (a hop off the box) crosses the level instead.
    disc = fit.b**2 - 4 * fit.a * (fit.c - level)
    vertex_gap = abs(disc) / (4 * fit.a)  # |level - vertex level|, px
    level_sd = np.hypot(sigma / np.sqrt(stance.size), np.sqrt(max(fit.cov[2, 2], 0.0)))
    if disc < 0 or vertex_gap <= 3 * level_sd:
        drop = y[falling] - level
        starts = t[falling] - np.sqrt(drop / a)
        # each sample times the start to sigma / (2 sqrt(a drop)): weigh it by that
        w = np.sqrt(drop)
        order = np.argsort(starts)
        cum = np.cumsum(w[order])
        start = float(starts[order][np.searchsorted(cum, cum[-1] / 2)])
        spread = 1.4826 * float(np.median(np.abs(starts - start)))
        sd = max(spread / np.sqrt(starts.size), 0.25 / body.fps)
    else:
        s0 = (-fit.b + np.sqrt(disc)) / (2 * fit.a)
        start = fit.t0 + float(s0)
        var = float(np.array([0.0, s0, 1.0]) @ fit.cov @ np.array([0.0, s0, 1.0]))
        sd = float(np.sqrt(var)) / max(abs(2 * fit.a * s0 + fit.b), 1e-9)
    if not (t[max(lo, 0)] <= start < contact):
        return rough, rough_sd, fit
    return start, sd, fit


FALL_CURVATURE = (0.65, 1.35)  # a fall seen only in part: its curvature within 35 % of g
MIN_FALL_FRAMES = 4


def free_fall(body: Body, when: np.ndarray, ppm: float) -> Parabola | None:
    """The trunk's parabola over the frames ``when`` if it is a free fall: at least
    MIN_FALL_FRAMES tracked frames and a curvature within FALL_CURVATURE of g (at ``ppm``)."""
    inside = when & np.isfinite(body.trunk_y)
    if inside.sum() < MIN_FALL_FRAMES:
        return None
    fit = fit_parabola(body.t[inside], body.trunk_y[inside])
    expected = G * ppm / 2
    if fit is None or not (FALL_CURVATURE[0] * expected <= fit.a <= FALL_CURVATURE[1] * expected):
        return None
    return fit


def fall_in_view(body: Body, flight: Flight, ppm: float | None) -> Drop | None:
    """A clip that starts during the fall onto the floor (the box not in view).

    The ground phase before ``flight`` then begins with an arrival, and before it the trunk
    falls ballistically from the first frame: a parabola whose curvature is g at the
    flight's scale.
    """
    t = body.t
    first = arrival(body, 0, min(index_at(t, flight.takeoff) + 1, len(t)))
    if first is None or ppm is None:
        return None
    contact, sd_c, _ = first
    fit = free_fall(body, t < contact, ppm)
    if fit is None:
        return None
    if 2 * fit.a * (contact - fit.t0) + fit.b <= 0:  # not coming down at the contact
        return None
    return Drop(None, None, contact, sd_c, None, fit)


UNSEEN_STANCE_S = 0.2  # the feet's level on each side of an unseen fall, over this long


def fall_unseen(body: Body, flight: Flight, prev_bound: int, ppm: float | None) -> Drop | None:
    """A fall from a box that the pose model did not see: the athlete stood still on an
    elevated level, was lost, and is seen again standing on a level lower by at least a box
    (MIN_BOX_M), the trunk lower by most of it, after at least the time a free fall from that
    height takes (t = sqrt(2 h / g)). A fast fall is where a detector loses a person first.

    The first contact then lies between the last frame on the box plus the fall time and
    the first frame of the stance on the floor. Where the athlete is seen again before that
    stance, the feet's arrival is timed as a landing's; otherwise the contact is the middle
    of the interval, with the sd of a uniform spread over it (wide when the athlete is seen
    again only well after the contact began)."""
    t, y = body.t, body.trunk_y
    starts = [c.planted[0] for c in flight.takeoff_contacts]
    if not starts or ppm is None:
        return None
    i_floor = int(np.median(starts))  # first frame of the stance on the floor
    lo = max(prev_bound, index_at(t, t[i_floor] - 1.5))
    seen = np.isfinite(y[lo : i_floor + 1])
    if seen.all() or not seen.any():
        return None
    lost = np.flatnonzero(~seen)
    first = lost[np.flatnonzero(np.diff(np.concatenate([[-2], lost])) > 1)[-1]]
    a, b = lo + int(first), lo + int(lost[-1]) + 1  # the last run of unseen frames: [a, b)
    if a <= lo or b > i_floor:
        return None
    n = max(2, int(round(UNSEEN_STANCE_S * body.fps)))
    feet = np.nanmean(body.y[:, list(body.contact_points)], axis=1)
    box, floor = feet[max(lo, a - n) : a], feet[i_floor : i_floor + n]
    box, floor = box[np.isfinite(box)], floor[np.isfinite(floor)]
    if box.size < 2 or floor.size < 2:
        return None
    height_px = float(np.median(floor) - np.median(box))
    if height_px < MIN_BOX_M * ppm:
        return None
    trunk_before = float(np.nanmedian(y[max(lo, a - n) : a]))
    if float(np.nanmax(y[b : i_floor + n])) - trunk_before < 0.6 * height_px:
        return None  # a foot drawn lower, not the whole body falling the box's height
    fall_s = float(np.sqrt(2 * height_px / ppm / G))
    earliest, latest = t[a - 1] + fall_s, t[i_floor]
    frame = 1.0 / body.fps
    if latest < earliest - 1.5 * frame:
        return None  # lost too briefly for a fall from that height
    if latest < earliest:
        earliest = latest
    # seen again before the stance began: the feet's arrival on the floor may be in view
    seen = arrival(body, b, min(i_floor + n, len(t))) if b < i_floor else None
    if seen is not None and earliest - 1.5 * frame <= seen[0] <= latest:
        contact, sd = seen[0], seen[1]
    else:
        contact = 0.5 * (earliest + latest)
        sd = max((latest - earliest) / np.sqrt(12.0), 0.25 * frame)
    return Drop(None, None, float(contact), float(sd), height_px, None, unseen=True)
