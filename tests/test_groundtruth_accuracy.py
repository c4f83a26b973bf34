"""The accuracy runner's matching, error and pass/fail logic on hand-made kmo JSON."""

from __future__ import annotations

import pytest

from tests.groundtruth.accuracy import (
    evaluate_case,
    jump_checks,
    jump_errors,
    match_jumps,
    normalize_kmo,
    render_markdown,
    summarize,
)
from tests.groundtruth.cases import CASES, case_tags


def _tj(kind: str, to: float, ld: float, **metrics) -> dict:
    ev = {"takeoff_s": to, "landing_s": ld}
    if kind in ("rebound", "drop_jump"):
        ev["contact_start_s"] = to - metrics.get("ground_contact_time_s", 0.2)
    me = {"flight_time_s": ld - to, "jump_height_m": 9.81 * (ld - to) ** 2 / 8, **metrics}
    return {"jump_type": kind, "events": ev, "metrics": me}


def _truth(jumps: list[dict], fps: float = 60.0) -> dict:
    return {"fps": fps, "spec": {"fps": fps}, "jumps": jumps}


def _kmo2(jumps: list[dict], exit_code: int = 0) -> dict:
    return {"schema_version": 2, "status": "ok", "exit_code": exit_code, "jumps": jumps}


def test_normalize_schema_1_and_2_and_errors() -> None:
    s1 = {
        "schema_version": 1,
        "status": "ok",
        "jump_type": "cmj",
        "events": {"takeoff_s": 1.0, "landing_s": 1.5, "movement_start_s": None},
        "metrics": {"flight_time_s": 0.5},
    }
    n1 = normalize_kmo(s1, 0)
    assert n1["exit_code"] == 0 and len(n1["jumps"]) == 1
    assert n1["jumps"][0]["events"] == {"takeoff_s": 1.0, "landing_s": 1.5}  # nulls dropped
    n2 = normalize_kmo(_kmo2([{"jump_type": "rebound", "events": {"takeoff_s": 2.0},
                               "metrics": {"flight_time_s": None}}]), 0)  # fmt: skip
    assert n2["jumps"][0]["jump_type"] == "rebound" and n2["jumps"][0]["metrics"] == {}
    err = normalize_kmo({"schema_version": 1, "status": "error", "error": "no jump"}, 3)
    assert err["exit_code"] == 3 and err["jumps"] == [] and err["error"] == "no jump"
    assert normalize_kmo(None, 1)["jumps"] == []


def test_matching_nearest_takeoff_one_to_one() -> None:
    truth = [_tj("cmj", 1.0, 1.5), _tj("rebound", 1.7, 2.1), _tj("rebound", 2.3, 2.8)]
    kmo = [
        {"jump_type": "cmj", "events": {"takeoff_s": 1.71}, "metrics": {}},  # nearest to #2
        {"jump_type": "cmj", "events": {"takeoff_s": 1.02}, "metrics": {}},
        {"jump_type": "cmj", "events": {"takeoff_s": 3.0}, "metrics": {}},  # > 0.25 s: extra
        {"jump_type": "cmj", "events": {"takeoff_s": 1.05}, "metrics": {}},  # #1 taken: extra
    ]
    pairs, missed, extra = match_jumps(truth, kmo)
    assert pairs == [(0, 1), (1, 0)]
    assert missed == [2] and extra == [2, 3]
    # a truth jump without a takeoff in view is neither matched nor missed
    partial = [{"jump_type": "cmj", "events": {"landing_s": 0.3}, "metrics": {}}]
    assert match_jumps(partial, kmo) == ([], [], [0, 1, 2, 3])


def test_errors_units_and_bounds() -> None:
    t = _tj("rebound", 2.0, 2.45, ground_contact_time_s=0.2)
    t["metrics"]["rsi_flight_over_contact"] = 0.45 / 0.2
    k = {
        "jump_type": "rebound",
        "events": {"takeoff_s": 2.004, "landing_s": 2.447, "contact_start_s": 1.79},
        "metrics": {"flight_time_s": 0.443, "jump_height_m": t["metrics"]["jump_height_m"] - 0.012,
                    "ground_contact_time_s": 0.214, "rsi_flight_over_contact": 2.0,
                    "only_kmo_s": 1.0},
    }  # fmt: skip
    e = jump_errors(t, k)
    assert e["takeoff_s"] == pytest.approx(4.0)  # ms
    assert e["flight_time_s"] == pytest.approx(-7.0)
    assert e["jump_height_m"] == pytest.approx(-1.2)  # cm
    assert e["contact_start_s"] == pytest.approx(-10.0)
    assert e["rsi_flight_over_contact"] == pytest.approx(2.0 - 2.25)  # plain
    t["metrics"]["peak_concentric_velocity_m_s"] = 2.5
    k["metrics"]["peak_concentric_velocity_m_s"] = 2.4
    assert jump_errors(t, k)["peak_concentric_velocity_m_s"] == pytest.approx(-0.1)  # m/s
    assert "only_kmo_s" not in e
    c60 = jump_checks(60.0, t, k, e)
    assert c60 == {
        "found": True,
        "typed": True,
        "flight": True,
        "height": False,
        "contact": True,
    }  # fmt: skip  7 ms <= 8; 1.2 cm > 1; 14 ms <= 16.7
    c120 = jump_checks(120.0, t, k, e)
    assert c120["contact"] is False  # 14 ms > one frame at 120 fps
    c30 = jump_checks(30.0, t, k, e)
    assert c30["flight"] is True and c30["height"] is None  # 7 <= 16.7 ms; no height bound
    c25 = jump_checks(25.0, t, {**k, "jump_type": "drop_jump"}, {**e, "flight_time_s": 21.0})
    assert c25["flight"] is False and c25["typed"] is False  # 21 > 20 ms at 25 fps
    assert jump_checks(60.0, t, None, {})["found"] is False


def test_evaluate_case_pass_fail() -> None:
    truth = _truth([_tj("cmj", 1.0, 1.5), _tj("rebound", 1.7, 2.15, ground_contact_time_s=0.2)])
    good = _kmo2([
        {"jump_type": "cmj", "events": {"takeoff_s": 1.001, "landing_s": 1.503},
         "metrics": {"flight_time_s": 0.502, "jump_height_m": truth["jumps"][0]["metrics"][
             "jump_height_m"] + 0.004}},
        {"jump_type": "rebound", "events": {"takeoff_s": 1.702, "landing_s": 2.15,
                                            "contact_start_s": 1.503},
         "metrics": {"flight_time_s": 0.448, "ground_contact_time_s": 0.199,
                     "jump_height_m": 9.81 * 0.448**2 / 8}},
    ])  # fmt: skip
    r = evaluate_case("x", ["rebound"], truth, normalize_kmo(good, 0))
    assert r["pass"] and not r["missed"] and not r["extra"]
    assert r["rows"][1]["errors"]["ground_contact_time_s"] == pytest.approx(-1.0)
    # mistyped second jump -> fail; an extra jump -> fail
    bad = normalize_kmo(good, 0)
    bad["jumps"][1]["jump_type"] = "cmj"
    r2 = evaluate_case("x", [], truth, bad)
    assert not r2["pass"] and r2["rows"][1]["checks"]["typed"] is False
    more = normalize_kmo(good, 0)
    more["jumps"].append({"jump_type": "cmj", "events": {"takeoff_s": 3.0}, "metrics": {}})
    r3 = evaluate_case("x", [], truth, more)
    assert not r3["pass"] and r3["extra"][0]["takeoff_s"] == 3.0
    # measured but flagged low confidence (exit 7): still judged on the numbers
    low = normalize_kmo({**good, "exit_code": 7}, 7)
    r5 = evaluate_case("x", [], truth, low)
    assert r5["pass"] and r5["exit_code"] == 7
    # kmo refused: every jump missed, exit code kept
    r4 = evaluate_case("x", [], truth, normalize_kmo({"status": "error", "error": "e"}, 4))
    assert not r4["pass"] and r4["missed"] == [1, 2] and r4["exit_code"] == 4
    # no-jump clip: passes only with exit code 3
    none = _truth([])
    assert evaluate_case("n", [], none, normalize_kmo({"status": "error"}, 3))["pass"]
    assert not evaluate_case("n", [], none, normalize_kmo(good, 0))["pass"]


def test_summary_and_markdown() -> None:
    truth = _truth([_tj("cmj", 1.0, 1.5)], fps=30.0)
    k = normalize_kmo(_kmo2([{"jump_type": "cmj", "events": {"takeoff_s": 1.01, "landing_s": 1.52},
                              "metrics": {"flight_time_s": 0.51}}]), 0)  # fmt: skip
    k["inference"] = {"schedule": "sparse", "frames_inferred": 150, "frames_filled": 50,
                      "focus_crops": 140}  # fmt: skip
    r1 = evaluate_case("a", ["heel_rise"], truth, k)
    r2 = evaluate_case("b", ["heel_rise", "drift"], truth, normalize_kmo(None, 4))
    s = summarize([r1, r2])
    assert s["overall"]["jumps"] == 2 and s["overall"]["found"] == 1
    assert s["heel_rise"]["cases"] == 2 and s["drift"]["cases"] == 1
    assert s["overall"]["flight_time_s"]["median_abs"] == pytest.approx(10.0)
    assert s["overall"]["cases_passed"] == 1  # 10 ms <= 16.7 ms at 30 fps
    md = render_markdown([r1, r2], s, {"command": "c", "date": "d", "kmo_version": "v"})
    assert "| a | 1 | cmj / cmj | 0 | +10.0 | +20.0 | +10.0 |" in md
    assert "MISSED" in md and "| heel_rise | 1/2 | 1/2 | 1/2 | 0 | 10.0 / 10.0 |" in md
    assert md.count("| ok | PASS | 150/200 +140 |") == 1 and "| FAIL | – |" in md
    assert s["overall"]["frames_inferred"] == 150 and s["overall"]["frames_filled"] == 50
    assert "150 of 200 frames inferred (75 %), 50 filled" in md
    assert s["overall"]["focus_crops"] == 140 and "Focus inferred 140 frames again" in md


def test_errors_are_set_against_the_stated_uncertainty() -> None:
    """A takeoff 10 ms off with a stated sd of 2 ms is 5 sd out; a landing 20 ms off with
    20 ms stated is within 2 sd; the summary counts them and the report says so."""
    truth = _truth([_tj("cmj", 1.0, 1.5)], fps=30.0)
    jump = {"jump_type": "cmj", "events": {"takeoff_s": 1.01, "landing_s": 1.52},
            "metrics": {"flight_time_s": 0.51},
            "event_uncertainty_s": {"takeoff_s": 0.002, "landing_s": 0.02},
            "metric_details": {"flight_time_s": {"uncertainty": 0.0}}}  # fmt: skip
    r = evaluate_case("a", [], truth, normalize_kmo(_kmo2([jump]), 0))
    z = r["rows"][0]["error_in_sd"]
    assert z == pytest.approx({"takeoff_s": 5.0, "landing_s": 1.0})  # no flight sd stated
    cal = summarize([r])["overall"]["calibration"]
    assert cal["takeoff_s"] == {"n": 1, "within_2sd": 0, "median_abs": pytest.approx(5.0)}
    assert cal["landing_s"]["within_2sd"] == 1 and cal["flight_time_s"]["n"] == 0
    md = render_markdown([r], summarize([r]), {"command": "c", "date": "d"})
    assert "takeoff 0 of 1 (median |error| / sd 5.0); landing 1 of 1" in md


def test_cases_cover_every_scene_and_mechanism() -> None:
    assert len(CASES) >= 44
    sources = {kw.get("source", "front") for kw, _ in CASES.values()}
    assert sources == {"front", "back", "two_front_man", "two_front_woman", "two_oblique_man",
                       "two_oblique_woman"}  # fmt: skip
    keys = {k for kw, _ in CASES.values() for k in kw}
    for k in ("heel_rise_s", "tuck_m", "landing_shift_m", "drift_m", "steps", "camera_motion",
              "start_before_takeoff_s", "end_after_s", "hidden_leading_frames",
              "timestamp_jitter_ms", "more_jumps", "partner_offset_m"):  # fmt: skip
        assert k in keys, k
    fps = {kw.get("fps", 60.0) for kw, _ in CASES.values()}
    assert {25.0, 29.97, 30.0, 60.0, 120.0, 240.0} <= fps
    nojump = [n for n, (kw, _) in CASES.items() if kw["jump"] == "none"]
    assert len(nojump) >= 2 and any("steps" in CASES[n][0] for n in nojump)
    assert "fps_low" in case_tags("cmj_front_25")


def test_the_held_out_cases_are_drawn_once_from_a_fixed_seed_and_are_valid_specs() -> None:
    """``make accuracy-holdout``: the same cases every time (a fixed seed), another seed
    draws others; none is a named case; each is a valid Spec; together they mix scenes,
    frame rates and mechanisms."""
    from tests.groundtruth.cases import (
        HOLDOUT,
        HOLDOUT2,
        HOLDOUT3,
        HOLDOUT_SEED,
        case_spec,
        holdout_cases,
    )

    assert holdout_cases() == HOLDOUT and holdout_cases(HOLDOUT_SEED + 1) != HOLDOUT
    assert len(HOLDOUT) >= 20 and not set(HOLDOUT) & set(CASES)
    specs = [case_spec(n) for n in HOLDOUT]
    assert len({s.source for s in specs}) >= 5 and len({s.fps for s in specs}) >= 6
    assert {s.jump for s in specs} >= {"cmj", "dj", "sj"}
    assert all(case_tags(n)[0] == "holdout" for n in HOLDOUT)
    assert not set(HOLDOUT2) & (set(HOLDOUT) | set(CASES))
    assert [case_spec(n) for n in HOLDOUT2] != specs
    assert all(case_tags(n)[0] == "holdout2" for n in HOLDOUT2)
    assert not set(HOLDOUT3) & (set(HOLDOUT2) | set(HOLDOUT) | set(CASES))
    assert [case_spec(n) for n in HOLDOUT3] != [case_spec(n) for n in HOLDOUT2]
    assert all(case_tags(n)[0] == "holdout3" for n in HOLDOUT3)


def test_replay_noise_is_seeded_and_keeps_copied_landmarks_copies() -> None:
    """``replay --jitter``: the same seed gives the same noise, another seed other noise; a
    landmark the backend copied (BlazePose's one toe for Halpe's two) stays a copy."""
    import dataclasses

    import numpy as np

    from kinemotion_cli.pipeline import PoseRun, PoseSpec
    from tests.groundtruth.replay import jittered

    pose = np.column_stack([np.arange(26.0), np.arange(26.0) * 2, np.ones(26)])
    pose[21] = pose[20]  # a copy
    run = PoseRun(PoseSpec("mediapipe"), "ok", None, {}, None, ([pose], [pose, pose]), 0.0, 2)
    a, b, c = jittered(run, 0.3, 1), jittered(run, 0.3, 1), jittered(run, 0.3, 2)
    moved = a.people[0][0][:, :2] - pose[:, :2]
    assert 0.1 < float(np.std(moved)) < 0.6 and np.array_equal(a.people[0][0], b.people[0][0])
    assert not np.array_equal(a.people[0][0], c.people[0][0])
    assert np.array_equal(a.people[1][1][21], a.people[1][1][20])
    assert np.array_equal(a.people[0][0][:, 2], pose[:, 2])  # scores untouched
    assert jittered(run, 0.0, 1) is run and dataclasses.is_dataclass(a)
