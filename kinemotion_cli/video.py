"""Video input: probe a file, stream upright RGB frames with their presentation times.

Decoding uses PyAV (FFmpeg). PyAV does not apply the display matrix itself, so the rotation
phones write (e.g. -90 for portrait video stored as landscape) is applied here, exactly once.
Frames are streamed from a background thread so decoding overlaps with pose inference and
memory does not grow with video length.

:func:`probe` returns what the container says (:class:`VideoInfo`, immutable);
:func:`decode` streams frames and, once exhausted, tells what it found
(:class:`DecodeReport`): timestamps, the measured frame rate, dropped and repeated frames,
and damaged frame ranges. Damaged input never raises anything but :class:`KmoError` with a
one-line message: packets that fail to decode are skipped and counted, frames with a repeated
timestamp are dropped and counted, and a file that ends early keeps the frames decoded so far.
A frame the decoder had to conceal errors in (FFmpeg's corrupt flag) damages every frame up to
the next keyframe, because later frames are predicted from it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kinemotion_cli.errors import KmoError

MIN_FPS, MAX_FPS = 10.0, 2000.0  # below 10 fps a jump (about 0.5 s of flight) cannot be timed
MAX_PIXELS = 8192 * 8192  # refuse absurd frame sizes (a damaged header) before decoding
MAX_DUPLICATE_SHARE = 0.2  # more frames than this with repeated timestamps: refuse
MAX_BAD_PACKETS = 200  # give up on a stream after this many undecodable packets in a row
IMAGE_FORMATS = ("image2", "image2pipe", "apng")  # plus every "*_pipe" demuxer (still images)


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about the video (upright width/height)."""

    path: str
    width: int
    height: int
    fps: float
    frames: int | None
    duration_s: float | None
    rotation_deg: int
    codec: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """One decoded, upright RGB frame and its presentation time in seconds from video start.

    ``image`` may be smaller than the video (``decode(size=...)``); ``scale`` converts its
    pixels to the video's (x_video = x_image * scale).
    """

    index: int
    t: float
    image: np.ndarray
    scale: float = 1.0


@dataclass(frozen=True)
class DamagedRange:
    """Frames the decoder could not decode or had to conceal errors in."""

    start_s: float
    end_s: float
    frames: int
    cause: str


@dataclass(frozen=True)
class DecodeReport:
    """What decoding found: the frames' timestamps and everything wrong with them."""

    times: np.ndarray
    measured_fps: float  # from the timestamps (median interval); the nominal rate if < 3 frames
    undecodable: int  # packets or pictures that could not be decoded (their frames are missing)
    concealed: int  # frames decoded with concealed errors (FFmpeg's corrupt flag)
    duplicate_frames: int  # frames dropped for a repeated or backwards timestamp
    damaged: tuple[DamagedRange, ...]
    dropped_frames: int  # frames missing from timestamp gaps (> 1.5 intervals)
    gaps: tuple[tuple[float, float], ...]
    timestamp_jitter_ms: float | None
    warnings: tuple[str, ...]

    @property
    def frames(self) -> int:
        return len(self.times)

    def damaged_at(self, time: float, margin: float = 0.0) -> DamagedRange | None:
        """The damaged range containing ``time`` (within ``margin`` s), if any."""
        for r in self.damaged:
            if r.start_s - margin <= time <= r.end_s + margin:
                return r
        return None


def measured_fps(times: np.ndarray, nominal: float) -> float:
    """Frame rate from the timestamps (median interval), falling back to the nominal one."""
    if len(times) < 3:
        return nominal
    dt = float(np.median(np.diff(times)))
    return 1.0 / dt if dt > 0 else nominal


def frame_timing(times: np.ndarray) -> tuple[int, tuple, float | None]:
    """Dropped frames (gaps over 1.5 intervals), the gaps, and the timestamp jitter (ms)."""
    if len(times) < 3:
        return 0, (), None
    dt = np.diff(times)
    med = float(np.median(dt))
    gap = dt > 1.5 * med
    missing = np.where(gap, np.round(dt / med) - 1, 0).astype(int)
    regular = dt[~gap]
    jitter = round(1000 * float(np.std(regular)), 3) if regular.size else None
    gaps = tuple((float(times[k]), float(times[k + 1])) for k in np.flatnonzero(gap))
    return int(missing.sum()), gaps, jitter


def _rotation_of(obj: object) -> int:
    try:
        rot = float(getattr(obj, "rotation", 0) or 0)
    except (TypeError, ValueError):
        return 0
    return int(round(rot / 90.0)) * 90 % 360 if np.isfinite(rot) else 0


def upright(image: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Apply a display-matrix rotation (degrees counter-clockwise, FFmpeg convention)."""
    k = (rotation_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=k)) if k else image


def _sniff(p: Path) -> str:
    """A short description of what a file that FFmpeg cannot open looks like."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return "unreadable"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return "mp4"
    if head and all(32 <= c < 127 or c in (9, 10, 13) for c in head):
        return "text"
    return "unknown"


def _open(path: str):  # noqa: ANN202 - av.container.InputContainer
    import av

    p = Path(path)
    try:
        if not p.exists():
            raise KmoError(f"{path}: no such file; check the path.")
        if p.is_dir():
            raise KmoError(f"{path}: is a directory; give a video file (or use --recursive).")
        if not p.is_file():
            raise KmoError(f"{path}: is not a regular file; give a video file.")
        size = p.stat().st_size
    except OSError as exc:
        raise KmoError(
            f"{path}: cannot access the file ({exc.strerror}); check the path."
        ) from None
    if size == 0:
        raise KmoError(f"{path}: file is empty (0 bytes); re-export or re-copy the video.")
    try:
        with open(p, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise KmoError(
            f"{path}: cannot read the file ({exc.strerror}); check its permissions."
        ) from None
    try:
        container = av.open(str(p), metadata_errors="ignore")
    except Exception as exc:  # noqa: BLE001 - FFmpeg raises many types for bad input
        kind = _sniff(p)
        if isinstance(exc, EOFError):
            msg = (
                "the file ends before any video data (zero frames, or truncated); "
                "re-export or re-copy the video."
            )
        elif kind == "mp4":
            msg = (
                "an MP4/MOV file whose index is missing or damaged (truncated or corrupt, e.g. "
                "an interrupted copy or recording); re-copy or re-export the video."
            )
        elif kind == "text":
            msg = "a text file, not a video; give a video file (MP4, MOV, AVI, MKV)."
        else:
            msg = (
                "not a video FFmpeg can read (unknown or damaged format); "
                "give a complete MP4/MOV/AVI/MKV video."
            )
        raise KmoError(f"{path}: {msg}") from None
    fmt = (container.format.name or "").split(",")[0]
    if fmt in IMAGE_FORMATS or fmt.endswith("_pipe"):
        container.close()
        raise KmoError(f"{path}: is a still image ({fmt}), not a video; give a video file.")
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        container.close()
        what = "audio only" if kinds == ["audio"] else ", ".join(kinds)
        raise KmoError(f"{path}: has no video stream (contains {what}); give a video file.")
    return container


def _frames(container, stream):  # noqa: ANN001, ANN202
    """Decoded frames of ``stream``, skipping undecodable packets.

    Yields ``(frame, None, pts)``; ``(None, "undecodable", pts)`` for a packet that failed;
    and at the end ``(None, reason, None)`` if demuxing stopped early.
    """
    import av

    bad_run = 0
    try:
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except (av.error.FFmpegError, ValueError, MemoryError):
                bad_run += 1
                yield None, "undecodable", packet.pts
                if bad_run > MAX_BAD_PACKETS:
                    yield None, "too many undecodable packets", None
                    return
                continue
            bad_run = 0
            for frame in decoded:
                yield frame, None, None
    except (av.error.FFmpegError, ValueError, MemoryError, OSError) as exc:
        yield None, getattr(exc, "strerror", None) or type(exc).__name__, None


def probe(path: str) -> VideoInfo:
    """Read the container header and the first frame; raise KmoError for unusable files."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None or not ctx.name:
            tag = getattr(stream, "codec_tag", "") or "unknown"
            raise KmoError(
                f"{path}: unsupported video codec ({tag}); re-export the video as H.264 MP4."
            )
        codec = ctx.name
        try:
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
        except (ZeroDivisionError, OverflowError, ValueError):
            fps = 0.0
        first, reason = None, None
        for frame, why, _ in _frames(container, stream):
            if why == "undecodable":
                continue
            first, reason = frame, why
            break
        if first is None:
            if reason is None and not stream.frames:
                raise KmoError(f"{path}: the video has zero frames; re-export or re-record it.")
            raise KmoError(
                f"{path}: no decodable video frame (codec {codec}); the file is corrupt, "
                "truncated or uses an unsupported codec; re-export it as H.264 MP4."
            )
        rotation = _rotation_of(first)
        w, h = int(first.width), int(first.height)
        if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
            raise KmoError(
                f"{path}: implausible frame size {w}x{h} (damaged header?); re-export the video."
            )
        if rotation in (90, 270):
            w, h = h, w
        frames = int(stream.frames) if stream.frames and stream.frames > 0 else None
        try:
            duration = (
                float(stream.duration * stream.time_base)
                if stream.duration and stream.time_base
                else (float(container.duration) / 1e6 if container.duration else None)
            )
        except (ZeroDivisionError, OverflowError, TypeError):
            duration = None
        if duration is not None and not (np.isfinite(duration) and duration > 0):
            duration = None
        warnings: list[str] = []
        if not (MIN_FPS <= fps <= MAX_FPS):
            if fps == 0 and frames and duration and MIN_FPS <= frames / duration <= MAX_FPS:
                warnings.append(
                    "the container gives no frame rate; using timestamps "
                    f"({frames / duration:.3f} fps average)"
                )
                fps = frames / duration
            else:
                raise KmoError(
                    f"{path}: frame rate {fps:g} fps in the metadata is absurd or too low to "
                    f"time a jump ({MIN_FPS:g}-{MAX_FPS:g} fps usable); re-export the video at "
                    "the camera's frame rate (60 fps or more recommended)."
                )
        return VideoInfo(str(path), w, h, fps, frames, duration, rotation, codec, tuple(warnings))
    finally:
        container.close()


class _Tally:
    """Counts kept by the decode thread; turned into a :class:`DecodeReport` at the end."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.undecodable = 0
        self.concealed = 0
        self.duplicates = 0
        # frames that never came out: (their time in the file, or None, and the index of
        # the next frame out when the time is unknown, cause)
        self.bad: list[tuple[float | None, int, str]] = []
        self.t0: float | None = None  # file time of the first frame shown
        self.reorder = 0  # frames the decoder delays for B-frames (shown before a reference)
        self.last_key = 0
        self.last_ref = -1  # the last frame shown that is not a B-frame
        self.corrupt_from: int | None = None  # a concealed frame damages until a keyframe
        self.damaged: list[tuple[int, int, str]] = []  # [first, last] frame indices
        self.stopped: str | None = None

    def corrupt(self, index: int, keyframe: bool, concealed: bool, bframe: bool) -> None:
        """Frame ``index`` came out: close or open a range of concealed-error damage."""
        if keyframe:
            if self.corrupt_from is not None:
                self.damaged.append((self.corrupt_from, index - 1, "concealed decoding errors"))
                self.corrupt_from = None
            self.last_key = index
        if concealed:
            self.concealed += 1
            if self.corrupt_from is None:
                # the B-frames shown since the previous reference frame predict from
                # this one too
                start = index if bframe else self.last_ref + 1
                self.corrupt_from = max(min(start, index - self.reorder), self.last_key)
        if not bframe:
            self.last_ref = index

    def report(self, info: VideoInfo) -> DecodeReport:
        times = np.asarray(self.times)
        n = len(times)
        if self.corrupt_from is not None:
            self.damaged.append((self.corrupt_from, n - 1, "concealed decoding errors"))
        spans = list(self.damaged)
        for t_abs, nxt, cause in self.bad:  # missing frames lie between two decoded ones
            spread = 0
            if t_abs is not None and self.t0 is not None and n:
                # a packet lost in decode order costs a frame up to `reorder` frames away
                # in display order (the decoder's B-frame delay), so widen by that much
                nxt = int(np.searchsorted(times, t_abs - self.t0))
                spread = self.reorder + 1
            spans.append((max(nxt - 1 - spread, 0), min(nxt + spread, n - 1), cause))
        ranges = []
        for a, b, cause in sorted(spans):
            if n == 0:
                break
            a, b = min(max(a, 0), n - 1), min(max(b, 0), n - 1)
            ranges.append(DamagedRange(float(times[a]), float(times[b]), b - a + 1, cause))
        dropped, gaps, jitter = frame_timing(times)
        warnings = []
        if self.stopped is not None:
            warnings.append(
                f"decoding stopped after {n} frames ({self.stopped}): the file looks "
                "truncated or corrupt"
            )
        if self.undecodable:
            warnings.append(
                f"{self.undecodable} damaged packet(s) or frame(s) could not be decoded"
            )
        if self.concealed:
            warnings.append(
                f"{self.concealed} frame(s) decoded with concealed errors (damaged data)"
            )
        if self.duplicates:
            warnings.append(
                f"{self.duplicates} frame(s) with a repeated or backwards timestamp dropped"
            )
        return DecodeReport(
            times=times,
            measured_fps=measured_fps(times, info.fps),
            undecodable=self.undecodable,
            concealed=self.concealed,
            duplicate_frames=self.duplicates,
            damaged=tuple(ranges),
            dropped_frames=dropped,
            gaps=gaps,
            timestamp_jitter_ms=jitter,
            warnings=tuple(warnings),
        )


# The pose models look at 192-288 px inputs (MediaPipe: a 224 px detector, a 256 px landmark
# model): frames shrunk below that lose what the model could have seen and gain nothing.
MIN_MAX_SIDE = 256


def check_max_side(max_side: int | None) -> None:
    """Refuse a ``--max-side`` the pose models cannot work with (0 and None: full size)."""
    if max_side and max_side < MIN_MAX_SIDE:
        raise KmoError(
            f"--max-side {max_side} is smaller than the pose models' input "
            f"({MIN_MAX_SIDE} px); give at least {MIN_MAX_SIDE}, or 0 for the full size."
        )


def _target_size(info: VideoInfo, max_side: int | None) -> tuple[int, int] | None:
    """Decoded (width, height) when shrinking to ``max_side``; None to keep the size."""
    if not max_side or max(info.width, info.height) <= max_side:
        return None
    k = max_side / max(info.width, info.height)
    return max(2, round(info.width * k / 2) * 2), max(2, round(info.height * k / 2) * 2)


def decoded_size(info: VideoInfo, max_side: int | None) -> tuple[int, int]:
    """(width, height) of the upright frames ``decode(..., max_side)`` gives for ``info``."""
    return _target_size(info, max_side) or (info.width, info.height)


def _decode(
    path: str,
    info: VideoInfo,
    out: queue.Queue,
    stop: threading.Event,
    tally: _Tally,
    max_side: int | None,
) -> None:
    container = None
    try:
        container = _open(path)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        size = _target_size(info, max_side)
        scale = info.width / size[0] if size else 1.0
        t0: float | None = None
        last_t = -np.inf
        index = 0
        tb = float(stream.time_base) if stream.time_base else None
        for frame, why, pts in _frames(container, stream):
            if stop.is_set():
                return
            if frame is None:
                if why == "undecodable":
                    tally.undecodable += 1
                    t_bad = pts * tb if pts is not None and tb else None
                    tally.bad.append((t_bad, index, "undecodable packet"))
                    continue
                tally.stopped = why
                break
            t_abs = frame.time
            if t_abs is None or not np.isfinite(t_abs):
                t_abs = (last_t + 1.0 / info.fps) if index else 0.0
                if t0 is not None:
                    t_abs += t0
            if t0 is None:
                t0 = tally.t0 = float(t_abs)
            t = float(t_abs - t0)
            tally.reorder = max(tally.reorder, int(stream.codec_context.has_b_frames or 0))
            if t <= last_t:  # duplicated or out-of-order timestamp
                tally.duplicates += 1
                continue
            rot = _rotation_of(frame)
            try:
                if size is not None:
                    w, h = size if rot in (0, 180) else size[::-1]
                    image = frame.to_ndarray(width=w, height=h, format="rgb24")
                else:
                    image = frame.to_ndarray(format="rgb24")
                image = upright(image, rot)
            except (ValueError, MemoryError) as exc:  # undecodable picture: count, go on
                tally.undecodable += 1
                tally.bad.append((t_abs, index, "undecodable picture"))
                if tally.undecodable > MAX_BAD_PACKETS:
                    tally.stopped = type(exc).__name__
                    break
                continue
            want = (size[1], size[0]) if size else (info.height, info.width)
            if image.shape[:2] != want:  # a damaged frame header
                tally.undecodable += 1
                tally.bad.append((t_abs, index, "damaged frame header"))
                continue
            pict = frame.pict_type  # an enum or, in older PyAV, its int (3 = B)
            bframe = getattr(pict, "name", None) == "B" or pict == 3
            tally.corrupt(index, bool(frame.key_frame), bool(frame.is_corrupt), bframe)
            last_t = t
            tally.times.append(t)
            out.put(Frame(index, t, image, scale))
            index += 1
        if index == 0:
            raise KmoError(
                f"{path}: cannot decode any frame; the file is corrupt, truncated or uses an "
                "unsupported codec; re-export it as H.264 MP4."
            )
        if index >= 3:
            rate = 1.0 / max(float(np.median(np.diff(tally.times))), 1e-9)
            if not (MIN_FPS <= rate <= MAX_FPS):
                raise KmoError(
                    f"{path}: the timestamps give an absurd frame rate ({rate:.3g} fps; "
                    f"{MIN_FPS:g}-{MAX_FPS:g} usable); re-export the video at the camera's "
                    "frame rate."
                )
        total = index + tally.duplicates
        if tally.duplicates > max(2, MAX_DUPLICATE_SHARE * total):
            raise KmoError(
                f"{path}: broken timestamps ({tally.duplicates} of {total} frames repeat an "
                "earlier time); re-export the video (e.g. as constant-frame-rate H.264 MP4)."
            )
        out.put(None)
    except BaseException as exc:  # noqa: BLE001 - forwarded to the consumer thread
        out.put(exc)
    finally:
        if container is not None:
            container.close()


class FrameStream:
    """Upright RGB frames decoded in a background thread (bounded queue).

    Iterate it once; afterwards :attr:`report` tells what decoding found.
    """

    def __init__(
        self, path: str, info: VideoInfo, prefetch: int = 3, max_side: int | None = None
    ) -> None:
        self.path, self.info = path, info
        self._prefetch, self._max_side = prefetch, max_side
        self._tally = _Tally()
        self._report: DecodeReport | None = None

    @property
    def report(self) -> DecodeReport:
        """What decoding found (available once the stream is exhausted)."""
        if self._report is None:
            raise RuntimeError("the frame stream has not been read to its end")
        return self._report

    def __iter__(self) -> Iterator[Frame]:
        q: queue.Queue = queue.Queue(maxsize=self._prefetch)
        stop = threading.Event()
        args = (self.path, self.info, q, stop, self._tally, self._max_side)
        worker = threading.Thread(target=_decode, args=args, daemon=True)
        worker.start()
        try:
            while True:
                item = q.get()
                if item is None:
                    worker.join()
                    self._report = self._tally.report(self.info)
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while worker.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    worker.join(timeout=0.05)


def decode(path: str, info: VideoInfo, max_side: int | None = None) -> FrameStream:
    """Stream the upright RGB frames of ``path`` (shrunk so no side exceeds ``max_side``)."""
    return FrameStream(path, info, max_side=max_side)


def iter_frames(path: str, info: VideoInfo, prefetch: int = 8) -> Iterator[Frame]:
    """Yield upright RGB frames at full size (when the decode report is not needed)."""
    yield from FrameStream(path, info, prefetch)
