"""focus.py: the jumper inferred again on crops that follow them, and merged back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kinemotion_cli import focus
from tests.conftest import match_jumps, render_once, run_kmo, truth_jumps, truth_of


def _person(cx: float, top: float, height: float = 300.0, score: float = 0.9) -> np.ndarray:
    """A (26, 3) person: points spread over a ``height`` px tall, 0.3 as wide box."""
    k = np.arange(26)
    x = cx + (k % 5 - 2) * 0.075 * height
    y = top + k / 25 * height
    return np.column_stack([x, y, np.full(26, score)])


def _missing() -> np.ndarray:
    return np.full((26, 3), np.nan)


def test_a_crop_is_a_square_around_the_jumper_from_the_nearest_frame_within_reach() -> None:
    lm = np.stack([_person(500, 200)] * 3 + [_missing()] * 8 + [_person(520, 210)])
    crops = focus.boxes(lm, [], 1920, 1080)
    x0, y0, x1, y1 = crops[0]
    assert x1 - x0 == pytest.approx(focus.MARGIN * 300) == y1 - y0
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((500, 350))
    # frames the jumper was not seen in: the nearest pose up to REACH frames away
    np.testing.assert_array_equal(crops[3], crops[2])
    assert crops[2 + focus.REACH] is not None and crops[3 + focus.REACH] is None
    assert crops[11 - focus.REACH] is not None and crops[10 - focus.REACH] is None
    assert ((crops[11][0] + crops[11][2]) / 2) == pytest.approx(520)


def test_no_crop_on_filled_frames_and_crops_stay_inside_the_picture() -> None:
    lm = np.stack([_person(60, 20)] * 4)
    crops = focus.boxes(lm, [True, False, False, True], 1000, 800)
    assert crops[1] is None and crops[2] is None
    x0, y0, x1, y1 = crops[0]
    assert (x0, y0) == (0, 0) and x1 == pytest.approx(390) and y1 == pytest.approx(390)


def test_focus_is_worth_it_only_where_the_crops_are_much_smaller_than_the_picture() -> None:
    small = focus.boxes(np.stack([_person(500, 200)] * 5), [], 1920, 1080)
    assert focus.worth(small, 1920, 1080)
    large = focus.boxes(np.stack([_person(500, 100, height=1300)] * 5), [], 1080, 1920)
    assert not focus.worth(large, 1080, 1920)
    assert not focus.worth([None, None], 1920, 1080)


def test_the_jumper_is_replaced_and_the_partner_kept() -> None:
    jumper, partner = _person(500, 200), _person(1200, 180)
    people = [[partner, jumper], [partner, jumper]]
    lm = np.stack([jumper, jumper])
    better = jumper + [4.0, -3.0, 0.0]  # the crop draws the jumper a few px elsewhere
    on_crops = {0: [better], 1: [partner + [1.0, 0.0, 0.0]]}  # frame 1: only the partner
    out, n = focus.merge(people, lm, on_crops, [], np.array([0.0, 0.1]))
    assert n == 1
    np.testing.assert_array_equal(out[0][1], better)
    np.testing.assert_array_equal(out[0][0], partner)
    np.testing.assert_array_equal(out[1][1], jumper)  # the crop showed somebody else
    assert people[0][1] is jumper  # the input is not changed


def test_a_jumper_the_whole_frame_missed_is_added_from_the_crop() -> None:
    jumper, partner = _person(500, 200), _person(1200, 180)
    people = [[partner, jumper], [partner]]
    lm = np.stack([jumper, _missing()])
    found = jumper + [2.0, 5.0, 0.0]
    out, n = focus.merge(people, lm, {1: [found]}, [], np.array([0.0, 0.1]))
    assert n == 1 and len(out[1]) == 2
    np.testing.assert_array_equal(out[1][1], found)


def test_filled_frames_get_the_jumper_interpolated_in_time_between_the_new_ones() -> None:
    a, b = _person(500, 200), _person(500, 200)
    people = [[a], [a], [a], [b]]
    lm = np.stack([a, a, a, b])
    new_a, new_b = a + [0.0, 6.0, 0.0], b + [0.0, 12.0, 0.0]
    t = np.array([0.0, 0.05, 0.15, 0.2])  # uneven timestamps
    out, n = focus.merge(people, lm, {0: [new_a], 3: [new_b]}, [True, False, False, True], t)
    assert n == 2
    np.testing.assert_allclose(out[1][0][:, 1], a[:, 1] + 7.5)
    np.testing.assert_allclose(out[2][0][:, 1], a[:, 1] + 10.5)


# --------------------------------------------------------------------------- the real CLI


@pytest.mark.e2e
def test_a_jumper_beside_a_partner_is_timed_on_crops_that_follow_him(gt_dir) -> None:
    """The man of the two-people front view swings his arms and rises on his toes beside a
    partner: on the whole frame his feet were lost at takeoff (takeoff 28.5 ms late, exit
    7); on the crops the jump is timed within the 60 fps bounds. ``--no-focus`` skips it."""
    path = render_once(
        gt_dir, "focus_arms_heel_tf_man_60", jump="cmj", source="two_front_man",
        arm_swing=True, heel_rise_s=0.07, tuck_m=0.04,
    )  # fmt: skip
    proc = run_kmo("analyze", str(path), "--json")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    out = json.loads(proc.stdout)
    assert out["inference"]["focus_crops"] >= 0.9 * out["inference"]["frames_inferred"]
    ((tj, j),) = match_jumps(out["jumps"], truth_jumps(truth_of(path)))
    assert j is not None and j["jump_type"] == "cmj"
    for ev in ("takeoff_s", "landing_s"):
        assert abs(j["events"][ev] - tj["events"][ev]) <= 0.008, ev
    err = j["metrics"]["flight_time_s"] - tj["metrics"]["flight_time_s"]
    assert abs(err) <= 0.008, f"flight time error {err * 1000:.1f} ms"
    plain = json.loads(run_kmo("analyze", str(path), "--json", "--no-focus").stdout)
    assert plain["inference"]["focus_crops"] == 0
    assert plain["inference"]["frames_inferred"] == out["inference"]["frames_inferred"]
