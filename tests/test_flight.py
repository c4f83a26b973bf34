"""jumps/flight.py: ballistic flights of the whole body, timed by the feet; falls from a box."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kinemotion_cli.jumps import analyze
from kinemotion_cli.jumps.body import HEEL_TOE, TRUNK, build_body
from kinemotion_cli.jumps.common import G
from kinemotion_cli.jumps.contact import Contact
from kinemotion_cli.jumps.flight import (
    _on_the_ground_inside,
    _pick,
    find_drop,
    find_flights,
    trunk_tops,
)
from tests.landmark_series import PPM, series

EXACT_S = 0.001  # noise-free series: exact up to the fits' search grids


def _flights(jump: str = "cmj", fps: float = 60, **kw):  # noqa: ANN202
    t, lm, truth = series(jump, fps, **kw)
    body = build_body(t, lm, fps)
    flights, refused = find_flights(body)
    return body, flights, refused, truth


def _contact(time: float, sigma: float, trusted: bool = True, beta: float | None = 0.0):
    return Contact(0, time, sigma, 900.0, 0.1, (0, 10), beta, trusted)


# --------------------------------------------------------------------------- choosing


def test_pick_takes_the_last_point_to_leave_and_averages_its_group() -> None:
    # two points leave together at ~1.000 s (within their noise), one earlier (a heel)
    cs = [_contact(0.950, 0.001), _contact(1.000, 0.001), _contact(1.001, 0.001)]
    time, sigma, used = _pick(cs, latest=True, frame=1 / 60)
    assert time == pytest.approx(1.0005)  # the mean of the two, not the max of noisy values
    assert sigma == pytest.approx(0.001 / np.sqrt(2))
    assert len(used) == 3
    # landing: the first point to arrive decides, once another point confirms it: a lone
    # early point (50 ms before the others, more than a frame) does not
    time, _, _ = _pick(cs, latest=False, frame=1 / 60)
    assert time == pytest.approx(1.0005)
    confirmed = [*cs, _contact(0.951, 0.001)]
    time, _, _ = _pick(confirmed, latest=False, frame=1 / 60)
    assert time == pytest.approx(0.9505)


def test_the_stated_sd_counts_a_copied_landmark_once_and_keeps_model_disagreement() -> None:
    """BlazePose gives Halpe's big and small toe from one landmark: the copy (same time, same
    level) adds no information, so the sd is one point's. Two timing models of a moment that
    disagree (``model_sd``) leave the mean of several points that uncertain."""
    one = _contact(1.000, 0.002)
    copy = dataclasses.replace(one, point=1)
    time, sigma, _ = _pick([one, copy], latest=True, frame=1 / 60)
    assert time == pytest.approx(1.0) and sigma == pytest.approx(0.002)
    pair = [dataclasses.replace(_contact(1.000 + d, 0.001), model_sd=0.006) for d in (0, 1e-4)]
    _, sigma, _ = _pick(pair, latest=True, frame=1 / 60)
    assert sigma == pytest.approx(np.hypot(0.001 / np.sqrt(2), 0.006))


def test_points_that_disagree_with_none_confirming_another_widen_the_stated_sd() -> None:
    """Two points 30 ms apart (far beyond their 1 ms noise): neither confirms the other, the
    last to leave still decides, but the event lies somewhere between them, so its sd is at
    least half the gap (stated as 1 ms before, while the truth could be 30 ms away)."""
    apart = [_contact(1.000, 0.001), _contact(1.030, 0.001)]
    time, sigma, _ = _pick(apart, latest=True, frame=1 / 60)
    assert time == pytest.approx(1.030)
    assert sigma == pytest.approx(np.hypot(0.001, 0.015))
    together = [_contact(1.000, 0.001), _contact(1.001, 0.001)]  # one confirms the other
    _, sigma, _ = _pick(together, latest=True, frame=1 / 60)
    assert sigma < 0.002


def test_a_heel_is_never_the_takeoff_or_landing_while_its_own_toe_is_off_the_floor() -> None:
    """A heel rise: both heels leave together 40 ms before the toes, whose two estimates
    (one per foot) disagree by more than their noise. The heels confirm each other, but a
    foot leaves with its toe: the takeoff is a toe's. Mirrored for a toe-first landing."""
    from kinemotion_cli.landmarks import INDEX

    def c(name: str, time: float) -> Contact:
        return Contact(INDEX[name], time, 0.002, 900.0, 0.1, (0, 10), 0.0, True)

    ups = [c("left_heel", 0.960), c("right_heel", 0.962), c("left_big_toe", 1.000)]
    ups.append(c("right_big_toe", 1.020))
    assert _pick(ups, latest=True, frame=1 / 60)[0] >= 1.000  # was the heels' 0.961
    downs = [c("left_big_toe", 1.000), c("right_big_toe", 0.980)]
    downs += [c("left_heel", 1.040), c("right_heel", 1.042)]
    assert _pick(downs, latest=False, frame=1 / 60)[0] <= 1.000  # was the heels' 1.041


def test_the_other_foot_does_not_pull_the_event_when_the_feet_are_told_apart() -> None:
    """A landing at 50 fps (held-out case h14, second jump): the left foot touches at 1.000 s
    (toe timed loosely, heel sharper), the right foot 17-25 ms later, sharply timed. The
    loose left toe's noise lets the right toe into its group, and its weight pulled the mean
    to 1.013 s; but the two feet's own means are told apart, so the left foot's moment is
    the landing. Feet that agree within their noise are still averaged."""
    from kinemotion_cli.landmarks import INDEX

    def c(name: str, time: float, sd: float) -> Contact:
        return Contact(INDEX[name], time, sd, 900.0, 0.1, (0, 10), 0.0, True)

    left_toe = c("left_big_toe", 1.000, 0.0088)
    downs = [left_toe, dataclasses.replace(left_toe, point=INDEX["left_small_toe"])]
    downs += [c("left_heel", 1.002, 0.0053), c("right_big_toe", 1.018, 0.0032)]
    downs.append(c("right_heel", 1.025, 0.0021))
    assert _pick(downs, latest=False, frame=1 / 50)[0] == pytest.approx(1.0015, abs=0.001)
    together = [c("left_heel", 1.000, 0.002), c("right_heel", 1.004, 0.002)]
    assert _pick(together, latest=False, frame=1 / 50)[0] == pytest.approx(1.002)


def test_pick_ignores_untrusted_and_blurred_points() -> None:
    cs = [
        _contact(1.000, 0.001),
        _contact(1.100, 0.001, trusted=False, beta=0.9),  # moved with the body
        _contact(1.050, 0.020),  # timed 20x less sharply: a guessed, hidden point
    ]
    time, _, used = _pick(cs, latest=True, frame=1 / 60)
    assert time == pytest.approx(1.000)
    assert all(c.trusted for c in used) and len(used) == 2
    # when every point moved with the body, the stillest ones are used
    moving = [_contact(1.0, 0.001, False, 0.5), _contact(1.2, 0.001, False, 0.9)]
    assert _pick(moving, latest=True, frame=1 / 60)[0] == pytest.approx(1.0)


# --------------------------------------------------------------------------- flights


@pytest.mark.parametrize("fps", [30, 60, 240])
def test_one_flight_exact_and_ballistic(fps: int) -> None:
    body, flights, refused, truth = _flights(fps=fps)
    (fl,) = flights
    assert abs(fl.takeoff - truth.events["takeoff_s"]) < EXACT_S
    assert abs(fl.landing - truth.events["landing_s"]) < EXACT_S
    assert fl.duration == pytest.approx(truth.metrics["flight_time_s"], abs=EXACT_S)
    inside = int(((body.t > fl.takeoff) & (body.t < fl.landing)).sum())
    assert fl.frames_inside == inside and inside >= int(0.5 * fps) - 1
    assert fl.takeoff < body.t[fl.i_apex] < fl.landing
    ppm, ppm_sd = fl.ppm()  # the trunk's curvature is g at the athlete's scale
    assert ppm == pytest.approx(PPM, rel=1e-3) and ppm_sd >= 0
    assert fl.duration_sigma == pytest.approx(np.hypot(fl.takeoff_sigma, fl.landing_sigma))
    assert len(fl.takeoff_contacts) == 6 and all(c.trusted for c in fl.takeoff_contacts)
    assert refused == []


def test_several_jumps_are_each_found_in_order() -> None:
    more = [dict(jump="cmj", flight_time=0.45), dict(jump="sj", flight_time=0.4)]
    body, flights, _, truth = _flights(jumps=more)
    assert len(trunk_tops(body)) > 3  # more candidate tops than flights ...
    assert len(flights) == len(truth["jumps"]) == 3  # ... only the real flights are kept
    for fl, tj in zip(flights, truth["jumps"]):
        assert abs(fl.takeoff - tj["events"]["takeoff_s"]) < EXACT_S
        assert abs(fl.landing - tj["events"]["landing_s"]) < EXACT_S
    assert all(a.landing < b.takeoff for a, b in zip(flights, flights[1:]))


def test_leg_tuck_feet_off_a_parabola_still_one_flight() -> None:
    """Legs tucked in the air: the feet rise above the trunk's parabola; the trunk decides the
    flight is ballistic and the feet still time it within the product bound (8 ms)."""
    _, flights, _, truth = _flights(tuck_m=0.06)
    (fl,) = flights
    assert abs(fl.takeoff - truth.events["takeoff_s"]) < 0.008
    assert abs(fl.landing - truth.events["landing_s"]) < 0.008


def test_steps_and_drift_are_not_flights() -> None:
    steps = [(0.2, "left", 0.1), (0.6, "right", 0.1)]
    _, flights, _, truth = _flights("none", 120, drift_m=(0.0, 0.1), steps=steps, standing_s=1.2)
    assert truth["jumps"] == [] and flights == []


def test_a_heel_raise_is_not_a_flight() -> None:
    _, flights, _, truth = _flights("none", 60, heel_rise_s=0.3, noise_px=0.5)
    assert "heel_rise" in truth["mechanisms"] and flights == []


@pytest.mark.parametrize("slower", [1.5, 2.0])
def test_a_flight_whose_curvature_is_not_g_is_refused(slower: float) -> None:
    """The same motion with its clock slowed (a re-timed slow-motion clip): the trunk's
    curvature implies a body of 1.75 x slower^2 m, which no human is."""
    t, lm, _ = series("cmj", 60)
    body = build_body(t * slower, lm, 60 / slower)
    flights, refused = find_flights(body)
    assert flights == []
    (why,) = refused
    assert "curvature is not g" in why and f"({1.75 * slower**2:.2f} m)" in why


# --------------------------------------------------------------------------- drops


@pytest.mark.parametrize("fps", [30, 60])
def test_drop_from_a_box_is_found_and_timed(fps: int) -> None:
    body, flights, _, truth = _flights("drop_jump", fps)
    (fl,) = flights
    drop = find_drop(body, fl, 0, fl.ppm()[0])
    assert drop is not None
    assert abs(drop.leave - truth.events["box_leave_s"]) < EXACT_S
    assert abs(drop.contact - truth.events["contact_start_s"]) < EXACT_S
    assert drop.height_px == pytest.approx(truth.metrics["drop_height_m"] * PPM, abs=0.5)
    # the fall's curvature is fixed by g at the flight's scale
    assert drop.fall_fit.a == pytest.approx(G * PPM / 2, rel=1e-3)
    assert drop.leave < drop.contact < fl.takeoff


@pytest.mark.parametrize("fps", [30, 50, 60])
@pytest.mark.parametrize("seen_after_s", [0.0, 0.06])
def test_a_fall_from_the_box_the_pose_model_lost_is_still_a_drop_jump(
    fps: int, seen_after_s: float
) -> None:
    """A partner beside a drop jumper: the detector lost her for the whole fall (a fast,
    blurred fall is where a detector misses a person first), and the jump was typed a CMJ.
    She stood still on a level a box higher and is seen again on the floor after at least
    the fall time: a drop, whose first contact is the feet's arrival when they are seen
    before the stance (``seen_after_s`` 0: seen again right at the contact), else inside
    the interval the physics allows."""
    t, lm, truth = series("drop_jump", fps, box=0.4)
    leave, contact = truth.events["box_leave_s"], truth.events["contact_start_s"]
    lost = lm.copy()
    lost[(t > leave - 0.02) & (t < contact + seen_after_s - 0.5 / fps)] = np.nan
    (j,) = analyze(t, lost, fps).jumps
    assert j.jump_type == "drop_jump"
    assert j.events["box_leave_s"].value is None
    got = j.events["contact_start_s"]
    if seen_after_s == 0:
        assert abs(got.value - contact) <= 1.0 / fps
    else:  # only an interval is known: the stated sd covers it
        assert abs(got.value - contact) <= 2 * got.uncertainty
    assert j.metrics["drop_height_m"].value == pytest.approx(0.4, abs=0.03)
    assert j.metrics["flight_time_s"].value == pytest.approx(
        truth.metrics["flight_time_s"], abs=0.004
    )
    # the same gap in a CMJ (no level lower after it) gives no drop
    t, lm, truth = series("cmj", fps)
    start = truth.events["movement_start_s"]
    lost = lm.copy()
    lost[(t > start + 0.1) & (t < start + 0.4)] = np.nan
    (j,) = analyze(t, lost, fps).jumps
    assert j.jump_type == "cmj"


def test_a_standing_jump_has_no_drop() -> None:
    body, flights, _, _ = _flights("cmj", 60)
    assert find_drop(body, flights[0], 0, flights[0].ppm()[0]) is None


@pytest.mark.parametrize("fps", [30, 60, 240])
@pytest.mark.parametrize("step_m", [0.02, 0.06])
def test_feet_a_few_cm_higher_before_the_countermovement_are_no_box(
    fps: int, step_m: float
) -> None:
    """Pose models draw a standing foot a few cm higher or lower as the knees bend or the
    weight shifts. Here the feet stand ``step_m`` higher until just after the countermovement
    starts and then fall to the floor exactly as from a step that high: the fall time agrees
    with the height, but a few cm is no drop-jump box (a box is at least MIN_BOX_M high) and
    the trunk does not fall freely, so the jump stays a CMJ (it was a drop jump with a
    2-6 cm "box")."""
    t, lm, truth = series("cmj", fps, noise_px=0.5)
    ts = truth.events["movement_start_s"] + 0.05
    fall = np.clip(t - ts, 0, np.sqrt(2 * step_m / G))
    lm = lm.copy()
    lm[:, list(HEEL_TOE), 1] -= ((step_m - 0.5 * G * fall**2) * PPM)[:, None]
    (j,) = analyze(t, lm, fps).jumps
    assert j.jump_type == "cmj"
    assert abs(j.metrics["flight_time_s"].value - truth.metrics["flight_time_s"]) < 0.017


def test_a_drop_is_timed_from_the_whole_fall_when_the_trunk_lags_near_the_floor() -> None:
    """A pose model may draw the trunk lagging in the last frames of a fall (the legs
    prepare, a partner hides the hips): the fall from rest at the stance level still times
    the leave from the other falling frames, and the fall time agrees with the box."""
    t, lm, truth = series("drop_jump", 60)
    contact = truth.events["contact_start_s"]
    late = (t > contact - 0.04) & (t < contact)  # the last two frames of the fall
    assert late.sum() == 2
    lagged = lm.copy()
    lagged[np.ix_(late, list(TRUNK), [1])] -= 0.06 * PPM  # drawn 6 cm high
    body = build_body(t, lagged, 60)
    (fl,) = find_flights(body)[0]
    drop = find_drop(body, fl, 0, fl.ppm()[0])
    assert drop is not None
    assert abs(drop.leave - truth.events["box_leave_s"]) < 0.005


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")  # as analyze() does
@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
def test_feet_drawn_below_the_floor_as_the_person_is_found_do_not_hide_the_stance() -> None:
    """A pose model that has just found the athlete (a small figure behind a bystander, first
    seen 0.3 s before takeoff) draws the feet 50 px below the floor for 50 ms while the trunk
    is where it stands. That is not the floor the feet left (a foot gets further from its
    level only with the body): the stance before the takeoff is still found."""
    fps = 240
    t, lm, truth = series("cmj", fps)
    takeoff = truth.events["takeoff_s"]
    first = int(np.searchsorted(t, takeoff - 0.3))
    lm[:first] = np.nan
    off = slice(first, first + int(0.05 * fps))
    lm[off, list(HEEL_TOE), 1] += 50.0
    body = build_body(t, lm, fps)
    flights, _ = find_flights(body)
    (fl,) = flights
    assert abs(fl.takeoff - takeoff) < 0.004
    assert abs(fl.landing - truth.events["landing_s"]) < 0.004


def test_a_foot_that_stays_on_the_ground_through_a_flight_is_no_flight() -> None:
    """A pose model that blends two people can lift one foot and the trunk for a few frames
    (a 5 cm "jump" in a clip without one). Nobody was in the air where a trusted foot point
    stays on its level through those frames, even if it is drawn in the air at the apex."""
    fps = 30
    t, lm, _ = series("cmj", fps)
    body = build_body(t, lm, fps)
    (fl,) = find_flights(body)[0]
    contacts = [*fl.takeoff_contacts, *fl.landing_contacts]
    assert _on_the_ground_inside(body, contacts, fl.takeoff, fl.landing) == ""
    left = [k for k in HEEL_TOE if body.side_of(k) == "left"]
    inside = np.flatnonzero((t > fl.takeoff) & (t < fl.landing))
    glued = lm.copy()
    glued[np.ix_(inside, left, [1])] = lm[inside[0] - 3, left, 1][None, :, None]  # never leaves
    apex = inside[len(inside) // 2]
    glued[apex, left, 1] = lm[apex, left, 1]  # ... but is drawn in the air at the apex
    why = _on_the_ground_inside(build_body(t, glued, fps), contacts, fl.takeoff, fl.landing)
    assert "stays on the ground" in why


def test_feet_drawn_higher_for_a_moment_after_touchdown_do_not_hide_the_landing() -> None:
    """As the body crouches after landing, a pose model can draw the planted feet a few px
    higher for a few frames (a still stretch above the floor they reached). The floor is
    where they touched: the jump is found (before, it was "no jump"), and the landing is
    timed within a frame (those frames, inside the sub-frame fit's window, pull it about
    half a frame early)."""
    fps = 50
    t, lm, truth = series("cmj", fps)
    landing = truth.events["landing_s"]
    i = int(np.searchsorted(t, landing)) + 3
    lm[i : i + 4, list(HEEL_TOE), 1] -= 12.0  # 4 % of the flight's rise: above the noise
    flights, _ = find_flights(build_body(t, lm, fps))
    (fl,) = flights
    assert abs(fl.takeoff - truth.events["takeoff_s"]) < 0.004
    assert abs(fl.landing - landing) < 1 / fps


def test_a_body_not_pushed_up_into_its_flight_did_not_take_off(monkeypatch) -> None:
    """A pose model can draw a standing person's feet and body up and down along a parabola
    for a few frames (a small athlete, a blend with a partner). Leaving the floor takes a
    push: the trunk rises before takeoff by at least g / (mean push acceleration) of the
    flight's rise. A body that was no lower before such a "flight" never took off; the same
    candidate passes every other check."""
    fps = 30
    t, lm, truth = series("none", fps, standing_s=2.0)
    assert truth["jumps"] == []
    t0, dur = 1.0, 0.35
    s = np.clip(t - t0, 0.0, dur)
    lifted = lm.copy()
    lifted[:, :, 1] -= (PPM * G / 2 * s * (dur - s))[:, None]  # the whole body, no push
    flights, refused = find_flights(build_body(t, lifted, fps))
    assert flights == [] and any("not pushed up into the flight" in r for r in refused)
    monkeypatch.setattr("kinemotion_cli.jumps.flight.MAX_PUSH_G", float("inf"))
    (fl,) = find_flights(build_body(t, lifted, fps))[0]
    assert abs(fl.takeoff - t0) < 1 / fps and abs(fl.landing - (t0 + dur)) < 1 / fps


@pytest.mark.parametrize("fps", [30, 60, 120])
def test_trunk_frames_drawn_off_the_path_in_the_air_do_not_bend_the_flight(fps: int) -> None:
    """A pose model can draw the trunk far off the body's path for a few frames in the air
    (a blend with somebody beside the jumper). The flight is one parabola: those frames are
    left out of it, so the takeoff and landing re-timed on it stay exact (a least-squares
    parabola through them, 40 px low over 0.1 s, put the takeoff 17-19 ms early) and the
    curvature is g at the body's scale."""
    t, lm, truth = series("cmj", fps)
    takeoff, landing = truth.events["takeoff_s"], truth.events["landing_s"]
    clean = find_flights(build_body(t, lm, fps))[0][0]
    blend = lm.copy()
    middle = np.flatnonzero(np.abs(t - (takeoff + landing) / 2) <= 0.05)
    blend[np.ix_(middle, list(TRUNK), [1])] += 40.0
    (fl,) = find_flights(build_body(t, blend, fps))[0]
    assert abs(fl.takeoff - takeoff) < EXACT_S and abs(fl.landing - landing) < EXACT_S
    assert fl.trunk.a == pytest.approx(clean.trunk.a, rel=1e-6)
    assert fl.trunk.n == clean.trunk.n - len(middle)
