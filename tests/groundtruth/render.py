"""Render ground-truth jump videos: paste the sprite on its background along an exact path.

Pure numpy/OpenCV + PyAV. Same Spec -> byte-identical MP4 and truth JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .motion import G, Motion, build_motion

ASSETS = Path(__file__).resolve().parent.parent / "assets"
JUMP_ALIASES = {
    "cmj": "cmj",
    "dj": "drop_jump",
    "drop_jump": "drop_jump",
    "sj": "squat_jump",
    "squat_jump": "squat_jump",
    "none": "none",
}
BOX_FRONT = (120, 92, 64)  # RGB, plain brown plywood
BOX_TOP = (196, 168, 128)
BOX_TOP_M = 0.35  # height of the visible box top face (m of image height, lighter band)


@dataclass
class Spec:
    """All generator parameters (lengths in m, times in s)."""

    jump: str = "cmj"  # cmj | dj | sj | none (or the long names)
    fps: float = 60.0
    width: int = 540
    height: int = 960
    rotation: int = 0  # display-matrix angle, ffprobe convention (counter-clockwise, phones: -90)
    noise: float = 0.0  # gaussian pixel noise sigma in 8-bit levels
    crf: int = 18
    preset: str = "medium"
    source: str = "front"  # front | back
    flight_time: float = 0.5
    depth: float | None = None  # countermovement / squat / contact depth; None = per-jump default
    box: float = 0.3  # drop-jump box height
    seed: int = 0
    bystander: bool = False  # paste a second, standing person (the other clip's sprite)
    stature_m: float = 1.75
    takeoff_s: float | None = None  # None = auto (off-frame); for "none": movement start
    eccentric_s: float = 0.5
    landing_depth: float = 0.2
    standing_s: float = 1.0
    end_standing_s: float = 0.7
    duration_s: float | None = None  # None = until end_standing_s after the last movement

    def motion(self, shift_m: float = 0.0) -> Motion:
        """The analytic motion of this spec."""
        return build_motion(
            JUMP_ALIASES[self.jump],
            self.flight_time,
            self.depth,
            self.box,
            self.takeoff_s,
            self.eccentric_s,
            self.landing_depth,
            self.standing_s,
            shift_m,
        )


@dataclass
class _Sprite:
    rgba: np.ndarray  # float32 premultiplied, output scale
    foot: float  # rows in output sprite pixel indices
    ankle: float
    hip: float
    head: float
    foot_x: tuple[float, float]  # x-range of the feet (sprite px)


def _load(source: str) -> tuple[np.ndarray, np.ndarray, dict]:
    meta = json.loads((ASSETS / f"{source}.json").read_text())
    bg = cv2.cvtColor(cv2.imread(str(ASSETS / f"{source}_background.jpg")), cv2.COLOR_BGR2RGB)
    sp = cv2.cvtColor(
        cv2.imread(str(ASSETS / f"{source}_sprite.png"), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA
    )
    return bg, sp, meta


class Scene:
    """Background, sprite and placement at output resolution (upright)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.jump = JUMP_ALIASES[spec.jump]
        bg, sp, meta = _load(spec.source)
        ch, cw = bg.shape[:2]
        w, h = spec.width, spec.height
        so = max(w / cw, h / ch)  # canvas -> output scale (cover, centre crop)
        bw, bh = round(cw * so), round(ch * so)
        bgo = cv2.resize(bg, (bw, bh), interpolation=cv2.INTER_AREA)
        cx, cy = (bw - w) // 2, (bh - h) // 2
        self.bg = bgo[cy : cy + h, cx : cx + w].astype(np.float32)

        stature_src = meta["foot_row"] - meta["head_row"]
        probe = spec.motion()
        up = probe.max_up_m
        margin_top, margin_bottom = 0.02 * ch, 0.03 * ch
        # canvas continuous y of the foot row bottom edge when standing on the ground
        foot_y = meta["y0"] + meta["foot_row"] + 1.0
        need = stature_src * (1 + up / spec.stature_m)
        ss = 1.0
        if foot_y - need < margin_top:
            foot_y = min(ch - margin_bottom, margin_top + need)
            if foot_y - need < margin_top:
                ss = (foot_y - margin_top) / need
        k = so * ss  # source sprite px -> output px
        self.k = k
        rgba = sp.astype(np.float32) / 255.0
        rgba[..., :3] *= rgba[..., 3:]
        sw, sh = max(1, round(sp.shape[1] * k)), max(1, round(sp.shape[0] * k))
        rgba = cv2.resize(
            rgba, (sw, sh), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
        )
        kx, ky = sw / sp.shape[1], sh / sp.shape[0]
        row = lambda r: (r + 0.5) * ky - 0.5  # noqa: E731
        a_bin = sp[..., 3] >= 128
        feet = a_bin[int(meta["ankle_row"]) :].any(axis=0).nonzero()[0]
        self.sprite = _Sprite(
            rgba,
            row(meta["foot_row"]),
            row(meta["ankle_row"]),
            row(meta["hip_row"]),
            row(meta["head_row"]),
            ((feet.min() + 0.5) * kx - 0.5, (feet.max() + 0.5) * kx - 0.5),
        )
        self.ppm = (
            (meta["foot_row"] - meta["head_row"]) * ky / spec.stature_m
        )  # output px per metre
        # sprite top-left (continuous output coords) when standing on the ground, no shift
        centre_x = (meta["x0"] + sp.shape[1] / 2) * so - cx
        self.top_y = (foot_y * so - cy) - (self.sprite.foot + 1.0)
        self.left_x = centre_x - sw / 2

        # drop jump: box under the start position, beside the landing spot
        self.shift_m = 0.0
        self.box_rect = None
        if self.jump == "drop_jump":
            fx0, fx1 = self.sprite.foot_x
            pad = 0.08 * self.ppm
            box_w = fx1 - fx0 + 2 * pad
            self.shift_m = (box_w + 0.15 * self.ppm) / self.ppm
            room_right = w - (self.left_x + fx1)
            room_left = self.left_x + fx0
            side = 1.0 if room_right >= room_left else -1.0
            self.shift_m *= -side  # start position = base - shift; land at base
            bx0 = self.left_x - self.shift_m * self.ppm + fx0 - pad
            ground = self.top_y + self.sprite.foot + 1.0
            top = ground - spec.box * self.ppm
            self.box_rect = (bx0, bx0 + box_w, top, ground)
        self.motion = spec.motion(self.shift_m)  # x(t) runs from -shift_m to 0
        self.bg_box = self.bg.copy()  # static background with the box drawn in
        if self.box_rect is not None:
            self._draw_box(self.bg_box)
        if spec.bystander:
            self._draw_bystander(self.bg_box, "back" if spec.source == "front" else "front")

    def _draw_bystander(self, img: np.ndarray, source: str) -> None:
        """Alpha-blend a second person, standing still, beside the jumper (slightly behind)."""
        _, sp, meta = _load(source)
        k = self.k * 0.85
        sw, sh = max(1, round(sp.shape[1] * k)), max(1, round(sp.shape[0] * k))
        rgba = cv2.resize(sp.astype(np.float32) / 255.0, (sw, sh), interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        jumper_mid = self.left_x + self.sprite.rgba.shape[1] / 2
        x0 = int(round(0.02 * w)) if jumper_mid > w / 2 else int(round(w - sw - 0.02 * w))
        foot = self.top_y + self.sprite.foot - 0.06 * self.ppm  # a little further back
        y0 = int(round(foot - meta["foot_row"] * k))
        ys0, xs0 = max(y0, 0), max(x0, 0)
        ys1, xs1 = min(y0 + sh, h), min(x0 + sw, w)
        if ys1 <= ys0 or xs1 <= xs0:
            return
        part = rgba[ys0 - y0 : ys1 - y0, xs0 - x0 : xs1 - x0]
        alpha = part[..., 3:]
        region = img[ys0:ys1, xs0:xs1]
        region[:] = region * (1 - alpha) + part[..., :3] * 255.0 * alpha

    def ground_foot_y(self) -> float:
        """Output row (pixel index) of the lowest opaque sprite row when standing on the ground."""
        return self.top_y + self.sprite.foot

    def _draw_box(self, img: np.ndarray) -> None:
        x0, x1, top, ground = self.box_rect
        band = BOX_TOP_M * self.ppm
        xs = np.arange(img.shape[1]) + 0.5
        ys = np.arange(img.shape[0]) + 0.5
        cov_x = np.clip(np.minimum(xs - x0, x1 - xs) + 0.5, 0, 1)

        def cov_y(a: float, b: float) -> np.ndarray:
            return np.clip(np.minimum(ys - a, b - ys) + 0.5, 0, 1)

        for (a, b), col in (((top - band, top), BOX_TOP), ((top, ground), BOX_FRONT)):
            cov = cov_y(a, b)[:, None] * cov_x[None, :]
            img[:] = img * (1 - cov[..., None]) + np.asarray(col, np.float32) * cov[..., None]

    def frame(self, t: float) -> tuple[np.ndarray, float]:
        """Upright RGB float32 frame at time t and its foot row (index of the lowest opaque row)."""
        z, _, c, _, x = self.motion.state(t)
        img = self.bg_box.copy()
        sp = self.sprite
        top = self.top_y - z * self.ppm
        left = self.left_x + x * self.ppm
        d = -c * self.ppm  # hip drop in px (>= 0)
        sh, sw = sp.rgba.shape[:2]
        h, w = img.shape[:2]
        r0, r1 = max(0, math.floor(top) - 1), min(h, math.ceil(top + sh) + 1)
        c0, c1 = max(0, math.floor(left) - 1), min(w, math.ceil(left + sw) + 1)
        if r1 > r0 and c1 > c0:
            yl = np.arange(r0, r1, dtype=np.float64) - top  # sprite-local destination rows
            a, hp = sp.ankle, sp.hip
            src = yl - d
            if d > 0:
                mid = (yl >= hp + d) & (yl < a)
                src[mid] = a - (a - yl[mid]) * (a - hp) / (a - hp - d)
                src[yl >= a] = yl[yl >= a]
            xl = np.arange(c0, c1, dtype=np.float64) - left
            mx, my = np.meshgrid(xl.astype(np.float32), src.astype(np.float32))
            warped = cv2.remap(
                sp.rgba, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
            )
            roi = img[r0:r1, c0:c1]
            roi *= 1 - warped[..., 3:]
            roi += warped[..., :3] * 255.0
        return img, top + sp.foot


# Rotation conventions (verified in tests/test_groundtruth.py on files written here):
# - `rotation` / ffprobe "rotation of -90.00 degrees" / PyAV `frame.rotation`: the angle in
#   degrees, counter-clockwise positive, by which the STORED picture is turned for display;
#   upright = np.rot90(stored, k=frame.rotation // 90). Phones' portrait clips read -90.
# - OpenCV `CAP_PROP_ORIENTATION_META` reports the clockwise angle (-rotation mod 360, so 90
#   for a phone clip) and, with CAP_PROP_ORIENTATION_AUTO on (default), returns upright frames.
def display_matrix(rotation: int) -> bytes:
    """36-byte MP4 matrix for an ffprobe-convention rotation (-90 = the iPhone portrait matrix)."""
    th = math.radians(rotation)
    cs, sn = round(math.cos(th)), round(math.sin(th))
    # {a, b, u, c, d, v, x, y, w}; a,b,c,d,x,y are 16.16, u,v,w are 2.30.
    # rotation -90 gives {0, 1, 0, -1, 0, 0, 0, 0, 1} as written by iPhones.
    vals = [cs << 16, (-sn) << 16, 0, sn << 16, cs << 16, 0, 0, 0, 1 << 30]
    return struct.pack(">9i", *vals)


def _patch_tkhd(path: Path, rotation: int) -> None:
    data = bytearray(path.read_bytes())

    def boxes(lo: int, hi: int):
        i = lo
        while i + 8 <= hi:
            size, typ = struct.unpack(">I4s", data[i : i + 8])
            hdr = 8
            if size == 1:
                size, hdr = struct.unpack(">Q", data[i + 8 : i + 16])[0], 16
            elif size == 0:
                size = hi - i
            yield typ, i, hdr, i + size
            i += size

    done = 0
    for typ, i, hdr, end in boxes(0, len(data)):
        if typ != b"moov":
            continue
        for t2, j, h2, e2 in boxes(i + hdr, end):
            if t2 != b"trak":
                continue
            for t3, k, h3, _ in boxes(j + h2, e2):
                if t3 == b"tkhd":
                    off = k + h3 + (4 + 20 + 8 + 8 if data[k + h3] == 0 else 4 + 32 + 8 + 8)
                    data[off : off + 36] = display_matrix(rotation)
                    done += 1
    if done != 1:
        raise RuntimeError(f"expected one tkhd box, patched {done}")
    path.write_bytes(bytes(data))


def _rotate_for_storage(img: np.ndarray, rotation: int) -> np.ndarray:
    # A player shows the stored picture rotated by `rotation` degrees counter-clockwise, so
    # store the upright picture rotated by -rotation (np.rot90 turns counter-clockwise).
    return np.ascontiguousarray(np.rot90(img, k=(-rotation // 90) % 4))


def _encode(frames, path: Path, fps: float, crf: int, preset: str, size: tuple[int, int]) -> None:
    rate = Fraction(fps).limit_denominator(1001)
    # track timescale = frame rate numerator, so stored pts are k * denominator (k for integer fps)
    opts = {"video_track_timescale": str(rate.numerator)}
    with av.open(str(path), "w", format="mp4", options=opts) as cont:
        st = cont.add_stream("libx264", rate=rate, options={"crf": str(crf), "preset": preset})
        st.width, st.height = size
        st.pix_fmt = "yuv420p"
        st.time_base = 1 / rate
        st.codec_context.thread_count = 1  # single-threaded x264: byte-identical output
        for k, rgb in enumerate(frames):
            fr = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            fr.pts = k
            fr.time_base = 1 / rate
            for pkt in st.encode(fr):
                cont.mux(pkt)
        for pkt in st.encode():
            cont.mux(pkt)


def _round(v):
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_round(x) for x in v]
    return v


def render(spec: Spec, out_path: str | Path) -> dict:
    """Render spec to out_path (MP4) and write <stem>.truth.json beside it; return the truth."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if spec.rotation not in (0, 90, -90, 180):
        raise ValueError("rotation must be one of 0, 90, -90, 180")
    if spec.width % 2 or spec.height % 2:
        raise ValueError("width and height must be even")
    scene = Scene(spec)
    mo = scene.motion
    fps = spec.fps
    last = max(mo.end_s + spec.end_standing_s, max(mo.events.values()) + 0.3)
    n = math.ceil(last * fps) if spec.duration_s is None else round(spec.duration_s * fps)
    rng = np.random.default_rng(spec.seed)
    foot_rows: list[float] = []
    foot_z: list[float] = []
    hip_z: list[float] = []

    def gen():
        for k in range(n):
            t = k / fps
            img, foot = scene.frame(t)
            z, _, c, _, _ = mo.state(t)
            foot_rows.append(foot)
            foot_z.append(z)
            hip_z.append(z + c)
            if spec.noise > 0:
                img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(spec.noise)
            img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
            yield _rotate_for_storage(img, spec.rotation)

    stored = (spec.height, spec.width) if spec.rotation in (90, -90) else (spec.width, spec.height)
    _encode(gen(), out_path, fps, spec.crf, spec.preset, stored)
    if spec.rotation:
        _patch_tkhd(out_path, spec.rotation)

    metrics = dict(mo.metrics)
    truth = {
        "jump_type": scene.jump,
        "fps": fps,
        "frames": n,
        "duration_s": n / fps,
        "width": spec.width,
        "height": spec.height,
        "rotation": spec.rotation,
        "stature_m": spec.stature_m,
        "pixels_per_m": scene.ppm,
        "gravity_m_s2": G,
        "events": dict(sorted(mo.events.items(), key=lambda kv: kv[1])),
        "metrics": metrics,
        "geometry": {
            "ground_foot_row_px": scene.ground_foot_y(),
            "standing_hip_row_px": scene.top_y + scene.sprite.hip,
            "standing_ankle_row_px": scene.top_y + scene.sprite.ankle,
            "standing_head_row_px": scene.top_y + scene.sprite.head,
            "box_rect_px": list(scene.box_rect) if scene.box_rect else None,
            "note": "upright output pixel indices (row 0 = top); "
            "foot row = lowest sprite row with alpha >= 0.5",
        },
        "per_frame": {
            "foot_row_px": foot_rows,
            "foot_z_m": foot_z,
            "hip_z_m": hip_z,
        },
        "spec": dataclasses.asdict(spec),
    }
    truth = _round(truth)
    truth_path = out_path.with_name(out_path.stem + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1) + "\n")
    return truth
