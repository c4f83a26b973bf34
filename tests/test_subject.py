"""subject.py: following people across frames and choosing the jumper."""

from __future__ import annotations

import numpy as np
import pytest

from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.subject import Track, build_tracks, track_jumper
from tests.landmark_series import series


@pytest.fixture(scope="module")
def jumper() -> tuple[np.ndarray, np.ndarray]:
    t, lm, _ = series("cmj", 30)
    return t, lm


def _shifted(lm: np.ndarray, dx: float) -> np.ndarray:
    out = lm.copy()
    out[..., 0] += dx
    return out


def test_nobody_detected_is_not_measurable() -> None:
    times = np.arange(60) / 30
    with pytest.raises(KmoError) as exc:
        track_jumper([[] for _ in times], times)
    assert exc.value.code == ExitCode.NOT_MEASURABLE and "nobody" in exc.value.message


def test_two_people_jumping_alike_are_ambiguous(jumper) -> None:
    t, lm = jumper
    other = _shifted(lm, 300)
    with pytest.raises(KmoError) as exc:
        track_jumper([[lm[i], other[i]] for i in range(len(t))], t)
    assert exc.value.code == ExitCode.NOT_MEASURABLE and "ambiguous" in exc.value.message


def test_the_jumper_is_chosen_over_a_standing_bystander(jumper) -> None:
    t, lm = jumper
    still = _shifted(np.repeat(lm[:1], len(t), axis=0), 300)
    # the detector's order of people changes from frame to frame
    people = [[lm[i], still[i]] if i % 3 else [still[i], lm[i]] for i in range(len(t))]
    track = track_jumper(people, t)
    assert isinstance(track, Track)
    assert track.people_tracked == 2
    np.testing.assert_array_equal(track.landmarks, lm)  # the jumper, in every frame
    assert track.jumper_coverage == 1.0 and track.detection_rate == 1.0
    np.testing.assert_array_equal(track.times, t)


def test_coverage_and_detection_rate(jumper) -> None:
    t, lm = jumper
    n = len(t)
    people: list[list[np.ndarray]] = [[lm[i]] for i in range(n)]
    for i in range(10, 16):  # the jumper unseen for 0.2 s, then found again (same track)
        people[i] = []
    track = track_jumper(people, t)
    assert track.people_tracked == 1
    assert track.jumper_coverage == pytest.approx((n - 6) / n)
    assert track.detection_rate == pytest.approx((n - 6) / n)
    assert np.isnan(track.landmarks[10:16]).all()
    np.testing.assert_array_equal(track.landmarks[16:], lm[16:])
    assert track.subject() == {
        "people_tracked": 1,
        "jumper_coverage": round((n - 6) / n, 4),
        "detection_rate": round((n - 6) / n, 4),
    }


def test_brief_false_detections_are_not_people(jumper) -> None:
    t, lm = jumper
    ghost = _shifted(lm, -400)
    people = [[lm[i], ghost[i]] if i < 4 else [lm[i]] for i in range(len(t))]  # 4 frames only
    track = track_jumper(people, t)
    assert track.people_tracked == 1
    np.testing.assert_array_equal(track.landmarks, lm)


def test_tracks_follow_the_nearest_box_not_the_list_order(jumper) -> None:
    t, lm = jumper
    a, b = lm, _shifted(lm, 250)
    people = [[a[i], b[i]] if i % 2 else [b[i], a[i]] for i in range(len(t))]
    tracks = build_tracks(people, t)
    assert len(tracks) == 2
    for tr in tracks:
        xs = {round(float(p[0, 0] - lm[i, 0, 0])) for i, p in tr.frames.items()}
        assert xs in ({0}, {250})  # each track keeps one person


def test_a_person_gone_longer_than_max_age_starts_a_new_track(jumper) -> None:
    t, lm = jumper
    people = [[lm[i]] if not (20 <= i < 55) else [] for i in range(len(t))]  # gone 1.17 s
    assert len(build_tracks(people, t)) == 2
    people = [[lm[i]] if not (20 <= i < 45) else [] for i in range(len(t))]  # gone 0.83 s
    assert len(build_tracks(people, t)) == 1


def test_no_track_goes_on_across_a_cut(jumper) -> None:
    """After an edit whoever stands at the same place is somebody new."""
    t, lm = jumper
    people = [[lm[i]] for i in range(len(t))]
    assert len(build_tracks(people, t)) == 1
    tracks = build_tracks(people, t, cuts=(40,))
    assert [sorted(tr.frames)[0] for tr in tracks] == [0, 40]
    assert max(tracks[0].frames) == 39


def test_a_pose_drawn_twice_in_a_frame_is_one_person(jumper) -> None:
    """A pose model may report one person twice, a pixel apart: that is no second person,
    and the copy must not start a track that later takes the person over."""
    t, lm = jumper
    copy = _shifted(lm, 0.7)
    people = [[lm[i], copy[i]] if i % 4 == 1 else [lm[i]] for i in range(len(t))]
    tracks = build_tracks(people, t)
    assert len(tracks) == 1
    assert sorted(tracks[0].frames) == list(range(len(t)))


def test_a_person_beside_the_tracked_one_is_still_somebody_else(jumper) -> None:
    """Two people close together, sharing a few points (an arm over the other), are two."""
    t, lm = jumper
    other = _shifted(lm, 60)
    other[:, :3, :2] = lm[:, :3, :2]  # three points drawn on the first person
    tracks = build_tracks([[lm[i], other[i]] for i in range(len(t))], t)
    assert len(tracks) == 2
