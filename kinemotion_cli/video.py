"""Video input: probe a file, stream upright RGB frames with their presentation times.

Decoding uses PyAV (FFmpeg). PyAV does not apply the display matrix itself, so the rotation
phones write (e.g. -90 for portrait video stored as landscape) is applied here, exactly once.
Frames are streamed from a background thread so decoding overlaps with pose inference and
memory does not grow with video length.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kinemotion_cli.errors import KmoError

MIN_FPS, MAX_FPS = 1.0, 2000.0


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


@dataclass
class Frame:
    """One decoded, upright RGB frame and its presentation time in seconds from video start."""

    index: int
    t: float
    image: np.ndarray


def _rotation_of(obj: object) -> int:
    rot = getattr(obj, "rotation", 0) or 0
    return int(round(float(rot) / 90.0)) * 90 % 360


def upright(image: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Apply a display-matrix rotation (degrees counter-clockwise, FFmpeg convention)."""
    k = (rotation_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=k)) if k else image


def _open(path: str):  # noqa: ANN202 - av.container.InputContainer
    import av

    p = Path(path)
    if not p.exists():
        raise KmoError(f"{path}: no such file; check the path.")
    if p.is_dir():
        raise KmoError(f"{path}: is a directory; give a video file (or use --recursive).")
    if p.stat().st_size == 0:
        raise KmoError(f"{path}: file is empty (0 bytes); re-export or re-copy the video.")
    try:
        container = av.open(str(p), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise KmoError(
            f"{path}: not a readable video ({type(exc).__name__}); "
            "check the file is a complete MP4/MOV/AVI and not truncated."
        ) from None
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        container.close()
        raise KmoError(
            f"{path}: has no video stream (contains {', '.join(kinds)}); give a video file."
        )
    return container


def probe(path: str) -> VideoInfo:
    """Read the container header and the first frame; raise KmoError for unusable files."""
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        try:
            first = next(iter(container.decode(stream)), None)
        except av.error.FFmpegError:
            first = None
        if first is None:
            raise KmoError(
                f"{path}: no decodable video frame (codec {codec}); the file is corrupt, "
                "truncated or uses an unsupported codec; re-export it as H.264 MP4."
            )
        rotation = _rotation_of(first)
        w, h = first.width, first.height
        if rotation in (90, 270):
            w, h = h, w
        frames = int(stream.frames) if stream.frames else None
        duration = (
            float(stream.duration * stream.time_base)
            if stream.duration and stream.time_base
            else (float(container.duration) / 1e6 if container.duration else None)
        )
        warnings: list[str] = []
        if not (MIN_FPS <= fps <= MAX_FPS):
            if frames and duration and MIN_FPS <= frames / duration <= MAX_FPS:
                warnings.append(
                    f"container frame rate {fps:g} is implausible; using timestamps "
                    f"({frames / duration:.3f} fps average)"
                )
                fps = frames / duration
            else:
                raise KmoError(
                    f"{path}: absurd frame rate in metadata ({fps:g} fps) and no usable "
                    "timestamps; re-export the video with a standard frame rate."
                )
        return VideoInfo(str(path), w, h, fps, frames, duration, rotation, codec, warnings)
    finally:
        container.close()


def _decode(path: str, info: VideoInfo, out: queue.Queue, stop: threading.Event) -> None:
    import av

    container = None
    try:
        container = _open(path)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        t0: float | None = None
        last_t = -np.inf
        index = 0
        try:
            for frame in container.decode(stream):
                if stop.is_set():
                    return
                t_abs = frame.time if frame.time is not None else index / info.fps
                if t0 is None:
                    t0 = t_abs
                t = float(t_abs - t0)
                if t <= last_t:  # duplicated or out-of-order timestamp
                    info.warnings.append(f"non-increasing timestamp at frame {index}; dropped")
                    continue
                last_t = t
                image = upright(frame.to_ndarray(format="rgb24"), _rotation_of(frame))
                out.put(Frame(index, t, image))
                index += 1
        except av.error.FFmpegError as exc:
            if index == 0:
                raise KmoError(
                    f"{path}: cannot decode any frame ({exc.strerror or type(exc).__name__}); "
                    "the file is corrupt or truncated."
                ) from None
            info.warnings.append(
                f"decoding stopped after {index} frames ({exc.strerror or type(exc).__name__}):"
                " the file looks truncated or corrupt"
            )
        if index == 0:
            raise KmoError(f"{path}: the video has zero frames; re-export it.")
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
