"""Annotated overlay video: the input with the jumper's skeleton, phase, events and metrics.

A second decoding pass (``iter_frames``, so frames are upright exactly as analysed) is drawn
on with OpenCV and encoded with PyAV/libx264 as yuv420p H.264 in an MP4 with ``+faststart``
(plays on phones and in browsers). Every output frame keeps its input presentation time, so
the overlay has the same frame count and timing as the input; no rotation flag is written
because the pixels are already upright.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from kinemotion_cli.jumps import Jump, jump_at, phase_spans, timeline
from kinemotion_cli.jumps.types import COMMON_METRICS
from kinemotion_cli.landmarks import SKELETON
from kinemotion_cli.outputs import atomic_path
from kinemotion_cli.pipeline import Measured, ProgressFn
from kinemotion_cli.report import labels
from kinemotion_cli.video import iter_frames

# RGB colours per phase (shared with the plot); phase names come from the jump types.
PHASE_COLORS = {
    "standing": (150, 150, 150),
    "on box": (150, 150, 150),
    "squat hold": (120, 120, 200),
    "countermovement": (66, 135, 245),
    "drop": (170, 110, 220),
    "ground contact": (240, 150, 40),
    "propulsion": (60, 180, 75),
    "flight": (230, 60, 60),
    "landing": (200, 170, 40),
}
FLASH_S = 0.35  # how long an event banner stays on screen


def phase_at(spans: list[tuple[float, float, str]], t: float) -> str:
    """The phase name at time ``t``."""
    for a, b, name in spans:
        if a <= t < b:
            return name
    return spans[-1][2]


def _fmt_metric(key: str, value: float, unit: str) -> str:
    if unit == "s":
        return f"{1000 * value:.0f} ms"
    if unit == "m":
        return f"{100 * value:.1f} cm"
    return f"{value:.2f}" + (f" {unit}" if unit else "")


def _metric_lines(j: Jump) -> list[str]:
    """The overlay's metric lines of a jump: its declared metrics that have a short label."""
    out = []
    for spec in (*COMMON_METRICS, *j.type.metrics):
        m = j.metrics.get(spec.key)
        if spec.short and m is not None and m.ok:
            out.append(f"{spec.short}: {_fmt_metric(spec.key, m.value, m.unit)}")
    return out


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color, thick: int):  # noqa: ANN001, ANN202
    import cv2

    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick, cv2.LINE_AA)


class Annotator:
    """Draws one frame's annotations (RGB, in place)."""

    def __init__(self, m: Measured) -> None:
        a = m.analysis
        self.m = m
        self.landmarks = m.track.landmarks  # as seen in the frame (before camera removal)
        times = m.decode.times
        self.t_end = max(float(times[-1]) if len(times) else 0.0, 1e-6)
        self.events = timeline(a)
        self.spans = phase_spans(a, 0.0, self.t_end + 1.0)
        ev_label, _ = labels()
        self.event_label = ev_label
        self.metrics = {j.index: _metric_lines(j) for j in a.jumps}
        self.a = a
        self.several = len(a.jumps) > 1

    def draw(self, img: np.ndarray, i: int, t: float) -> np.ndarray:
        """Annotate frame ``i`` at time ``t``."""
        import cv2

        h, w = img.shape[:2]
        s = min(w, h) / 540.0
        th = max(1, round(2 * s))
        phase = phase_at(self.spans, t)
        pc = PHASE_COLORS.get(phase, (255, 255, 255))
        j = jump_at(self.a, t)
        levels = [c.level for c in j.flight.takeoff_contacts] if j is not None else []
        if levels:
            y = int(round(max(levels)))
            cv2.line(img, (0, y), (w - 1, y), (255, 255, 255), max(1, th // 2), cv2.LINE_AA)
        if 0 <= i < len(self.landmarks):
            self._skeleton(img, self.landmarks[i], pc, th)
        lines = self.metrics.get(j.index, []) if j is not None else []
        band = img[: int(60 * s) + int(22 * s) * len(lines) + int(10 * s)]
        band[:] = (band * 0.45).astype(img.dtype)
        title = j.type.label.upper() if j is not None else ""
        if self.several and j is not None:
            title += f" #{j.index}/{len(self.a.jumps)}"
        _text(
            img, f"{title}  t={t:.3f} s  #{i}", (int(10 * s), int(24 * s)), 0.6 * s, (255,) * 3, th
        )
        _text(img, f"phase: {phase}", (int(10 * s), int(52 * s)), 0.7 * s, pc, th)
        for k, line in enumerate(lines):
            y = int(80 * s) + int(22 * s) * k
            _text(img, line, (int(10 * s), y), 0.55 * s, (255, 255, 255), max(1, th - 1))
        recent = [(te, key) for te, key, _ in self.events if 0 <= t - te < FLASH_S]
        if recent:
            te, key = max(recent)
            label = f"{self.event_label.get(key, key).upper()} {te:.4f} s"
            _text(img, label, (int(10 * s), int(h * 0.55)), 0.9 * s, (255, 255, 0), th + 1)
        self._timeline(img, t, s, th)
        return img

    def _skeleton(self, img: np.ndarray, lm: np.ndarray, color, th: int) -> None:  # noqa: ANN001
        import cv2

        ok = np.isfinite(lm[:, 0]) & np.isfinite(lm[:, 1]) & (np.nan_to_num(lm[:, 2]) >= 0.3)
        pts = np.nan_to_num(lm[:, :2]).round().astype(int)
        for a, b in SKELETON:
            if ok[a] and ok[b]:
                cv2.line(img, tuple(pts[a]), tuple(pts[b]), color, th + 1, cv2.LINE_AA)
        for j in np.flatnonzero(ok):
            cv2.circle(img, tuple(pts[j]), th + 2, (255, 255, 255), -1, cv2.LINE_AA)

    def _timeline(self, img: np.ndarray, t: float, s: float, th: int) -> None:
        import cv2

        h, w = img.shape[:2]
        x0, x1 = int(10 * s), w - int(10 * s)
        y0, y1 = h - int(30 * s), h - int(16 * s)

        def x_of(tt: float) -> int:
            return int(round(x0 + (x1 - x0) * min(max(tt / self.t_end, 0.0), 1.0)))

        for a, b, name in self.spans:
            cv2.rectangle(img, (x_of(a), y0), (x_of(b), y1), PHASE_COLORS.get(name, (255,) * 3), -1)
        for te, _, _ in self.events:
            cv2.line(img, (x_of(te), y0 - int(5 * s)), (x_of(te), y1), (255, 255, 255), th)
        xc = x_of(t)
        cv2.line(img, (xc, y0 - int(8 * s)), (xc, y1 + int(4 * s)), (255, 255, 0), th + 1)


def _input_time_base(path: str) -> Fraction:
    import av

    with av.open(path, metadata_errors="ignore") as c:
        tb = c.streams.video[0].time_base
    return Fraction(tb) if tb else Fraction(1, 90000)


def write_overlay(
    m: Measured, path: Path, force: bool = False, progress: ProgressFn | None = None
) -> int:
    """Write the annotated H.264 MP4 to ``path`` atomically; return the number of frames."""
    import av
    import cv2

    info = m.video
    tb = _input_time_base(info.path)
    rate = Fraction(info.fps).limit_denominator(1001) if info.fps > 0 else Fraction(30)
    w, h = info.width + info.width % 2, info.height + info.height % 2  # yuv420p: even sizes
    ann = Annotator(m)
    n = 0
    with atomic_path(Path(path), force) as tmp:
        out = av.open(
            str(tmp), mode="w", format="mp4", container_options={"movflags": "+faststart"}
        )
        try:
            stream = out.add_stream("libx264", rate=rate)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.time_base = tb
            stream.codec_context.time_base = tb
            stream.options = {"crf": "20", "preset": "veryfast"}
            for frame in iter_frames(info.path, info):
                img = frame.image
                if img.shape[1] != w or img.shape[0] != h:
                    img = cv2.copyMakeBorder(
                        img, 0, h - img.shape[0], 0, w - img.shape[1], cv2.BORDER_REPLICATE
                    )
                img = ann.draw(np.ascontiguousarray(img), n, frame.t)
                vf = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
                vf.pts = int(round(frame.t / tb))
                vf.time_base = tb
                for packet in stream.encode(vf):
                    out.mux(packet)
                n += 1
                if progress is not None:
                    progress(n, info.frames)
            for packet in stream.encode():
                out.mux(packet)
        finally:
            out.close()
    return n
