"""Video input: probe a file, stream upright RGB frames with their presentation times.

Decoding uses PyAV (FFmpeg). PyAV does not apply the display matrix itself, so the rotation
phones write (e.g. -90 for portrait video stored as landscape) is applied here, exactly once.
Frames are streamed from a background thread so decoding overlaps with pose inference and
memory does not grow with video length.

Damaged input never raises anything but :class:`KmoError` with a one-line message: packets
that fail to decode are skipped and counted (``VideoInfo.decode_errors``), frames with a
repeated timestamp are dropped and counted (``VideoInfo.duplicate_frames``), and a file that
ends early keeps the frames decoded so far (with a warning).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kinemotion_cli.errors import KmoError

MIN_FPS, MAX_FPS = 10.0, 2000.0  # below 10 fps a jump (about 0.5 s of flight) cannot be timed
MAX_PIXELS = 8192 * 8192  # refuse absurd frame sizes (a damaged header) before decoding
MAX_DUPLICATE_SHARE = 0.2  # more frames than this with repeated timestamps: refuse
MAX_BAD_PACKETS = 200  # give up on a stream after this many undecodable packets in a row
IMAGE_FORMATS = ("image2", "image2pipe", "apng")  # plus every "*_pipe" demuxer (still images)


@dataclass
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
    warnings: list[str] = field(default_factory=list)
    decode_errors: int = 0  # packets that could not be decoded (their frames are missing)
    duplicate_frames: int = 0  # frames dropped for a repeated or backwards timestamp


@dataclass
class Frame:
    """One decoded, upright RGB frame and its presentation time in seconds from video start."""

    index: int
    t: float
    image: np.ndarray


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


def _frames(container, stream, info: VideoInfo | None):  # noqa: ANN001, ANN202
    """Decoded frames of ``stream``, skipping undecodable packets (counted in ``info``).

    Yields ``(frame, None)``; at the end yields ``(None, reason)`` if demuxing stopped early.
    """
    import av

    bad_run = 0
    try:
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except (av.error.FFmpegError, ValueError, MemoryError):
                bad_run += 1
                if info is not None:
                    info.decode_errors += 1
                if bad_run > MAX_BAD_PACKETS:
                    yield None, "too many undecodable packets"
                    return
                continue
            bad_run = 0
            for frame in decoded:
                yield frame, None
    except (av.error.FFmpegError, ValueError, MemoryError, OSError) as exc:
        yield None, getattr(exc, "strerror", None) or type(exc).__name__


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
        for frame, why in _frames(container, stream, None):
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
        return VideoInfo(str(path), w, h, fps, frames, duration, rotation, codec, warnings)
    finally:
        container.close()


def _decode(path: str, info: VideoInfo, out: queue.Queue, stop: threading.Event) -> None:
    container = None
    try:
        container = _open(path)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        t0: float | None = None
        last_t = -np.inf
        index = 0
        times: list[float] = []
        stopped: str | None = None
        for frame, why in _frames(container, stream, info):
            if stop.is_set():
                return
            if frame is None:
                stopped = why
                break
            t_abs = frame.time
            if t_abs is None or not np.isfinite(t_abs):
                t_abs = (last_t + 1.0 / info.fps) if index else 0.0
                if t0 is not None:
                    t_abs += t0
            if t0 is None:
                t0 = float(t_abs)
            t = float(t_abs - t0)
            if t <= last_t:  # duplicated or out-of-order timestamp
                info.duplicate_frames += 1
                continue
            try:
                image = upright(frame.to_ndarray(format="rgb24"), _rotation_of(frame))
            except (ValueError, MemoryError) as exc:  # undecodable picture: count, go on
                info.decode_errors += 1
                if info.decode_errors > MAX_BAD_PACKETS:
                    stopped = type(exc).__name__
                    break
                continue
            if image.shape[:2] != (info.height, info.width):  # a damaged frame header
                info.decode_errors += 1
                continue
            last_t = t
            times.append(t)
            out.put(Frame(index, t, image))
            index += 1
        if index == 0:
            raise KmoError(
                f"{path}: cannot decode any frame; the file is corrupt, truncated or uses an "
                "unsupported codec; re-export it as H.264 MP4."
            )
        if index >= 3:
            rate = 1.0 / max(float(np.median(np.diff(times))), 1e-9)
            if not (MIN_FPS <= rate <= MAX_FPS):
                raise KmoError(
                    f"{path}: the timestamps give an absurd frame rate ({rate:.3g} fps; "
                    f"{MIN_FPS:g}-{MAX_FPS:g} usable); re-export the video at the camera's "
                    "frame rate."
                )
        total = index + info.duplicate_frames
        if info.duplicate_frames > max(2, MAX_DUPLICATE_SHARE * total):
            raise KmoError(
                f"{path}: broken timestamps ({info.duplicate_frames} of {total} frames repeat "
                "an earlier time); re-export the video (e.g. as constant-frame-rate H.264 MP4)."
            )
        if stopped is not None:
            info.warnings.append(
                f"decoding stopped after {index} frames ({stopped}): the file looks truncated "
                "or corrupt"
            )
        if info.decode_errors:
            info.warnings.append(
                f"{info.decode_errors} damaged packet(s) or frame(s) could not be decoded"
            )
        if info.duplicate_frames:
            info.warnings.append(
                f"{info.duplicate_frames} frame(s) with a repeated or backwards timestamp dropped"
            )
        out.put(None)
    except BaseException as exc:  # noqa: BLE001 - forwarded to the consumer thread
        out.put(exc)
    finally:
        if container is not None:
            container.close()


def iter_frames(path: str, info: VideoInfo, prefetch: int = 8) -> Iterator[Frame]:
    """Yield upright RGB frames, decoded in a background thread (bounded queue)."""
    q: queue.Queue = queue.Queue(maxsize=prefetch)
    stop = threading.Event()
    worker = threading.Thread(target=_decode, args=(path, info, q, stop), daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is None:
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
