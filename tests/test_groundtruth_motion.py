"""Physics of the multi-jump program (tests/groundtruth/motion.py build_program)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.groundtruth.motion import (
    ARM_BACK,
    ARM_COM,
    ARM_LANDING,
    ARM_SHARE,
    ARM_TAKEOFF,
    G,
    JumpDef,
    StepDef,
    build_motion,
    build_program,
)

PROGRAMS = {
    "cmj_tuck": ([JumpDef("cmj", 0.5, tuck_m=0.05)], {}),
    "sj": ([JumpDef("squat_jump", 0.45)], {}),
    "dj_rebounds": (
        [
            JumpDef("drop_jump", 0.45),
            JumpDef("rebound", 0.4, contact_s=0.2),
            JumpDef("rebound", 0.5, contact_s=0.25),
        ],
        {"shift_m": 0.3},
    ),
    "two_cmj_shift": (
        [JumpDef("cmj", 0.5), JumpDef("cmj", 0.45, gap_s=1.0, landing_shift_m=(0.05, 0.1))],
        {},
    ),
    "cmj_rebounds": (
        [
            JumpDef("cmj", 0.5),
            JumpDef("rebound", 0.35, contact_s=0.15),
            JumpDef("rebound", 0.45, contact_s=0.3),
        ],
        {},
    ),
}


@pytest.mark.parametrize("jump", ["cmj", "drop_jump", "squat_jump", "none"])
def test_single_jump_program_is_build_motion(jump: str) -> None:
    kw = {"shift_m": 0.3} if jump == "drop_jump" else {}
    old = build_motion(jump, flight_time=0.45, **kw)
    new = build_program([JumpDef(jump, 0.45)], **kw)
    assert new.events == old.events and new.metrics == old.metrics
    for t in np.linspace(0, old.end_s + 1, 3001):
        assert new.state(float(t)) == old.state(float(t))


@pytest.mark.parametrize("heel", [0.0, 0.06, 0.1])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_physics(name: str, heel: float) -> None:
    jumps, kw = PROGRAMS[name]
    p = build_program(jumps, heel_rise_s=heel, **kw)
    # hip C1 across every piece boundary
    for t0, _ in p.pieces[1:]:
        a, b = p.hip(t0 - 1e-9), p.hip(t0 + 1e-9)
        assert a[0] == pytest.approx(b[0], abs=1e-6) and a[1] == pytest.approx(b[1], abs=1e-4)
    tt = np.linspace(0, p.end_s + 0.5, 20001)
    s = np.array([p.full(float(t)) for t in tt])
    z, c, e = s[:, 0], s[:, 2], s[:, 5]
    assert c.max() <= 1e-9  # legs never longer than standing
    assert e.min() >= -1e-12
    toe = z - e
    for j in p.jumps:
        ev, me = j["events"], j["metrics"]
        to, ld = ev["takeoff_s"], ev["landing_s"]
        assert me["flight_time_s"] == pytest.approx(ld - to, abs=1e-12)
        assert me["jump_height_m"] == pytest.approx(G * (ld - to) ** 2 / 8)
        air = (tt > to + 1e-6) & (tt < ld - 1e-6)
        assert toe[air].min() > 0  # the toe is off the floor the whole flight
        assert p.toe(to) == pytest.approx(0, abs=1e-12)
        assert p.toe(ld) == pytest.approx(0, abs=1e-12)  # first contact = the toe at landing
        h0, v0 = p.hip(to)
        for t in np.linspace(to, ld, 41):  # one parabola with g
            tau = t - to
            assert p.hip(t)[0] == pytest.approx(h0 + v0 * tau - G * tau * tau / 2, abs=1e-9)
        # the toe leaves from rest when the heel rises first (ankle speed = body speed)
        before, after = p.full(to - 1e-7), p.full(to + 1e-7)
        toe_v = after[1] - after[6]
        if heel:
            assert abs(toe_v) < 1e-3 and before[1] == pytest.approx(v0, rel=1e-4)
            assert p.toe(to + 0.02) > 0  # ...and then accelerates up
        else:
            assert toe_v == pytest.approx(v0, rel=1e-6)
        if j["jump_type"] == "rebound":
            assert me["ground_contact_time_s"] == pytest.approx(to - ev["contact_start_s"])
            assert 0.1 < me["ground_contact_time_s"] < 0.35
        if heel:  # heel rise: toe planted, ankle up, before takeoff
            k = (tt > to - 0.02) & (tt < to)
            assert np.all(np.abs(toe[k]) < 1e-12) and np.all(e[k] > 0)
            k = (tt > ld) & (tt < ld + 0.01)  # toe-first landing, heel still up
            assert np.all(np.abs(toe[k]) < 1e-12) and np.all(e[k] > 0.01)
    # several jumps: the flight times differ
    fts = [j["metrics"]["flight_time_s"] for j in p.jumps]
    assert len(set(fts)) == len(fts)


def test_steps_and_drift_only_while_standing() -> None:
    steps = [StepDef(0.3, "left", 0.1), StepDef(3.4, "right", -0.08)]
    p = build_program([JumpDef("cmj", 0.5)], drift_m=(0.02, 0.1), steps=steps, end_standing_s=1.5)
    ev = p.events
    a, b = p.stance(ev["movement_start_s"]), p.stance(ev["landing_s"] + 0.5)
    assert a == b  # no drift or step while moving
    assert p.stance(0.0) != a
    lifts = [p.feet(t) for t in np.linspace(0, 6, 3001)]
    assert not any(lf[0][0] > 0 and lf[1][0] > 0 for lf in lifts)  # never both feet up
    assert max(lf[0][0] for lf in lifts) == pytest.approx(0.05, abs=1e-4)
    with pytest.raises(ValueError):
        build_program([JumpDef("cmj")], steps=[StepDef(1.2, "left")])


@pytest.mark.parametrize("hold", [1.0, 6.0])
def test_a_squat_jump_holds_the_squat_as_long_as_asked(hold: float) -> None:
    """The real clips include a squat held about 6 s: the hips stay still at the squat depth
    from the end of the descent (0.8 s) to the push-off."""
    p = build_program([JumpDef("squat_jump", 0.45, hold_s=hold)])
    ev = p.events
    assert ev["push_off_start_s"] - ev["movement_start_s"] == pytest.approx(0.8 + hold)
    tt = np.linspace(ev["movement_start_s"] + 0.8, ev["push_off_start_s"], 200)
    hips = np.array([p.hip(float(t)) for t in tt])
    np.testing.assert_allclose(hips[:, 0], -0.30, atol=1e-9)  # the default squat depth
    np.testing.assert_allclose(hips[:, 1], 0.0, atol=1e-9)


@pytest.mark.parametrize("heel", [0.0, 0.07])
def test_arm_swing_keeps_the_centre_of_mass_ballistic(heel: float) -> None:
    """Arms overhead at takeoff and coming down in flight lift the rest of the body off the
    centre of mass's parabola: the feet land later than without arm swing, the centre of mass
    (body + kappa (cos a - cos a_takeoff)) follows one parabola with g, the toes touch the
    floor exactly at the truth's takeoff and landing, the arms hang still outside the jump."""
    kappa = ARM_SHARE * ARM_COM * 1.75
    plain = build_program([JumpDef("cmj", 0.5)], heel_rise_s=heel)
    p = build_program([JumpDef("cmj", 0.5)], heel_rise_s=heel, arm_swing_m=kappa)
    assert "arm_swing" in p.mechanisms and not plain.arms
    ev, me = p.events, p.metrics
    to, ld = ev["takeoff_s"], ev["landing_s"]
    assert to == plain.events["takeoff_s"]
    ft = ld - to
    assert me["flight_time_s"] == pytest.approx(ft, abs=1e-12)
    assert me["jump_height_m"] == pytest.approx(G * ft * ft / 8)
    lift = kappa * (np.cos(ARM_LANDING) - np.cos(ARM_TAKEOFF))  # 4.5 cm
    v_land = G * ft - G * 0.5 / 2
    assert ft - 0.5 == pytest.approx(lift / v_land, rel=0.15)  # ~18 ms longer
    assert p.toe(to) == pytest.approx(0, abs=1e-12) and p.toe(ld) == pytest.approx(0, abs=1e-9)
    h0, v0 = p.hip(to)
    for t in np.linspace(to, ld, 41):
        tau = t - to
        com = p.hip(t)[0] - kappa * (np.cos(p.arm_angle(t)) - np.cos(ARM_TAKEOFF))
        assert com == pytest.approx(h0 + v0 * tau - G * tau * tau / 2, abs=1e-9)
        if to + 1e-6 < t < ld - 1e-6:
            assert p.toe(t) > 0
    for t0, _ in p.pieces[1:]:  # hip C1 across every piece boundary
        a, b = p.hip(t0 - 1e-9), p.hip(t0 + 1e-9)
        assert a[0] == pytest.approx(b[0], abs=1e-6) and a[1] == pytest.approx(b[1], abs=1e-4)
    assert p.arm_angle(ev["movement_start_s"] - 0.01) == 0.0
    t_back = ev["movement_start_s"] + 0.6 * (ev["lowest_point_s"] - ev["movement_start_s"])
    assert p.arm_angle(t_back) == pytest.approx(ARM_BACK)
    assert p.arm_angle(to) == pytest.approx(ARM_TAKEOFF)
    assert p.arm_angle(ld) == pytest.approx(ARM_LANDING)
    assert p.arm_angle(ld + 1.0) == 0.0
    tt = np.linspace(0, p.end_s, 8001)
    rate = np.diff([p.arm_angle(float(t)) for t in tt]) / np.diff(tt)
    assert np.abs(rate).max() < 16.0  # rad/s: a human arm swing, and no jump in the angle
