"""closer_look.py: a small athlete whose whole frame shows no jump is measured again on one
fixed crop around them; the real CLI on generated wide videos with a small athlete."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kinemotion_cli import closer_look, second_look
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.landmarks import bbox
from kinemotion_cli.subject import AMBIGUOUS
from tests.conftest import match_jumps, render_once, run_kmo, truth_jumps, truth_of
from tests.landmark_series import series

T, LM, _ = series("cmj", 60)


def _people(shrink: float, at: tuple[float, float]) -> list[list[np.ndarray]]:
    """The cmj series drawn ``shrink`` times its size with its top-left corner at ``at``."""
    out = []
    for p in LM:
        q = p.copy()
        q[:, :2] = q[:, :2] * shrink + np.array(at)
        out.append([q])
    return out


def test_only_no_jump_or_untracked_parts_are_retried() -> None:
    assert closer_look.worth_retrying(KmoError("no jump found", ExitCode.NO_JUMP))
    assert closer_look.worth_retrying(KmoError("feet outside", ExitCode.NOT_MEASURABLE))
    assert not closer_look.worth_retrying(KmoError(AMBIGUOUS, ExitCode.NOT_MEASURABLE))
    assert not closer_look.worth_retrying(KmoError("no such file", ExitCode.BAD_INPUT))
    assert not closer_look.worth_retrying(None)


def test_the_crop_is_a_square_around_everywhere_the_athlete_was_with_room_to_jump() -> None:
    people = _people(0.25, (900.0, 300.0))
    box = closer_look.region(people, T, (), 1920, 1080)
    assert box is not None
    x0, y0, x1, y1 = box
    assert x1 - x0 == pytest.approx(y1 - y0, abs=1)  # square: the detector's input is
    assert 0 <= x0 < x1 <= 1920 and 0 <= y0 < y1 <= 1080
    boxes = np.array([bbox(p[0]) for p in people])
    body = np.median(boxes[:, 3] - boxes[:, 1])
    assert x0 <= boxes[:, 0].min() and boxes[:, 2].max() <= x1
    assert y0 <= boxes[:, 1].min() - 0.5 * body  # room above the highest point of the flight
    assert boxes[:, 3].max() <= y1
    assert y1 - y0 < closer_look.MAX_SHARE * 1920


def test_no_crop_for_an_athlete_who_fills_the_picture_or_nobody() -> None:
    assert closer_look.region(_people(1.0, (-240.0, 0.0)), T, (), 600, 1000) is None
    assert closer_look.region([[] for _ in T], T, (), 1920, 1080) is None


def test_a_crop_near_the_edge_stays_inside_the_picture() -> None:
    box = closer_look.region(_people(0.25, (1700.0, 0.0)), T, (), 1920, 1080)
    assert box is not None
    assert box[0] >= 0 and box[1] == 0 and box[2] == 1920 and box[3] <= 1080


def test_crop_maps_video_pixels_to_the_decoded_frame_and_back() -> None:
    image = np.arange(200 * 300 * 3, dtype=np.uint32).reshape(200, 300, 3)
    part = second_look.crop(image, 2.0, np.array([100.0, 60.0, 300.0, 260.0]))
    assert (part.x0, part.y0) == (50, 30)  # video px / 2: the frame was decoded at half size
    assert part.image.shape == (100, 100, 3) and part.image.flags.c_contiguous
    assert np.array_equal(part.image, image[30:130, 50:150])
    person = np.array([[10.0, 20.0, 0.9]] * 26)  # found at (10, 20) in the part
    np.testing.assert_array_equal(
        second_look.to_video(person, (part.x0, part.y0), 2.0)[0], [120.0, 100.0, 0.9]
    )
    assert second_look.crop(image, 2.0, np.array([0.0, 0.0, 20.0, 400.0])) is None  # 10 px


# --------------------------------------------------------------------------- the real CLI

SMALL = dict(source="back", fps=30.0, width=1280, height=720, fit="contain")


def _analyze(path) -> tuple[int, dict]:
    proc = run_kmo("analyze", str(path), "--json")
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.e2e
def test_a_small_athlete_in_a_wide_picture_is_measured_on_a_crop(gt_dir) -> None:
    """A drop jump seen from the front in a 1280x720 picture, the athlete about 300 px tall:
    on the whole frame the trunk's path in the air is no parabola (exit 3 before the closer
    look); on the crop the drop jump is timed within the 60 fps bounds."""
    path = render_once(
        gt_dir, "small_dj_60", jump="dj", **{**SMALL, "fps": 60.0, "source": "front"}
    )
    code, out = _analyze(path)
    assert code == 0, out
    crop = out["subject"]["closer_look_crop_px"]
    assert crop is not None and crop[2] - crop[0] < 0.6 * 1280
    assert any("crop around them" in w for w in out["quality"]["warnings"])
    ((tj, j),) = match_jumps(out["jumps"], truth_jumps(truth_of(path)))
    assert j is not None and j["jump_type"] == "drop_jump"
    err = j["metrics"]["flight_time_s"] - tj["metrics"]["flight_time_s"]
    assert abs(err) <= 0.008, f"flight time error {err * 1000:.1f} ms"
    for ev in ("takeoff_s", "landing_s"):
        assert abs(j["events"][ev] - tj["events"][ev]) <= 0.008
    gct = j["metrics"]["ground_contact_time_s"] - tj["metrics"]["ground_contact_time_s"]
    assert abs(gct) <= 1 / 60, f"contact time error {gct * 1000:.1f} ms"


@pytest.mark.e2e
def test_a_small_athlete_who_does_not_jump_is_still_no_jump(gt_dir) -> None:
    """The retry finds no jump either: "no jump", saying a crop was tried; the progress
    went on over the second pass (twice the frames, counted to the end)."""
    from kinemotion_cli.pipeline import PoseSpec, run

    path = render_once(gt_dir, "small_none_30", jump="none", **SMALL)
    seen: list[tuple[int, int | None]] = []
    (m,) = run(str(path), [PoseSpec("mediapipe")], progress=lambda d, n: seen.append((d, n)))
    assert m.error is not None and m.error.code == ExitCode.NO_JUMP
    assert "crop around them showed no more" in m.error.message
    frames = len(m.decode.times)
    assert seen[frames - 1] == (frames, frames)  # the first pass
    assert seen[frames:] == [(frames + k, 2 * frames) for k in range(1, frames + 1)]
