"""pipeline.py: one decode for every configuration, typed immutable stages, failures per
configuration. Pose backends are fakes registered in the backend registry: they answer each
frame with the landmarks of a known landmark series, so every later stage really runs."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from kinemotion_cli import pipeline, sparse
from kinemotion_cli.backends import BACKENDS, BackendOptions, BackendSpec
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.pipeline import Measured, PoseRun, PoseSpec, analyze_video, measure, run
from tests.conftest import SAMPLE, decode_report, static_camera
from tests.landmark_series import series

pytestmark = pytest.mark.xdist_group("pipeline")  # one two-configuration run serves several tests

CALLS: list[tuple[str, str, tuple]] = []  # (backend label, method, frame times)
_T, _LM, _TRUTH = series("cmj", 60)


class FakeBackend:
    """People of frame t: the cmj series' landmarks at t (scaled to the image given)."""

    name = "fake"

    def __init__(self, options: BackendOptions) -> None:
        if options.model == "broken":
            raise KmoError("fake: cannot load the model")
        if options.model == "crash":
            raise RuntimeError("segfault-like surprise")
        self.label = options.model or "fake"
        self.empty = options.mode == "empty"
        if options.batch > 1:
            self.batch = options.batch
            self.infer_batch = self._infer_batch
        self.info = {"backend": "fake", "model": self.label, "device_used": "cpu", "load_s": 0.5}
        self.closed = False
        self.seen: set[float] = set()

    def _people(self, image: np.ndarray, t: float) -> list[np.ndarray]:
        if self.empty:
            return []
        k = 540 / image.shape[1]  # image px per video px (the series is drawn 1080 wide)
        p = _LM[int(np.argmin(np.abs(_T - t)))].copy()
        p[:, :2] *= 0.5 / k
        return [p]

    def infer(self, image: np.ndarray, t: float) -> list[np.ndarray]:
        if t in self.seen:  # a second look at part of a frame: the whole one showed everybody
            CALLS.append((self.label, "look", (t,)))
            return []
        self.seen.add(t)
        CALLS.append((self.label, "infer", (t,)))
        return self._people(image, t)

    def _infer_batch(self, images: list, times: list) -> list[list[np.ndarray]]:
        CALLS.append((self.label, "batch", tuple(times)))
        self.seen.update(times)
        return [self._people(im, t) for im, t in zip(images, times)]

    def close(self) -> None:
        CALLS.append((self.label, "close", ()))


class TwinBackend(FakeBackend):
    """A stateless fake that makes twins of itself, as MediaPipe in IMAGE mode does; twins
    share what was seen (so a look at a tile finds nobody new) and note their threads."""

    def __init__(self, options: BackendOptions, seen: set | None = None) -> None:
        super().__init__(options)
        self.options = options
        self.seen = set() if seen is None else seen
        self.threads: set[int] = set()

    def infer(self, image: np.ndarray, t: float) -> list[np.ndarray]:
        THREADS.add(threading.get_ident())
        return super().infer(image, t)

    def twin(self) -> TwinBackend:
        if self.options.mode == "no-twin":
            raise RuntimeError("out of memory")
        return TwinBackend(self.options, self.seen)


THREADS: set[int] = set()


@pytest.fixture(autouse=True)
def fake_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = BackendSpec("fake", __name__, "FakeBackend", "model", ("a", "b"), "a", ("auto",), "")
    monkeypatch.setitem(BACKENDS, "fake", spec)
    twin = BackendSpec("twin", __name__, "TwinBackend", "model", ("b",), "b", ("auto",), "")
    monkeypatch.setitem(BACKENDS, "twin", twin)
    CALLS.clear()
    THREADS.clear()


def spec(model: str, **kw) -> PoseSpec:
    """A fake configuration; every frame inferred unless ``dense=False`` (the mechanics of
    feeding frames are tested densely; the sparse schedule has its own tests below)."""
    return PoseSpec("fake", BackendOptions(model=model, **{"dense": True, **kw}))


# --------------------------------------------------------------------------- configurations


def test_pose_spec_labels() -> None:
    assert PoseSpec("mediapipe").label == "mediapipe"
    assert PoseSpec("mediapipe", BackendOptions(model="lite")).label == "mediapipe:lite"
    assert PoseSpec("rtmpose", BackendOptions(device="cuda")).label == "rtmpose:balanced@cuda"
    assert PoseSpec("nothing").label == "nothing"


@pytest.fixture(scope="module")
def two() -> dict:
    """One run with two configurations (the first batched by 4): results, calls, decodes."""
    mp = pytest.MonkeyPatch()
    spec_ = BackendSpec("fake", __name__, "FakeBackend", "model", ("a", "b"), "a", ("auto",), "")
    mp.setitem(BACKENDS, "fake", spec_)
    seen: list[str] = []
    real = pipeline.decode
    mp.setattr(
        pipeline, "decode", lambda p, i, max_side=None: seen.append(p) or real(p, i, max_side)
    )
    CALLS.clear()
    ticks: list[tuple[int, int | None]] = []
    try:
        measured = run(
            str(SAMPLE), [spec("a", batch=4), spec("b")], progress=lambda *x: ticks.append(x)
        )
    finally:
        mp.undo()
    return {"measured": measured, "calls": list(CALLS), "decodes": seen, "ticks": ticks}


def test_tiles_are_looked_at_every_discovery_step_and_nothing_more(two) -> None:
    """Every DISCOVER_S the model also sees the frame's four tiles; a fake that found
    everybody in the whole frame finds nobody new there, so no second decode follows."""
    from kinemotion_cli.second_look import DISCOVER_S

    a, b = two["measured"]
    times = list(b.decode.times)
    steps = [
        t for i, t in enumerate(times) if i == 0 or t // DISCOVER_S > times[i - 1] // DISCOVER_S
    ]
    for label in ("a", "b"):
        looks = [c[2][0] for c in two["calls"] if c[0] == label and c[1] == "look"]
        assert looks == [t for t in steps for _ in range(4)]
    assert b.run.info["second_look"] == {"frames": 0, "found": 0, "discovered": 0}


def test_two_configurations_one_decode_both_measured(two) -> None:
    a, b = two["measured"]
    calls = two["calls"]
    assert two["decodes"] == [str(SAMPLE)]  # decoded once ...
    got_a = [t for c in calls if c[0] == "a" and c[1] == "batch" for t in c[2]]
    got_b = [c[2][0] for c in calls if c[0] == "b" and c[1] == "infer"]
    assert got_a == got_b == list(a.decode.times)  # ... every frame to both, in order
    assert len(got_a) == 221
    for m in (a, b):
        assert isinstance(m, Measured) and m.ok and m.error is None
        assert m.run.status == "ok" and m.run.frames_inferred == 221
        assert m.analysis.jumps[0].jump_type == "cmj"
        assert m.quality is not None and m.track is not None
        assert set(m.timing) == {
            "total_s",
            "inference_s",
            "inference_threads",
            "analysis_s",
            "inference_fps",
            "end_to_end_fps",
        }
        assert m.run.load_s == 0.5
    assert a.decode is b.decode and a.camera is b.camera and a.video is b.video
    assert a.camera.status == "static"
    np.testing.assert_array_equal(a.track.landmarks, b.track.landmarks)
    assert [c[0] for c in calls if c[1] == "close"] == ["a", "b"]
    ticks = two["ticks"]
    assert ticks[-1] == (221, 221) and [n for n, _ in ticks] == sorted(n for n, _ in ticks)


def test_batched_backend_gets_consecutive_frames_in_its_batch_size(two) -> None:
    batches = [c[2] for c in two["calls"] if c[0] == "a" and c[1] == "batch"]
    assert [len(x) for x in batches] == [4] * 55 + [1]  # 221 frames
    assert not [c for c in two["calls"] if c[0] == "a" and c[1] == "infer"]


@pytest.mark.parametrize("threads", [1, 3])
def test_a_stateless_backend_infers_on_threads_with_the_same_result(two, threads: int) -> None:
    """A backend with ``twin`` infers on ``threads`` instances side by side: every frame once,
    the tiles still looked at, the people in frame order, every twin released."""
    opts = BackendOptions(model="b", threads=threads, dense=True)
    (m,) = run(str(SAMPLE), [PoseSpec("twin", opts)])
    ref = two["measured"][1]  # the same fake, one frame at a time, no twins
    inferred = sorted(c[2][0] for c in CALLS if c[1] == "infer")
    assert inferred == list(ref.decode.times)  # each frame once
    looks = [c for c in CALLS if c[1] == "look"]
    assert len(looks) == len([c for c in two["calls"] if c[0] == "b" and c[1] == "look"])
    assert len(THREADS) == threads and m.timing["inference_threads"] == threads
    assert [c[1] for c in CALLS].count("close") == threads
    np.testing.assert_array_equal(m.track.landmarks, ref.track.landmarks)
    assert m.analysis.jumps[0].events == ref.analysis.jumps[0].events


def test_a_twin_that_cannot_load_leaves_fewer_threads_and_says_so() -> None:
    opts = BackendOptions(model="b", mode="no-twin", threads=2, dense=True)
    (m,) = run(str(SAMPLE), [PoseSpec("twin", opts)])
    assert m.ok and len(THREADS) == 1 and m.run.frames_inferred == 221
    assert any("fewer threads ran" in w for w in m.run.info["warnings"])


def test_configurations_without_threads_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """kmo compare: the usable cores are shared out among the configurations."""
    from kinemotion_cli.backends import pool

    monkeypatch.setattr(pool, "usable_cores", lambda: 5)
    twins = [PoseSpec("twin", BackendOptions(model="b", mode=m)) for m in ("x", "y")]
    given = PoseSpec("twin", BackendOptions(model="b", threads=3))
    for specs, want in (([twins[0]], [5]), (twins, [2, 2]), ([twins[0], given], [2, 3])):
        measured = run(str(SAMPLE), specs)
        assert [m.timing["inference_threads"] for m in measured] == want


def test_landmarks_come_back_in_video_pixels_with_max_side(two) -> None:
    full = two["measured"][1]
    (small,) = run(str(SAMPLE), [spec("b")], max_side=480)  # frames at 270 x 480
    assert small.run.frame_size == (270, 480)
    assert full.run.frame_size == (540, 960)  # by default: the video's own size
    np.testing.assert_allclose(small.track.landmarks, full.track.landmarks, atol=1e-9)
    assert small.analysis.jumps[0].events["takeoff_s"].value == pytest.approx(
        full.analysis.jumps[0].events["takeoff_s"].value
    )


def test_unavailable_configuration_with_keep_going() -> None:
    ok, broken, crashed = run(
        str(SAMPLE), [spec("a"), spec("broken"), spec("crash")], keep_going=True
    )
    assert ok.ok
    assert broken.run.status == "unavailable" and broken.run.error == "fake: cannot load the model"
    assert crashed.run.status == "unavailable"
    assert crashed.run.error == "RuntimeError: segfault-like surprise"
    for m in (broken, crashed):
        assert not m.ok and m.analysis is None and m.track is None and m.run.people == ()
        assert m.error.code == ExitCode.BAD_INPUT and m.run.frames_inferred == 0
    with pytest.raises(KmoError, match="cannot load"):
        run(str(SAMPLE), [spec("a"), spec("broken")])  # without keep_going: raised


def test_analysis_failure_is_kept_per_configuration() -> None:
    nobody = PoseSpec("fake", BackendOptions(model="a", mode="empty"))
    good, empty = run(str(SAMPLE), [spec("a"), nobody])
    assert good.ok
    assert empty.run.status == "ok" and empty.track is None and not empty.ok
    assert empty.error.code == ExitCode.NOT_MEASURABLE
    with pytest.raises(KmoError) as exc:  # analyze_video raises the measured error
        analyze_video(str(SAMPLE), nobody)
    assert exc.value.code == ExitCode.NOT_MEASURABLE


def test_unreadable_video_always_raises(tmp_path) -> None:
    bad = tmp_path / "x.mp4"
    bad.write_text("not a video")
    with pytest.raises(KmoError) as exc:
        run(str(bad), [spec("a")], keep_going=True)
    assert exc.value.code == ExitCode.BAD_INPUT
    assert CALLS == []  # refused before any backend was created


def test_measured_and_its_stages_are_immutable(two) -> None:
    m = two["measured"][0]
    for obj, field in (
        (m, "analysis"),
        (m.run, "status"),
        (m.video, "fps"),
        (m.decode, "times"),
        (m.camera, "status"),
        (m.track, "landmarks"),
        (m.analysis, "jumps"),
        (m.analysis.jumps[0], "jump_type"),
        (m.quality, "verdict"),
        (PoseSpec("fake"), "backend"),
        (BackendOptions(), "device"),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, None)
    assert isinstance(m.run.people, tuple) and isinstance(m.analysis.jumps, tuple)
    assert not hasattr(BackendOptions(), "extra")


# --------------------------------------------------------------------------- measure


def _pose(t: np.ndarray, lm: np.ndarray) -> PoseRun:
    people = tuple([lm[i]] for i in range(len(t)))
    return PoseRun(PoseSpec("fake"), "ok", None, {}, None, people, 0.0, len(t))


def test_measure_adds_the_camera_to_a_no_jump() -> None:
    t, lm, _ = series("none", 60, noise_px=1.0)
    from kinemotion_cli.video import VideoInfo

    info = VideoInfo("v.mp4", 1080, 1920, 60.0, len(t), float(t[-1]), 0, "h264")
    blind = static_camera(len(t), status="not measurable", reason="too little still background")
    m = measure(info, decode_report(t, 60), blind, _pose(t, lm))
    assert m.error.code == ExitCode.NO_JUMP
    assert "Camera motion: not measurable (too little still background)" in m.error.message
    assert "\n" not in m.error.message
    plain = measure(info, decode_report(t, 60), static_camera(len(t)), _pose(t, lm))
    assert plain.error.code == ExitCode.NO_JUMP and "Camera motion" not in plain.error.message


def test_a_jumper_the_detector_saw_less_than_a_standing_partner_is_still_the_jumper() -> None:
    """A pose detector can miss an athlete beside a more salient person in most frames. When
    nobody seen most of the time jumps, the people seen less who move are tried, the most
    often seen first: the jump is found, and the jumper's coverage says how little they
    were seen."""
    from kinemotion_cli.video import VideoInfo

    t, lm, truth = series("cmj", 60)
    partner = np.repeat(lm[:1], len(t), axis=0)  # standing still beside the jumper
    partner[..., 0] += 400.0
    seen = np.abs(t - truth.events["takeoff_s"]) < 0.18 * t[-1]  # about a third of the frames
    people = tuple([partner[i], lm[i]] if seen[i] else [partner[i]] for i in range(len(t)))
    pose = PoseRun(PoseSpec("fake"), "ok", None, {}, None, people, 0.0, len(t))
    info = VideoInfo("v.mp4", 1080, 1920, 60.0, len(t), float(t[-1]), 0, "h264")
    m = measure(info, decode_report(t, 60), static_camera(len(t)), pose)
    assert m.error is None, m.error
    (j,) = m.analysis.jumps
    assert abs(j.events["takeoff_s"].value - truth.events["takeoff_s"]) < 0.002
    assert m.track.jumper_coverage == pytest.approx(seen.mean(), abs=0.01)
    assert m.track.jumper_coverage < 0.5


def test_measure_removes_camera_motion_before_the_analysis() -> None:
    t, lm, truth = series("cmj", 60)
    from kinemotion_cli.camera import CameraMotion
    from kinemotion_cli.video import VideoInfo

    shift = 3.0 * np.arange(len(t))  # the image pans 3 px per frame
    seen = lm.copy()
    seen[..., 1] += shift[:, None]  # a tilt: everything moves down the picture
    to_first = np.tile(np.eye(3)[:2], (len(t), 1, 1))
    to_first[:, 1, 2] = -shift
    cam = CameraMotion(to_first, np.ones(len(t), bool), "compensated", None, shift[-1], 0, 0)
    info = VideoInfo("v.mp4", 1080, 1920, 60.0, len(t), float(t[-1]), 0, "h264")
    m = measure(info, decode_report(t, 60), cam, _pose(t, seen))
    (j,) = m.analysis.jumps
    assert abs(j.events["takeoff_s"].value - truth.events["takeoff_s"]) < 0.001
    np.testing.assert_array_equal(m.track.landmarks, seen)  # the track is as filmed
    assert any("the camera moved" in w for w in m.quality.warnings)


@pytest.mark.parametrize(("part", "dy"), [("head", -560.0), ("feet", 1100.0)])
def test_no_jump_with_the_head_or_feet_outside_the_picture_says_so(part: str, dy: float) -> None:
    """A clip whose framing cuts off the head or the feet cannot show a jump: exit 4, saying
    what to film, instead of "no jump" (exit 3). The same person in the picture is a plain
    no-jump, and a jump that is measured stays measured (the check only explains failures)."""
    from kinemotion_cli.video import VideoInfo

    t, lm, _ = series("none", 60)
    info = VideoInfo("v.mp4", 1080, 1920, 60.0, len(t), float(t[-1]), 0, "h264")
    cut = lm.copy()
    cut[..., 1] += dy  # the series' head is at y = 375, its soles at 900
    m = measure(info, decode_report(t, 60), static_camera(len(t)), _pose(t, cut))
    assert m.error.code == ExitCode.NOT_MEASURABLE
    assert f"the athlete's {part}" in m.error.message and "outside the picture" in m.error.message
    assert "\n" not in m.error.message
    plain = measure(info, decode_report(t, 60), static_camera(len(t)), _pose(t, lm))
    assert plain.error.code == ExitCode.NO_JUMP
    t, lm, truth = series("cmj", 60)
    cut = lm.copy()
    cut[..., 1] += dy
    (j,) = measure(info, decode_report(t, 60), static_camera(len(t)), _pose(t, cut)).analysis.jumps
    assert abs(j.events["takeoff_s"].value - truth.events["takeoff_s"]) < 0.001


def test_the_parts_of_one_frame_are_looked_at_side_by_side() -> None:
    """The four tiles of a discovery frame go to the pool together: each instance here
    waits until another one has a tile too, which never happens if the tiles are sent one
    at a time (the barrier then breaks). The people come back in the tiles' order."""
    barrier = threading.Barrier(2, timeout=30)

    class Paired(TwinBackend):
        def infer(self, image: np.ndarray, t: float) -> list[np.ndarray]:
            barrier.wait()
            person = np.zeros((26, 3))
            person[:, 0], person[:, 1], person[:, 2] = image.shape[1] / 2, image.shape[0] / 2, 0.9
            person[:, 1] += np.linspace(-image.shape[0] / 3, image.shape[0] / 3, 26)
            return [person]

        def twin(self) -> Paired:
            return Paired(self.options)

    feeder = pipeline._Feeder(Paired(BackendOptions()), 2)
    try:
        feeder.people.append([])
        image = np.zeros((960, 540, 3), np.uint8)
        boxes = [np.array([0.0, 0.0, 270.0, 480.0]), np.array([270.0, 480.0, 540.0, 960.0])]
        assert feeder.look_later(0, image, 1.0, 0.0, boxes, every=True)()
        centres = [p[:, 0].mean() for p in feeder.people[0]]
        assert centres == [135.0, 405.0]  # the first tile's person first
    finally:
        feeder.close()


# --------------------------------------------------------------------------- sparse schedule


def test_by_default_quiet_standing_is_filled_and_the_jump_timed_as_on_every_frame(two) -> None:
    """The model runs on every 4th frame (60 fps) where the person stands still and on every
    frame around the jump; the frames between are filled, and the jump is measured as when
    every frame is inferred."""
    dense = two["measured"][1]
    (m,) = run(str(SAMPLE), [spec("b", dense=False)])
    t = np.asarray(m.decode.times)
    seen = np.asarray(m.run.observed)
    inferred = sorted(c[2][0] for c in CALLS if c[0] == "b" and c[1] == "infer")
    assert len(seen) == len(t) == 221 and inferred == list(t[seen])
    assert m.run.frames_inferred == seen.sum() and m.run.frames_filled == (~seen).sum() > 50
    assert np.all(np.diff(np.flatnonzero(seen)) <= sparse.step(60))
    (j,), (jd,) = m.analysis.jumps, dense.analysis.jumps
    moving = (t >= jd.events["lowest_point_s"].value) & (
        t <= jd.events["landing_s"].value + sparse.HOLD_S
    )
    assert seen[moving].all()
    # The movement starts slower than a planted point moves (its onset is 8 % of the peak
    # downward speed), so it may lie in a filled interval: it moves by less than one.
    start = j.events["movement_start_s"].value - jd.events["movement_start_s"].value
    assert abs(start) <= sparse.step(60) / 60
    for k, e in jd.events.items():
        if k != "movement_start_s":
            assert j.events[k].value == pytest.approx(e.value, abs=1e-4), k
    for k in ("flight_time_s", "jump_height_m", "countermovement_depth_m"):
        assert j.metrics[k].value == pytest.approx(jd.metrics[k].value, rel=1e-3), k
    filled = np.flatnonzero(~seen)
    np.testing.assert_allclose(  # the filled frames lie between the inferred ones
        m.track.landmarks[filled, :, :2], dense.track.landmarks[filled, :, :2], atol=0.5
    )


def test_a_batched_backend_gets_the_frames_the_schedule_asks_for() -> None:
    (m,) = run(str(SAMPLE), [spec("a", batch=4, dense=False)])
    got = sorted(t for c in CALLS if c[0] == "a" and c[1] == "batch" for t in c[2])
    t = np.asarray(m.decode.times)
    assert got == list(t[np.asarray(m.run.observed)]) and m.ok
