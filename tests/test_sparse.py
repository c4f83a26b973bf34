"""sparse.py: which frames the pose model runs on, and how the others are filled."""

from __future__ import annotations

import numpy as np
import pytest

from kinemotion_cli import sparse
from kinemotion_cli.jumps.body import STILL_BODY_PER_S
from kinemotion_cli.landmarks import N_KEYPOINTS

BODY = 500.0  # px, the standing person's box height below


def person(dy: float = 0.0, dx: float = 0.0, score: float = 0.9) -> np.ndarray:
    """A standing person 500 px tall (points spread over the height), moved by dx, dy."""
    p = np.zeros((N_KEYPOINTS, 3))
    p[:, 0] = 500.0 + dx + 3.0 * np.arange(N_KEYPOINTS)
    p[:, 1] = 300.0 + dy + np.linspace(0.0, BODY, N_KEYPOINTS)
    p[:, 2] = score
    return p


@pytest.mark.parametrize(
    "fps,want",
    [(240, 4), (120, 4), (60, 4), (50, 3), (30.03, 2), (29.97, 2), (25, 2), (15, 1), (10, 1)],
)
def test_the_coarse_pass_infers_about_15_frames_a_second_and_at_least_every_4th(
    fps: float, want: int
) -> None:
    assert sparse.step(fps) == want


def test_people_standing_still_are_matched_even_in_another_order() -> None:
    a = [person(), person(dx=400)]
    b = [person(dx=401, dy=0.5), person(dy=-0.5)]
    assert sparse.pairs(a, b, 1 / 15) == [1, 0]


def test_a_point_moving_faster_than_a_planted_one_is_not_still() -> None:
    dt = 1 / 15
    limit_px = STILL_BODY_PER_S * BODY * dt  # 5 px in 1/15 s
    moved = person()
    moved[3, 1] += 1.1 * limit_px  # one point (e.g. a heel starting to rise)
    assert sparse.pairs([person()], [moved], dt) is None
    moved[3, 1] -= 0.2 * limit_px
    assert sparse.pairs([person()], [moved], dt) == [0]


@pytest.mark.parametrize(
    "a,b",
    [
        ([], []),  # nobody: nothing to say they stood still
        ([person()], [person(), person(dx=400)]),  # somebody came in
        ([person()], []),
    ],
)
def test_a_change_in_who_is_there_is_not_still(a: list, b: list) -> None:
    assert sparse.pairs(a, b, 1 / 15) is None


def test_a_point_shown_at_one_end_only_is_not_still() -> None:
    hidden = person()
    hidden[5, 2] = 0.1  # below the confidence every analysis uses
    assert sparse.pairs([person()], [hidden], 1 / 15) is None


def test_filled_people_lie_on_the_line_between_with_the_lower_score() -> None:
    a, b = [person()], [person(dy=4.0, score=0.6)]
    (mid,) = sparse.between(a, b, [0], 0.25)
    np.testing.assert_allclose(mid[:, 1], person(dy=1.0)[:, 1])
    np.testing.assert_allclose(mid[:, 0], a[0][:, 0])
    assert np.all(mid[:, 2] == 0.6)
    assert np.all(a[0][:, 1] == person()[:, 1])  # the inputs are not changed


def _schedule_on(path_px, fps: float = 60.0) -> tuple[sparse.Schedule, list[tuple]]:
    """Feed a schedule the coarse frames of a person whose height follows ``path_px(t)``
    (up, px); the filled intervals as (t0, t1)."""
    sch = sparse.Schedule(fps)
    filled = []
    n = int(3.0 * fps)
    for i in range(0, n, sch.step):
        t = i / fps
        fill = sch.fill(t, [[person(dy=-path_px(t))]])
        if fill is not None:
            filled.append((fill.t0, fill.t1))
    return sch, filled


def test_quiet_standing_is_filled_after_the_hold_and_not_before() -> None:
    _, filled = _schedule_on(lambda t: 0.0)
    step = 4 / 60
    assert filled[0][0] >= sparse.HOLD_S - 1e-9  # the clip's first quarter second inferred
    assert filled[0][0] < sparse.HOLD_S + step
    assert len(filled) == len(range(0, 180, 4)) - 1 - round(filled[0][0] / step)


def test_the_top_of_a_flight_is_inferred_although_the_body_is_nearly_still_there() -> None:
    """One g at the apex: over 1/15 s centred on it, the body moves (up then down) less than
    a planted point may; it is not filled because the body moved just before."""
    g_px = 9.81 * BODY / 1.75  # px/s^2 for a 1.75 m person 500 px tall
    t_to, t_apex = 1.5, 1.75

    def height(t: float) -> float:
        s = t - t_to
        return max(0.0, g_px * (t_apex - t_to) * s - 0.5 * g_px * s * s) if s < 0.5 else 0.0

    apex_move = 0.5 * g_px * (2 / 60) ** 2  # px from the apex to 2 frames either side
    assert apex_move < STILL_BODY_PER_S * BODY * 4 / 60  # still by the endpoints alone
    _, filled = _schedule_on(height)
    assert not [f for f in filled if f[1] > t_to and f[0] < 2.0 + sparse.HOLD_S]
