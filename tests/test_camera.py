"""camera.py: camera motion measured on the background, and removed from the landmarks.

A known pan, tilt, rotation and zoom is applied (``cv2.warpAffine``) to the decoded frames of
a sample video; the tracker must recover it: ``to_first`` maps each frame back to the first
one within a pixel.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kinemotion_cli.camera import (
    MAX_HOLE_S,
    TRACK_WIDTH,
    CameraMotion,
    CameraTracker,
    stabilize,
)
from kinemotion_cli.jumps import analyze
from kinemotion_cli.video import decode, probe
from tests.conftest import SAMPLE, static_camera
from tests.landmark_series import series

pytestmark = pytest.mark.xdist_group("camera")  # the decoded sample frames are shared

N = 120  # frames used (2 s at 60 fps: standing, countermovement and takeoff)
CROP = (60, 80)  # px cut from each side (x, y) so the warped borders never show


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    out = []
    for f in decode(str(SAMPLE), probe(str(SAMPLE))):
        out.append(f.image)
        if len(out) == N:
            break
    return out


@pytest.fixture(scope="module")
def person_box(frames) -> np.ndarray:
    """Where the jumper moves over the clip (video px): everything that changes."""
    ref = frames[0].astype(np.int16)
    moving = np.zeros(ref.shape[:2], bool)
    for img in frames[1:]:
        moving |= np.abs(img.astype(np.int16) - ref).max(axis=2) > 40  # not codec noise
    ys, xs = np.nonzero(moving)
    return np.array([xs.min(), ys.min(), xs.max(), ys.max()], float)


def _camera(i: int, shape: tuple[int, int]) -> np.ndarray:
    """3x3: first-frame scene px -> where frame i shows them (pan, tilt, rotation, zoom)."""
    h, w = shape
    s = i / (N - 1)
    dx, dy = 40 * math.sin(math.pi * s), -25 * s  # a pan there and back, a steady tilt
    th, zoom = math.radians(1.5 * s), 1 + 0.03 * s
    c, cx, cy = np.eye(3), w / 2, h / 2
    c[:2, :2] = zoom * np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    c[:2, 2] = [cx + dx, cy + dy]
    return c @ np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])


def _film(frames, box, hidden=range(0), skipped=()):  # noqa: ANN001, ANN202
    """Feed warped, cropped frames to a tracker (``skipped`` ones: not looked at):
    (motion, true to_first (T, 2, 3))."""
    import cv2

    h, w = frames[0].shape[:2]
    ox, oy = CROP
    crop = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]], float)
    size = (w - 2 * ox, h - 2 * oy)
    tracker = CameraTracker(*size)
    truth = []
    m0 = crop @ _camera(0, (h, w))
    for i, img in enumerate(frames):
        m = crop @ _camera(i, (h, w))
        out = cv2.warpAffine(img, m[:2], size, flags=cv2.INTER_LINEAR)
        if i in hidden:
            out = np.full_like(out, 90)  # the background cannot be seen at all
        corners = np.array([[box[0], box[1], 1], [box[2], box[1], 1], [box[0], box[3], 1],
                            [box[2], box[3], 1]]).T  # fmt: skip
        seen = (m @ corners)[:2]
        person = np.array([*seen.min(axis=1), *seen.max(axis=1)])
        if i in skipped:
            tracker.skip()
        else:
            tracker.update(out, 1.0, [person])
        truth.append((m0 @ np.linalg.inv(m))[:2])
    return tracker.result(), np.array(truth)


def _max_error(motion: CameraMotion, truth: np.ndarray, size: tuple[int, int]) -> float:
    w, h = size
    grid = np.array([[x, y, 1.0] for x in np.linspace(0, w, 7) for y in np.linspace(0, h, 9)]).T
    got = np.einsum("tij,jk->tik", motion.to_first, grid)
    want = np.einsum("tij,jk->tik", truth, grid)
    return float(np.abs(got - want)[motion.known].max())


def test_known_pan_tilt_rotation_zoom_is_recovered(frames, person_box) -> None:
    motion, truth = _film(frames, person_box)
    h, w = frames[0].shape[:2]
    size = (w - 2 * CROP[0], h - 2 * CROP[1])
    assert motion.status == "compensated" and motion.reason is None and motion.applied
    assert motion.known.all()
    assert _max_error(motion, truth, size) < 1.0  # px, anywhere in the frame, every frame
    assert motion.max_rotation_deg == pytest.approx(1.5, abs=0.1)
    assert motion.max_zoom == pytest.approx(0.03, abs=0.003)
    assert motion.max_shift_px > 40
    np.testing.assert_allclose(motion.to_first[0], np.eye(3)[:2], atol=1e-9)


def test_frames_not_looked_at_are_interpolated_between_tracked_ones(frames, person_box) -> None:
    """The sparse schedule skips the frames it fills: their motion is interpolated between
    the tracked frames on each side; skipped frames at the end have no such pair."""
    n = len(frames)
    skipped = {i for i in range(1, n) if i % 4} | set(range(n - 3, n))
    motion, truth = _film(frames, person_box, skipped=skipped)
    h, w = frames[0].shape[:2]
    size = (w - 2 * CROP[0], h - 2 * CROP[1])
    assert motion.status == "partly compensated"  # the last frames: unknown
    assert motion.known[: n - 3].all() and not motion.known[n - 3 :].any()
    assert _max_error(motion, truth, size) < 1.5  # px: a smooth pan between tracked frames


def test_a_static_camera_is_static(frames, person_box) -> None:
    tracker = CameraTracker(frames[0].shape[1], frames[0].shape[0])
    for img in frames:
        tracker.update(img, 1.0, [person_box])
    motion = tracker.result()
    assert motion.status == "static" and not motion.applied
    assert motion.max_shift_px < 1.0 and motion.known.all()


def test_frames_fed_at_reduced_size_are_measured_in_video_pixels(frames, person_box) -> None:
    import cv2

    tracker = CameraTracker(frames[0].shape[1], frames[0].shape[0], 2.0)
    for i, img in enumerate(frames[:40]):
        m = np.float32([[1, 0, 0.5 * i], [0, 1, 0]])  # 0.5 video px per frame to the right
        moved = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REFLECT)
        small = cv2.resize(moved, (img.shape[1] // 2, img.shape[0] // 2), cv2.INTER_AREA)
        tracker.update(small, 2.0, [person_box])
    motion = tracker.result()
    shift = motion.to_first[:, 0, 2]  # frame i's pixels -> first frame's: x - 0.5 i
    np.testing.assert_allclose(shift, -0.5 * np.arange(40), atol=0.5)


@pytest.mark.parametrize(
    ("video", "scale"), [((1080, 1920), 1.0), ((1080, 1920), 1.5), ((1920, 1080), 1.5)]
)
def test_decoded_frames_are_shrunk_by_a_whole_factor_to_track(video, scale) -> None:
    """Area averaging by a fraction is ~20 times slower: whatever size the frames are
    decoded at, the tracker shrinks them by a whole number, to about TRACK_WIDTH."""
    w, h = round(video[0] / scale), round(video[1] / scale)
    tracker = CameraTracker(*video, scale)
    gray = tracker._gray(np.zeros((h, w, 3), np.uint8), scale)
    factor = w // gray.shape[1]  # the last < factor px rows and columns are left out
    assert (w // factor, h // factor) == (gray.shape[1], gray.shape[0])
    assert 0.5 * TRACK_WIDTH < gray.shape[1] < 1.5 * TRACK_WIDTH
    assert tracker.k == pytest.approx(1 / (factor * scale))  # video px -> tracking px


def test_no_background_is_not_measurable() -> None:
    tracker = CameraTracker(320, 240)
    for _ in range(10):
        tracker.update(np.full((240, 320, 3), 128, np.uint8), 1.0, [])
    motion = tracker.result()
    assert motion.status == "not measurable" and not motion.applied
    assert "still background" in motion.reason and not motion.known.any()


def test_background_hidden_for_a_while_is_partly_compensated(frames, person_box) -> None:
    motion, truth = _film(frames, person_box, hidden=range(50, 60))
    assert motion.status == "partly compensated" and motion.applied
    assert "unknown in 10 frame(s)" in motion.reason
    assert not motion.known[50:60].any() and motion.known[:50].all()
    h, w = frames[0].shape[:2]
    size = (w - 2 * CROP[0], h - 2 * CROP[1])
    before = motion.known.copy()
    before[50:] = False
    assert _max_error(_only(motion, before), truth, size) < 1.0
    # after the gap the background is found again, but how the camera moved while it was
    # hidden is unknown: the error is at most that motion (hence "partly compensated")
    lost = _max_error(_only(motion, np.arange(N) == 49), truth[[60] * N], size)
    after = motion.known.copy()
    after[:60] = False
    assert _max_error(_only(motion, after), truth, size) <= lost + 1.0


def test_an_edit_starts_a_new_shot_a_fast_pan_does_not(frames, person_box) -> None:
    """Cut from the clip to the same frames mirrored and zoomed (another view of the room),
    and back: two new shots, each in its own coordinates, the camera static in each. A pan
    of 3 % of the frame width per frame (the background tracked throughout) is no cut."""
    import cv2

    h, w = frames[0].shape[:2]
    other = [cv2.resize(cv2.flip(f, 1)[h // 6 : -h // 6, w // 6 : -w // 6], (w, h)) for f in frames]
    tracker = CameraTracker(w, h)
    for i, img in enumerate(frames[:60]):
        tracker.update(other[i] if 20 <= i < 40 else img, 1.0, [person_box])
    motion = tracker.result()
    assert motion.cuts == (20, 40)
    assert motion.known.all() and motion.status == "static" and motion.reason is None
    motion, _ = _film(frames, person_box)  # pan, tilt, rotation and zoom
    assert motion.cuts == ()
    tracker = CameraTracker(w, h)
    for i, img in enumerate(frames[:30]):
        m = np.float32([[1, 0, 0.03 * w * i], [0, 1, 0]])
        tracker.update(cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT), 1.0, [])
    assert tracker.result().cuts == ()


def _only(motion: CameraMotion, frames: np.ndarray) -> CameraMotion:
    import dataclasses

    return dataclasses.replace(motion, known=motion.known & frames)


# --------------------------------------------------------------------------- stabilize


def _moving_camera(n: int, times: np.ndarray) -> np.ndarray:
    """(n, 3, 3): first-frame px -> frame i px."""
    out = np.empty((n, 3, 3))
    for i, t in enumerate(times):
        th, z = math.radians(2 * math.sin(t)), 1 + 0.05 * t
        out[i] = [
            [z * math.cos(th), -z * math.sin(th), 30 * t],
            [z * math.sin(th), z * math.cos(th), -20 * t],
            [0, 0, 1],
        ]
    return out


def test_stabilize_round_trip_on_landmarks() -> None:
    t, lm, _ = series("cmj", 60)
    cam = _moving_camera(len(t), t)
    seen = lm.copy()
    seen[..., :2] = np.einsum("tij,tkj->tki", cam[:, :2, :2], lm[..., :2]) + cam[:, None, :2, 2]
    to_first = np.linalg.inv(cam)[:, :2]
    motion = CameraMotion(to_first, np.ones(len(t), bool), "compensated", None, 50.0, 2.0, 0.1)
    back = stabilize(seen, motion, t)
    np.testing.assert_allclose(back, lm, atol=1e-9)  # positions back, scores untouched
    assert not np.shares_memory(back, seen)
    # a static camera changes nothing
    np.testing.assert_array_equal(stabilize(seen, static_camera(len(t)), t), seen)


def test_stabilize_bridges_short_holes_and_drops_long_ones() -> None:
    n, fps = 120, 60.0
    t = np.arange(n) / fps
    shift = 2.0 * np.arange(n)  # the image moves 2 px per frame to the right
    to_first = np.tile(np.eye(3)[:2], (n, 1, 1))
    to_first[:, 0, 2] = -shift
    known = np.ones(n, bool)
    short = slice(20, 20 + int(MAX_HOLE_S * fps) - 2)  # 0.17 s: bridged
    long = slice(60, 60 + int(MAX_HOLE_S * fps) + 4)  # 0.27 s: dropped
    known[short] = known[long] = False
    to_first[short, 0, 2] = to_first[long, 0, 2] = 0.0  # unknown: the tracker's last guess
    motion = CameraMotion(to_first, known, "partly compensated", "x", 240.0, 0.0, 0.0)
    lm = np.zeros((n, 1, 3))
    lm[:, 0, 0] = 100 + shift  # a still point of the scene, seen moving with the image
    lm[:, 0, 2] = 0.9
    out = stabilize(lm, motion, t)
    np.testing.assert_allclose(out[short, 0, 0], 100.0, atol=1e-9)  # interpolated transform
    assert np.isnan(out[long, 0, :2]).all() and (out[long, 0, 2] == 0.9).all()
    keep = np.ones(n, bool)
    keep[long] = False
    np.testing.assert_allclose(out[keep, 0, 0], 100.0, atol=1e-9)


def test_handheld_series_measured_after_stabilizing() -> None:
    """The series' hand-held camera removed with its true affines: the jump comes back."""
    t, lm, truth = series("cmj", 60, camera_motion="handheld", seed=4)
    aff = np.array(truth["per_frame"]["camera_affine"]).reshape(-1, 2, 3)
    a3 = np.concatenate([aff, np.tile([[[0.0, 0.0, 1.0]]], (len(aff), 1, 1))], axis=1)
    to_first = (a3[0] @ np.linalg.inv(a3))[:, :2]
    motion = CameraMotion(to_first, np.ones(len(t), bool), "compensated", None, 30.0, 1.0, 0.02)
    (j,) = analyze(t, stabilize(lm, motion, t), 60).jumps
    for key in ("takeoff_s", "landing_s"):
        assert abs(j.events[key].value - truth.events[key]) < 0.001
