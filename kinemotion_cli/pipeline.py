"""The one pipeline shared by every command and every jump type.

``video -> frames -> pose (N backends) -> camera motion -> jumper -> events/metrics -> quality``

:func:`run` decodes a video once, feeds every frame to each pose configuration, follows the
background to measure camera motion, then for each configuration tracks the jumper, removes
the camera motion, analyses every jump and assesses the quality. Each stage hands an
immutable, typed result to the next (:class:`VideoInfo`, :class:`DecodeReport`,
:class:`PoseRun`, :class:`CameraMotion`, :class:`Track`, :class:`Analysis`,
:class:`Quality`); :class:`Measured` holds them all. ``kmo analyze``, ``compare``, ``bench``,
``--overlay`` and ``--plot`` all go through :func:`run`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

import numpy as np

from kinemotion_cli import closer_look, focus, second_look, sparse
from kinemotion_cli.backends import BACKENDS, BackendOptions, PoseBackend, create
from kinemotion_cli.backends.pool import PosePool, per_video
from kinemotion_cli.camera import CameraMotion, CameraTracker, stabilize
from kinemotion_cli.errors import ExitCode, KmoError
from kinemotion_cli.jumps import Analysis, analyze
from kinemotion_cli.landmarks import bbox
from kinemotion_cli.quality import Quality, assess, withhold_damaged
from kinemotion_cli.subject import AMBIGUOUS, Track, candidates, out_of_picture
from kinemotion_cli.video import DecodeReport, Frame, VideoInfo, decode, decoded_size, probe

ProgressFn = Callable[[int, "int | None"], None]

#: Makes a backend: ``(name, options) -> (backend, auto choice)``; ``backends.create`` by
#: default, a caching factory where one process measures many videos (a Ray worker).
BackendFactory = Callable[[str, BackendOptions], "tuple[PoseBackend, str | None]"]


@dataclass(frozen=True)
class PoseSpec:
    """One pose configuration: a backend and its options."""

    backend: str
    options: BackendOptions = field(default_factory=BackendOptions)

    @property
    def label(self) -> str:
        """``name[:variant][@device]``, as ``kmo compare`` writes configurations."""
        spec = BACKENDS.get(self.backend)
        if spec is None:
            return self.backend
        variant = self.options.model if spec.variant_kind == "model" else self.options.mode
        name = self.backend + (f":{variant}" if variant else "")
        return name + (f"@{self.options.device}" if self.options.device != "auto" else "")


@dataclass(frozen=True)
class PoseRun:
    """One configuration's pose output over the whole video."""

    spec: PoseSpec
    status: str  # "ok", or "unavailable" (the backend could not be created)
    error: str | None
    info: dict  # what the backend says about itself (model, devices, settings, warnings)
    choice: str | None  # what --backend auto chose and why
    people: tuple[list[np.ndarray], ...]  # per frame: (26, 3) arrays in video pixels
    infer_s: float
    frames_inferred: int
    observed: tuple[bool, ...] = ()  # per frame: inferred, or filled in between (empty: all)
    frame_size: tuple[int, int] | None = None  # (w, h) of the frames the model was given

    @property
    def frames_filled(self) -> int:
        """Frames filled in between by the sparse schedule instead of inferred."""
        return sum(not o for o in self.observed)

    @property
    def load_s(self) -> float:
        return float(self.info.get("load_s") or 0.0)


@dataclass(frozen=True)
class Measured:
    """Everything the pipeline found for one configuration on one video."""

    video: VideoInfo
    decode: DecodeReport
    camera: CameraMotion
    run: PoseRun
    track: Track | None
    analysis: Analysis | None
    quality: Quality | None
    error: KmoError | None
    timing: dict

    @property
    def ok(self) -> bool:
        return self.error is None and self.analysis is not None


Origin = tuple[int, int]  # a crop's top-left corner in its frame's pixels


class _Feeder:
    """Gives frames to one backend and keeps its output, frame by frame in video order.

    A backend that can make twins of itself (stateless per frame) infers on a
    :class:`PosePool` of ``threads`` instances; one with ``infer_batch`` gets its frames in
    its own batch size; any other one frame at a time."""

    def __init__(self, backend: PoseBackend, threads: int) -> None:
        self.backend = backend
        twin = getattr(backend, "twin", None)
        self.pool = PosePool(backend, twin, threads) if twin is not None and threads > 1 else None
        batched = hasattr(backend, "infer_batch") and self.pool is None
        self.size = max(1, int(getattr(backend, "batch", 1))) if batched else 1
        self.people: list[list[np.ndarray]] = []
        self.observed: list[bool] = []  # per frame: inferred (False: filled in between)
        self._infer_s = 0.0
        self._queued: dict[int, tuple[Future, float, Origin]] = {}  # submitted, not taken
        self._batch: list[tuple[Future, np.ndarray, float]] = []  # not yet inferred
        self._seq = 0  # key of the next frame submitted without an index

    @property
    def infer_s(self) -> float:
        """Seconds spent inferring, summed over the pool's threads."""
        return self._infer_s + (self.pool.busy_s if self.pool is not None else 0.0)

    @property
    def threads(self) -> int:
        return self.pool.size if self.pool is not None else 1

    def submit(
        self,
        image: np.ndarray,
        t: float,
        scale: float,
        origin: Origin = (0, 0),
        index: int | None = None,
    ) -> None:
        """Queue a frame (``scale``: its pixels -> video pixels; ``origin``: where a crop's
        top-left corner is in the frame's pixels; ``index``: its frame number, when frames
        are not submitted in video order)."""
        key = self._seq if index is None else index
        self._seq = key + 1
        if self.pool is not None:
            self._queued[key] = (self.pool.submit(image, t), scale, origin)
            return
        fut: Future = Future()
        self._queued[key] = (fut, scale, origin)
        self._batch.append((fut, image, t))
        if len(self._batch) >= self.size:
            self._run_batch()

    def _run_batch(self) -> None:
        futs, images, times = zip(*self._batch)
        self._batch = []
        t0 = time.perf_counter()
        if self.size == 1:
            out = [self.backend.infer(im, t) for im, t in zip(images, times)]
        else:
            out = self.backend.infer_batch(list(images), list(times))
        self._infer_s += time.perf_counter() - t0
        for fut, people in zip(futs, out):
            fut.set_result(people)

    def peek(self, index: int) -> list[np.ndarray]:
        """Wait for queued frame ``index`` and return its people, in video pixels."""
        fut, k, origin = self._queued[index]
        if not fut.done() and self._batch:
            self._run_batch()
        people = fut.result()
        if k != 1.0 or origin != (0, 0):
            people = [second_look.to_video(p, origin, k) for p in people]
        return people

    def ready(self, index: int) -> bool:
        """Whether queued frame ``index`` has been inferred (no waiting)."""
        return self._queued[index][0].done()

    def take(self, index: int | None = None) -> None:
        """Append the people of queued frame ``index`` (default: the first queued), waiting
        for them."""
        key = next(iter(self._queued)) if index is None else index
        people = self.peek(key)
        del self._queued[key]
        self.people.append(people)
        self.observed.append(True)

    def fill(self, people: list[np.ndarray]) -> None:
        """Append the people of a frame that was not inferred (filled in between)."""
        self.people.append(people)
        self.observed.append(False)

    @property
    def inferred(self) -> int:
        """Frames inferred so far (not counting the second look's crops)."""
        return sum(self.observed)

    def restart(self) -> list[list[np.ndarray]]:
        """Begin a new pass over the video: the people of the pass so far."""
        done, self.people = self.people, []
        self.observed = []
        return done

    def pool_info(self) -> dict:
        """For the backend's info: the inference threads (a speed setting, reported with the
        timings only: it never changes a result) and any thread that failed."""
        if self.pool is None:
            return {}
        info = {"inference_threads": self.pool.size}
        if self.pool.warnings:
            info["warnings"] = [*self.backend.info.get("warnings", []), *self.pool.warnings]
        return info

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def _infer_all(self, images: list[np.ndarray], t: float) -> list[Future]:
        """Futures of the people in several images of one instant (side by side on a pool,
        behind the frames already queued)."""
        if self.pool is not None:
            return [self.pool.submit(im, t) for im in images]
        futs = []
        for im in images:
            t0 = time.perf_counter()
            fut: Future = Future()
            fut.set_result(self.backend.infer(im, t))
            self._infer_s += time.perf_counter() - t0
            futs.append(fut)
        return futs

    def look_later(
        self,
        i: int,
        image: np.ndarray,
        scale: float,
        t: float,
        boxes: list[np.ndarray],
        every: bool = False,
    ) -> Callable[[], bool]:
        """Frame ``i``: start looking at parts of the frame (``second_look.py``); the
        returned call waits, adds the people found and says whether anybody was."""
        parts = second_look.crops(image, scale, boxes)
        futs = self._infer_all([part.image for part in parts], t)

        def finish() -> bool:
            results = [fut.result() for fut in futs]
            extra = second_look.merge(parts, results, scale, self.people[i], every)
            if extra:
                self.people[i] = [*self.people[i], *extra]
            return bool(extra)

        return finish


@dataclass
class _Slot:
    """A decoded frame on its way through :func:`run`: held back until the schedule decides,
    then inferred (``fills`` None) or filled in between (``fills``: people per feeder)."""

    index: int
    frame: Frame
    held: bool = True
    fills: list[list[np.ndarray]] | None = None


def _load(
    specs: Sequence[PoseSpec], keep_going: bool, factory: BackendFactory
) -> list[tuple[PoseBackend | None, str | None, str | None]]:
    """Create every configuration's backend: (backend, auto choice, error)."""
    out = []
    for spec in specs:
        try:
            backend, choice = factory(spec.backend, spec.options)
            out.append((backend, choice, None))
        except KmoError as exc:
            if not keep_going:
                raise
            out.append((None, None, exc.message))
        except Exception as exc:  # noqa: BLE001 - a provider or model crash: report, go on
            if not keep_going:
                raise
            out.append((None, None, f"{type(exc).__name__}: {str(exc)[:200]}"))
    return out


def run(
    path: str,
    specs: Sequence[PoseSpec],
    jump: str = "auto",
    stature_m: float | None = None,
    progress: ProgressFn | None = None,
    max_side: int | None = None,
    keep_going: bool = False,
    factory: BackendFactory = create,
) -> list[Measured]:
    """Decode ``path`` once, run every pose configuration on it and measure each one.

    ``max_side`` shrinks the frames the models get (``--max-side``; None: the video's size).
    It is not the default: on a 1080x1920 clip 720x1280 frames cut the peak memory by a
    sixth at the same speed, but a small athlete in a 1920x1080 picture then got a flight
    48 ms short (README, "Smaller frames for the model").

    A configuration whose analysis fails is returned with its ``error``; one that cannot be
    created raises, unless ``keep_going`` (then it is returned "unavailable"). Bad input
    (an unreadable video) always raises :class:`KmoError`.
    """
    t_start = time.perf_counter()
    info = probe(path)
    loaded = _load(specs, keep_going, factory)
    shared = per_video(len(specs))  # threads of a configuration without --threads
    feeders = [
        _Feeder(b, shared if spec.options.threads is None else spec.options.threads)
        if b is not None
        else None
        for spec, (b, _, _) in zip(specs, loaded)
    ]
    live = [f for f in feeders if f is not None]
    # frames in flight: a batch for batched backends, one more than the threads of a pool
    depth = max((max(f.size, f.threads + 1) for f in live), default=1)
    stream = decode(path, info, max_side=max_side)
    frame_size = decoded_size(info, max_side)
    camera = CameraTracker(info.width, info.height, info.width / frame_size[0])
    schedule = None if all(s.options.dense for s in specs) else sparse.Schedule(info.fps)
    pending: deque[_Slot] = deque()  # decoded, not yet taken, in video order
    done = 0
    looked = {id(f): {"frames": 0, "found": 0, "discovered": 0} for f in live}
    last_t: float | None = None

    def infer(slot: _Slot) -> None:
        for f in live:
            f.submit(slot.frame.image, slot.frame.t, slot.frame.scale, index=slot.index)
        slot.held = False

    def settle(slot: _Slot) -> None:
        """A coarse frame: fill the frames held back before it, or infer them."""
        fill = schedule.fill(slot.frame.t, [f.peek(slot.index) for f in live])
        for s in pending:
            if s is slot:
                break
            if s.held and fill is None:
                infer(s)
            elif s.held:
                s.fills, s.held = fill.at(s.frame.t), False

    def take() -> None:
        """The oldest frame: its people, people missed on its tiles, camera."""
        nonlocal done, last_t
        slot = pending.popleft()
        im, t, k = slot.frame.image, slot.frame.t, slot.frame.scale
        if slot.fills is None:  # inferred
            for f in live:
                f.take(slot.index)
            if second_look.discovery_frame(t, last_t):
                tiles = second_look.tiles(im.shape[1] * k, im.shape[0] * k)
                looks = [f.look_later(done, im, k, t, tiles, every=True) for f in live]
                for f, finish in zip(live, looks):  # people the full frame did not show
                    if finish():
                        looked[id(f)]["discovered"] += 1
            last_t = t
            people = live[0].people[done] if live else []
            camera.update(im, k, [b for p in people if (b := bbox(p)) is not None])
        else:  # everybody stood still: the camera's motion is interpolated there too
            for f, people in zip(live, slot.fills):
                f.fill(people)
            camera.skip()
        done += 1
        if progress is not None:
            progress(done, info.frames)

    unsettled: deque[_Slot] = deque()  # coarse frames inferring, their interval undecided
    # frames decoded ahead: a pool's worth plus a coarse interval, so that a coarse frame is
    # inferred while the next ones decode instead of being waited for at once
    ahead = depth + (schedule.step if schedule is not None else 0)
    try:
        for i, frame in enumerate(stream):
            slot = _Slot(i, frame)
            pending.append(slot)  # a frame between coarse ones waits for the next to decide
            if schedule is None or schedule.coarse(i):
                infer(slot)
                if schedule is not None:
                    unsettled.append(slot)
            while unsettled and (
                len(pending) > ahead or all(f.ready(unsettled[0].index) for f in live)
            ):
                settle(unsettled.popleft())
            while (
                pending
                and not pending[0].held
                and not (unsettled and pending[0] is unsettled[0])
                and len(pending) >= depth
            ):
                take()
        while unsettled:
            settle(unsettled.popleft())
        for s in pending:
            if s.held:  # after the last coarse frame: inferred
                infer(s)
        while pending:
            take()
        _second_look(path, info, max_side, live, np.asarray(stream.report.times), looked)
        report = stream.report
        motion = camera.result()
        pose_s = time.perf_counter() - t_start
        out = []
        for spec, (backend, choice, error), feeder in zip(specs, loaded, feeders):
            if feeder is None:
                pose = PoseRun(spec, "unavailable", error, {}, None, (), 0.0, 0)
            else:
                pose = PoseRun(
                    spec,
                    "ok",
                    None,
                    {**backend.info, "second_look": looked[id(feeder)], **feeder.pool_info()},
                    choice,
                    tuple(feeder.people),
                    feeder.infer_s,
                    feeder.inferred,
                    tuple(feeder.observed),
                    frame_size,
                )
            out.append(measure(info, report, motion, pose, jump, stature_m, pose_s))
        out = _focus(path, info, out, feeders, specs, jump, stature_m, t_start, progress)
        out = _closer_look(path, info, out, feeders, jump, stature_m, t_start, progress)
    finally:
        for f in live:
            f.close()
        for b, _, _ in loaded:
            if b is not None:
                b.close()
    return out


def _focus(
    path: str,
    info: VideoInfo,
    out: list[Measured],
    feeders: list[_Feeder | None],
    specs: Sequence[PoseSpec],
    jump: str,
    stature_m: float | None,
    t_start: float,
    progress: ProgressFn | None = None,
) -> list[Measured]:
    """Measure the jumper again on crops that follow them (``focus.py``), for every
    MediaPipe configuration whose whole-frame pass found the jumper and whose crops are worth
    it; a measurement that fails on the crops keeps the whole frame's, with a warning.
    RTMPose and RTMO are left as they are: focus was validated on MediaPipe only."""
    todo = {}
    for i, (m, f, spec) in enumerate(zip(out, feeders, specs)):
        if f is None or m.track is None or not m.ok or not spec.options.focus:
            continue
        if f.backend.name not in focus.BACKENDS:
            continue
        crops = focus.boxes(m.track.landmarks, m.run.observed, info.width, info.height)
        if focus.worth(crops, info.width, info.height):
            todo[i] = (f, crops)
    if not todo:
        return out
    found = _on_crops(path, info, todo, progress)
    pose_s = time.perf_counter() - t_start
    out = list(out)
    for i, (f, _crops) in todo.items():
        m = out[i]
        times = np.asarray(m.decode.times)
        people, n = focus.merge(m.run.people, m.track.landmarks, found[i], m.run.observed, times)
        info_ = {**m.run.info, "focus": {"crops": len(found[i]), "replaced": n}}
        run = replace(m.run, info=info_, people=people, infer_s=f.infer_s)
        again = measure(info, m.decode, m.camera, run, jump, stature_m, pose_s)
        if again.ok:
            out[i] = again
            continue
        warning = f"focus: the crops around the jumper gave no measurement ({again.error.message})"
        warned = {**m.run.info, "warnings": [*m.run.info.get("warnings", []), warning]}
        out[i] = replace(m, run=replace(m.run, info=warned))
    return out


def _closer_look(
    path: str,
    info: VideoInfo,
    out: list[Measured],
    feeders: list[_Feeder | None],
    jump: str,
    stature_m: float | None,
    t_start: float,
    progress: ProgressFn | None = None,
) -> list[Measured]:
    """Measure again, on one fixed crop around them, the small athletes whose whole frame
    showed no jump (``closer_look.py``): every frame inferred again by each such
    configuration; a measurement that still fails keeps its error, saying so. The progress
    goes on counting: the second pass doubles the frames to do. The crops are cut from
    frames decoded at full resolution: a small athlete needs every pixel."""
    redo = {}
    for i, (m, f) in enumerate(zip(out, feeders)):
        if f is None or not closer_look.worth_retrying(m.error):
            continue
        times = np.asarray(m.decode.times)
        box = closer_look.region(m.run.people, times, m.camera.cuts, info.width, info.height)
        if box is not None:
            redo[i] = (f, [box] * len(times))
    if not redo:
        return out
    found = _on_crops(path, info, redo, progress)
    pose_s = time.perf_counter() - t_start
    out = list(out)
    for i, (f, crops) in redo.items():
        m = out[i]
        people = [found[i].get(k, []) for k in range(len(crops))]
        again = _on_crop(m.run, crops[0], people, f.infer_s, info)
        retried = measure(info, m.decode, m.camera, again, jump, stature_m, pose_s)
        out[i] = retried if retried.ok else replace(m, error=closer_look.tried(m.error))
    return out


def _on_crops(
    path: str,
    info: VideoInfo,
    todo: dict[int, tuple[_Feeder, list]],
    progress: ProgressFn | None = None,
) -> dict[int, dict[int, list[np.ndarray]]]:
    """Frames inferred again, by each feeder, on their crops (per frame a box in video
    pixels, or None: not inferred again): per feeder, frame -> people, in video pixels.
    Crops are cut from frames decoded at full resolution."""
    depth = max(max(f.size, f.threads + 1) for f, _ in todo.values())
    n = max(len(crops) for _, crops in todo.values())  # frames of the first pass
    sent: dict[int, list[int]] = {i: [] for i in todo}  # frames submitted, in order
    taken = {i: 0 for i in todo}

    def take(i: int, f: _Feeder, keep: int) -> None:
        while len(sent[i]) - taken[i] > keep:
            f.take(sent[i][taken[i]])
            taken[i] += 1

    for f, _ in todo.values():
        f.restart()
    for k, frame in enumerate(decode(path, info)):
        for i, (f, crops) in todo.items():
            box = crops[k] if k < len(crops) else None
            if box is None:
                continue
            part = second_look.crop(frame.image, frame.scale, box)
            if part is None:  # a region of under 16 px: the whole frame
                f.submit(frame.image, frame.t, frame.scale, index=k)
            else:
                f.submit(part.image, frame.t, frame.scale, (part.x0, part.y0), index=k)
            sent[i].append(k)
            take(i, f, depth)
        if progress is not None:
            progress(n + min(k + 1, n), 2 * n)
    out = {}
    for i, (f, _) in todo.items():
        take(i, f, 0)
        out[i] = dict(zip(sent[i], f.restart()))
    return out


def _on_crop(
    pose: PoseRun, box: np.ndarray, people: list[list[np.ndarray]], infer_s: float, info: VideoInfo
) -> PoseRun:
    """The pose run of a closer look: its people, the crop, and a warning saying so."""
    warning = closer_look.note(box, info.width, info.height)
    return replace(
        pose,
        info={
            **pose.info,
            "closer_look": [int(v) for v in box],
            "warnings": [*pose.info.get("warnings", []), warning],
        },
        people=tuple(people),
        infer_s=infer_s,
        frames_inferred=pose.frames_inferred + len(people),
        observed=(),  # the closer look infers every frame
        frame_size=(int(box[2] - box[0]), int(box[3] - box[1])),  # full-resolution crops
    )


def _second_look(
    path: str,
    info: VideoInfo,
    max_side: int | None,
    feeders: list[_Feeder],
    times: np.ndarray,
    out: dict[int, dict],
) -> None:
    """Look again, on crops, for people each configuration lost for a moment
    (``second_look.py``); one more decode when any did. Counts, per feeder (by id), the
    frames looked at and those in which somebody was found, into ``out``."""
    todo = {id(f): second_look.gaps(f.people, times) for f in feeders}
    for key, frames in todo.items():
        out[key]["frames"] = len(frames)
    if not any(todo.values()):
        return
    waiting: deque[tuple[int, Callable[[], bool]]] = deque()  # looks started, not finished
    lag = max(f.threads for f in feeders) + 1  # frames looked at side by side

    def finish() -> None:
        key, done = waiting.popleft()
        if done():
            out[key]["found"] += 1

    for i, frame in enumerate(decode(path, info, max_side=max_side)):
        for f in feeders:
            boxes = todo[id(f)].get(i)
            if not boxes or i >= len(f.people):
                continue
            waiting.append((id(f), f.look_later(i, frame.image, frame.scale, frame.t, boxes)))
            if len(waiting) > lag:
                finish()
    while waiting:
        finish()


def measure(
    info: VideoInfo,
    report: DecodeReport,
    motion: CameraMotion,
    pose: PoseRun,
    jump: str = "auto",
    stature_m: float | None = None,
    pose_s: float = 0.0,
) -> Measured:
    """Track the jumper, remove camera motion, analyse every jump, assess the quality."""
    t0 = time.perf_counter()
    times = report.times
    track = analysis = quality = error = None
    if pose.status == "ok":
        try:
            track, analysis = _jumper(pose, times, motion, report, jump, stature_m, info.height)
            analysis = withhold_damaged(analysis, report)
            quality = assess(info, report, motion, track, analysis)
        except KmoError as exc:
            error = _explain(exc, motion)
    else:
        error = KmoError(pose.error or "unavailable", ExitCode.BAD_INPUT)
    analysis_s = time.perf_counter() - t0
    n = len(times)
    timing = {
        "total_s": pose_s + analysis_s,
        "inference_s": pose.infer_s,
        "inference_threads": pose.info.get("inference_threads", 1),
        "analysis_s": analysis_s,
        "inference_fps": n / pose.infer_s if pose.infer_s > 0 else None,
        "end_to_end_fps": n / (pose_s + analysis_s) if pose_s + analysis_s > 0 else None,
    }
    return Measured(info, report, motion, pose, track, analysis, quality, error, timing)


def _jumper(
    pose: PoseRun,
    times: np.ndarray,
    motion: CameraMotion,
    report: DecodeReport,
    jump: str,
    stature_m: float | None,
    height: int,
) -> tuple[Track, Analysis]:
    """The jumper and its analysis. When several people move alike, the jumper is the one
    who jumps: each is analysed; exactly one with jumps is the jumper, several are
    ambiguous (exit 4), none is "no jump" (exit 3), or exit 4 when that person's head or
    feet were mostly outside the picture (``height`` px high)."""

    def analysed(track: Track) -> Analysis:
        steady = stabilize(track.landmarks, motion, times)
        return analyze(times, steady, report.measured_fps, jump, stature_m, observed=track.observed)

    results, errors = [], []
    for track in candidates(pose.people, times, motion.cuts, pose.observed):
        try:
            results.append((track, analysed(track)))
        except KmoError as exc:
            errors.append(_framed(exc, track, height))
    if len(results) == 1:
        return results[0]
    if len(results) > 1:
        raise KmoError(AMBIGUOUS, ExitCode.NOT_MEASURABLE)
    # Nobody seen most of the time jumps: the pose detector may have missed the athlete in
    # many frames (beside a more salient person). The most often seen of the people who
    # move, seen less, who jumps is the jumper; its coverage says how little it was seen.
    for track in candidates(pose.people, times, motion.cuts, pose.observed, partly_seen=True):
        try:
            return track, analysed(track)
        except KmoError:
            continue
    # nobody jumps: the most likely jumper's reason (a "no jump" before other reasons)
    return_error = next((e for e in errors if e.code == ExitCode.NO_JUMP), errors[0])
    raise return_error


def _framed(exc: KmoError, track: Track, height: int) -> KmoError:
    """A "no jump" from a person whose head or feet were mostly outside the picture says so
    (exit 4): the jump cannot be measured from such a video, not shown absent."""
    cut = out_of_picture(track.landmarks, height) if exc.code == ExitCode.NO_JUMP else None
    if cut is None:
        return exc
    part, share = cut
    return KmoError(
        f"the athlete's {part} {'is' if part == 'head' else 'are'} outside the picture (or "
        f"not found) in {100 * share:.0f} % of the frames, so no jump can be measured; film "
        "the whole body, head to feet, with some space around it.",
        ExitCode.NOT_MEASURABLE,
    )


def _explain(exc: KmoError, motion: CameraMotion) -> KmoError:
    """Add the camera's part to a 'no jump' when the camera moved in a way not removed."""
    if exc.code == ExitCode.NO_JUMP and motion.status in ("partly compensated", "not measurable"):
        return KmoError(
            f"{exc.message} Camera motion: {motion.status} ({motion.reason}); use a "
            "tripod or keep more still background in view.",
            exc.code,
        )
    return exc


def analyze_video(
    path: str,
    spec: PoseSpec,
    jump: str = "auto",
    stature_m: float | None = None,
    progress: ProgressFn | None = None,
    max_side: int | None = None,
    factory: BackendFactory = create,
) -> Measured:
    """Measure one video with one configuration; raise its :class:`KmoError` on failure."""
    (m,) = run(path, [spec], jump, stature_m, progress, max_side, factory=factory)
    if m.error is not None:
        raise m.error
    return m
