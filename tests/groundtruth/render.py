"""Render ground-truth jump videos: paste the sprite on its background along an exact path.

Pure numpy/OpenCV + PyAV. Same Spec -> byte-identical MP4 and truth JSON.

Two paths: a Spec that uses none of the real-footage mechanisms (and a one-person source)
renders exactly as before (legacy path: one vertical remap for the whole sprite); anything
else goes through the general path: a per-column vertical remap (every column has its own
sole row from the sprite's alpha, so each foot stays planted where it stands, also a far
foot drawn higher), plantarflexion (foot rows stretched, sole kept on the floor), per-foot
lifts and depth offsets (steps), a pinhole camera for depth (scale about the horizon and
the centre column), a partner/bystander drawn in depth order, camera motion applied to the
whole composed frame (rendered with a margin so no border shows), trimmed clips, MP4 edit
lists and jittered timestamps.

MP4 edit lists (``hidden_leading_frames=N``), as found with PyAV 18 / FFmpeg: the muxer
writes an ``elst`` whose media time skips the N frames coded first (given negative pts).
Demuxing returns their packets with negative pts and ``packet.is_discard == True``; the
decoder does NOT output them (no frame flag to see; ``flags2 +skip_manual`` does not bring
them back); the first decoded frame has pts 0 and ``frame.time == 0.0``. The stream's
``frames`` count (and OpenCV's CAP_PROP_FRAME_COUNT) still counts them (N too many), while
OpenCV reads only the shown frames, starting at POS_MSEC 0. Opening with
``options={"ignore_editlist": "1"}`` decodes all of them with shifted times. The truth
therefore describes what a player shows: t = 0 at the first shown frame.
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

from .camera import CameraPath, Pinhole, frame_times
from .motion import (
    ARM_COM,
    ARM_SHARE,
    G,
    JumpDef,
    Motion,
    Program,
    StepDef,
    build_motion,
    build_program,
    jumps_in_view,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
JUMP_ALIASES = {
    "cmj": "cmj",
    "dj": "drop_jump",
    "drop_jump": "drop_jump",
    "sj": "squat_jump",
    "squat_jump": "squat_jump",
    "none": "none",
    "rebound": "rebound",
}
# source -> (scene, partner source or None)
SOURCES = {
    "front": ("front", None),
    "back": ("back", None),
    "two_front_man": ("two_front", "two_front_woman"),
    "two_front_woman": ("two_front", "two_front_man"),
    "two_oblique_man": ("two_oblique", "two_oblique_woman"),
    "two_oblique_woman": ("two_oblique", "two_oblique_man"),
}
TIMEBASE_JITTER = 90000
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
    # ---- real-footage mechanisms (defaults: off, the legacy rendering) ----
    more_jumps: list = dataclasses.field(default_factory=list)  # JumpDef kwargs dicts
    heel_rise_s: float = 0.0  # heel rises this long before toe-off; toe-first landings
    heel_rise_m: float = 0.05  # ankle rise over the planted toe at takeoff (and at landing)
    heel_drop_s: float | None = None  # heel drop after a toe-first landing (None: heel_rise_s)
    tuck_m: float = 0.0  # first jump: feet rise this much relative to the hip mid-flight
    arm_swing: bool = False  # countermovement jumps swing the arms (motion.ARM_*)
    squat_hold_s: float = 1.0  # first jump, a squat jump: the squat is held this long
    landing_shift_m: tuple = (0.0, 0.0)  # first jump: (sideways, toward camera) in flight
    camera_height_m: float = 1.4  # pinhole, level optical axis
    camera_distance_m: float = 4.0
    drift_m: tuple = (0.0, 0.0)  # stance drift (sideways, toward camera) over quiet standing
    steps: list = dataclasses.field(default_factory=list)  # StepDef kwargs dicts
    partner: bool = True  # two-people sources: draw the other person (depth order)
    partner_offset_m: tuple = (0.0, 0.0)  # move the partner (sideways, toward camera)
    camera_motion: str = "none"  # none | handheld | follow
    camera_shift_frac: float = 0.02  # translation amplitude, fraction of the frame height
    camera_rot_deg: float = 1.0
    camera_zoom_frac: float = 0.015
    follow_k: float = 0.5
    start_s: float = 0.0  # motion time shown at video time 0
    start_before_takeoff_s: float | None = None  # or: start this long before the 1st takeoff
    end_after_s: float | None = None  # clip ends this long after the last landing
    hidden_leading_frames: int = 0  # coded frames before t = 0, hidden by the MP4 edit list
    timestamp_jitter_ms: float = 0.0  # per-frame presentation-time jitter (1/90000 s base)
    montage_stills: int = 0  # the clip ends with an edited montage: stills of other views
    # cover: the scene fills the frame (centre crop); contain: the whole scene fits (a wide
    # frame of a tall scene shows it smaller, the sides filled by the scene mirrored)
    fit: str = "cover"

    def is_legacy(self) -> bool:
        """True when no new mechanism is used: rendered exactly as before they existed."""
        d = Spec()
        names = [f.name for f in dataclasses.fields(Spec)]
        new = names[names.index("more_jumps") :]
        same = all(getattr(self, k) == getattr(d, k) for k in new)
        return same and self.source in ("front", "back")

    def program(self, shift_m: float = 0.0) -> Program:
        """The motion program (all jumps, overlay tracks) of this spec."""
        first = JumpDef(
            JUMP_ALIASES[self.jump],
            self.flight_time,
            self.depth,
            self.box,
            self.eccentric_s,
            landing_shift_m=tuple(self.landing_shift_m),
            landing_depth=self.landing_depth,
            tuck_m=self.tuck_m,
            takeoff_s=self.takeoff_s,
            hold_s=self.squat_hold_s,
        )
        more = []
        for j in self.more_jumps:
            j = dict(j)
            j["jump"] = JUMP_ALIASES.get(j.get("jump", "cmj"), j.get("jump", "cmj"))
            if "landing_shift_m" in j:
                j["landing_shift_m"] = tuple(j["landing_shift_m"])
            more.append(JumpDef(**j))
        return build_program(
            [first, *more],
            standing_s=self.standing_s,
            heel_rise_s=self.heel_rise_s,
            heel_rise_m=self.heel_rise_m,
            heel_drop_s=self.heel_drop_s,
            shift_m=shift_m,
            drift_m=tuple(self.drift_m),
            steps=[StepDef(**st) for st in self.steps],
            end_standing_s=self.end_standing_s,
            arm_swing_m=ARM_SHARE * ARM_COM * self.stature_m if self.arm_swing else 0.0,
        )

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
    scene = SOURCES[source][0]
    meta = json.loads((ASSETS / f"{source}.json").read_text())
    bg = cv2.cvtColor(cv2.imread(str(ASSETS / f"{scene}_background.jpg")), cv2.COLOR_BGR2RGB)
    sp = cv2.cvtColor(
        cv2.imread(str(ASSETS / f"{source}_sprite.png"), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA
    )
    return bg, sp, meta


def _feet_meta(meta: dict, sp: np.ndarray) -> dict:
    """Per-foot ankle point, columns and sole row (source sprite px), from the JSON or the
    landmarks (the one-person assets have no "feet" entry)."""
    if "feet" in meta:
        return meta["feet"]
    lms = meta["landmarks"]
    a_bin = sp[..., 3] >= 128
    out = {}
    for side, ids in (("left", (27, 29, 31)), ("right", (28, 30, 32))):
        xs = [lms[i][0] for i in ids]
        c0, c1 = max(0, int(min(xs)) - 8), min(sp.shape[1], int(max(xs)) + 9)
        r = int(lms[ids[0]][1])
        sub = a_bin[r:, c0:c1]
        sole = int(r + np.nonzero(sub.any(axis=1))[0].max()) if sub.any() else meta["foot_row"]
        out[side] = {"ankle": lms[ids[0]][:2], "x_range": [c0, c1 - 1], "sole_row": sole}
    return out


# Sprites whose arms stand clear of the trunk in the picture: only these can swing them (in
# the others an arm lies along the trunk or is bent behind the back, and cutting it out would
# take a strip of the trunk with it).
ARM_SOURCES = ("front", "two_front_man")
ARM_MIN_SCALE = 0.25  # an arm's picture is at least this share of its length tall


@dataclass
class _Columns:
    """Per sprite column (output px): left-foot weight, ankle row, sole row, foot pixels."""

    w_left: np.ndarray
    ankle: np.ndarray
    sole: np.ndarray
    has_foot: np.ndarray


class Scene:
    """Background, sprite and placement at output resolution (upright).

    Coordinates are canvas pixels; the canvas is the output frame plus `margin` pixels on
    every side (margin > 0 only with camera motion). World (static-scene) image coordinates
    = canvas - margin."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.jump = JUMP_ALIASES[spec.jump]
        self.general = not spec.is_legacy()
        self.margin = 0
        self._layout(0)
        if self.general and spec.camera_motion != "none":
            # render a margin so that the moving camera never shows a border
            for _ in range(3):
                path = self._camera(self.margin)
                n = max(2, int(math.ceil(self.clip_end_motion() - self.start_s) * 30) + 2)
                need = path.margin_px(self.start_s + np.linspace(0, n / 30, n))
                m = int(math.ceil(need * 1.1)) + 4
                if m <= self.margin:
                    break
                self.margin = m + (m % 2)
                self._layout(self.margin)
        self.camera = self._camera(self.margin) if self.general else None

    # ---- geometry -------------------------------------------------------------------------
    def _layout(self, margin: int) -> None:
        spec = self.spec
        bg, sp, meta = _load(spec.source)
        self._meta, self._sp = meta, sp
        ch, cw = bg.shape[:2]
        w, h = spec.width, spec.height
        # canvas -> output scale: cover (centre crop) or contain (mirrored borders)
        so = max(w / cw, h / ch) if spec.fit == "cover" else min(w / cw, h / ch)
        bw, bh = round(cw * so), round(ch * so)
        bgo = cv2.resize(bg, (bw, bh), interpolation=cv2.INTER_AREA)
        cx, cy = (bw - w) // 2, (bh - h) // 2
        px, py = max(-cx, 0), max(-cy, 0)  # contain: mirror the scene into the borders
        if px or py:
            bgo = cv2.copyMakeBorder(
                bgo, py, max(h - bh - py, 0), px, max(w - bw - px, 0), cv2.BORDER_REFLECT_101
            )
        self._so, self._crop = so, (cx, cy)
        self.contained = bool(px or py)  # the scene is smaller than the frame
        self.bg = bgo[cy + py : cy + py + h, cx + px : cx + px + w].astype(np.float32)

        stature_src = meta["foot_row"] - meta["head_row"]
        probe = spec.program() if self.general else spec.motion()
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
        if self.general:
            self.motion = spec.program(self.shift_m)
        else:
            self.motion = spec.motion(self.shift_m)  # x(t) runs from -shift_m to 0
        self.bg_box = self.bg.copy()  # static background with the box drawn in
        if self.box_rect is not None:
            self._draw_box(self.bg_box)
        if spec.bystander and SOURCES[spec.source][1] is None:
            self._draw_bystander(self.bg_box, "back" if spec.source == "front" else "front")
        if not self.general:
            return
        if margin:
            # camera motion: extend the scene by reflection (the moving frame shows at most
            # a thin mirrored strip at an edge, never a blank border); shift all coordinates
            pad = (margin, margin, margin, margin, cv2.BORDER_REFLECT_101)
            self.bg = cv2.copyMakeBorder(self.bg, *pad)
            self.bg_box = cv2.copyMakeBorder(self.bg_box, *pad)
            self.top_y += margin
            self.left_x += margin
            if self.box_rect is not None:
                x0, x1, y0, y1 = self.box_rect
                self.box_rect = (x0 + margin, x1 + margin, y0 + margin, y1 + margin)
        self.pin = Pinhole(
            self.ppm,
            self.top_y + self.sprite.foot + 0.5,
            margin + (spec.width - 1) / 2,
            spec.camera_height_m,
            spec.camera_distance_m,
        )
        self.cols = self._columns(rgba, meta, sp, kx, ky)
        if spec.arm_swing and spec.source not in ARM_SOURCES:
            raise ValueError(
                f"arm_swing needs a sprite whose arms stand clear of the body: {ARM_SOURCES}"
            )
        self.arms = self._cut_arms(meta, kx, ky) if spec.arm_swing else []
        self.start_s = self._start()
        self.partner = None
        self.bg_partner = None
        partner = SOURCES[spec.source][1]
        if partner is not None and spec.partner:
            self._make_partner(partner)

    def _cut_arms(self, meta: dict, kx: float, ky: float) -> list[tuple]:
        """Lift both arms out of the sprite (output px): per arm its premultiplied layer, its
        source box and its shoulder point; the sprite keeps the body without them. An arm is
        what lies within 4.5 % of stature of the chain shoulder-elbow-wrist-fingertip and
        outside the trunk (the quadrilateral of shoulders and hips)."""
        rgba = self.sprite.rgba
        h, w = rgba.shape[:2]
        lms = [((p[0] + 0.5) * kx - 0.5, (p[1] + 0.5) * ky - 0.5) for p in meta["landmarks"]]
        radius = max(2, round(0.045 * (self.sprite.foot - self.sprite.head)))
        trunk = np.zeros((h, w), np.float32)
        quad = np.rint([lms[i] for i in (11, 12, 24, 23)]).astype(np.int32)
        cv2.fillConvexPoly(trunk, quad, 1.0)
        out, body = [], rgba.copy()
        for chain in ((11, 13, 15, 19), (12, 14, 16, 20)):  # BlazePose left, right arm
            mask = np.zeros((h, w), np.float32)
            pts = [np.array(lms[i]) for i in chain]
            for a, b in zip(pts, pts[1:]):
                cv2.line(mask, tuple(np.rint(a).astype(int)), tuple(np.rint(b).astype(int)),
                         1.0, 2 * radius)  # fmt: skip
            mask = cv2.GaussianBlur(mask * (1.0 - trunk), (3, 3), 0)[..., None]
            layer = rgba * mask
            body = body * (1.0 - mask)
            ys, xs = np.nonzero(layer[..., 3] > 0)
            if len(xs):
                box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
                out.append((layer, box, pts[0]))
        self.sprite = dataclasses.replace(self.sprite, rgba=body)
        return out

    def draw_arms(self, img: np.ndarray, b: dict, angle: float) -> None:
        """Composite the arms, swung by ``angle`` about the shoulders, onto canvas ``img``.
        Seen along the swing's axis, an arm at angle a shows its length times cos a below
        (above, past horizontal) its shoulder, but never shorter than a quarter of it (an arm
        pointing at the camera is a blob of its own thickness and the hand, not a line); the
        upper body is a translation by b["hp"]."""
        pin, s = self.pin, b["s"]
        h, w = img.shape[:2]
        c = math.copysign(max(abs(math.cos(angle)), ARM_MIN_SCALE), math.cos(angle))
        for layer, (x0, y0, x1, y1), (_, ys) in self.arms:
            tx = pin.centre_x + s * (b["left"] - pin.centre_x)
            ty = pin.horizon_row + s * (self.top_y + ys * (1 - c) - b["hp"] - pin.horizon_row)
            m = np.array([[s, 0.0, tx], [0.0, s * c, ty]])
            xs = (m[0, 0] * np.array([x0, x1]) + m[0, 2]).tolist()
            yv = (m[1, 1] * np.array([y0, y1]) + m[1, 2]).tolist()
            c0, c1 = max(0, math.floor(min(xs)) - 1), min(w, math.ceil(max(xs)) + 2)
            r0, r1 = max(0, math.floor(min(yv)) - 1), min(h, math.ceil(max(yv)) + 2)
            if c1 <= c0 or r1 <= r0:
                continue
            m[:, 2] -= (c0, r0)
            arm = cv2.warpAffine(layer, m, (c1 - c0, r1 - r0), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
            roi = img[r0:r1, c0:c1]
            roi *= 1 - arm[..., 3:]
            roi += arm[..., :3] * 255.0

    def _columns(self, rgba, meta, sp, kx: float, ky: float) -> _Columns:
        sw = rgba.shape[1]
        fm = _feet_meta(meta, sp)
        low = np.full(sw, -1.0)
        alpha = rgba[..., 3] >= 0.5
        anyc = alpha.any(axis=0)
        low[anyc] = alpha.shape[0] - 1 - np.argmax(alpha[::-1, anyc], axis=0)
        ank = {s_: (fm[s_]["ankle"][1] + 0.5) * ky - 0.5 for s_ in ("left", "right")}
        rng = {s_: [(v + 0.5) * kx - 0.5 for v in fm[s_]["x_range"]] for s_ in ("left", "right")}
        xs = np.arange(sw, dtype=np.float64)

        def inside(side: str) -> np.ndarray:
            a, b = rng[side]
            return (xs >= a - 0.5) & (xs <= b + 0.5)

        def dist(side: str) -> np.ndarray:
            a, b = rng[side]
            return np.maximum(np.maximum(a - xs, xs - b), 0.0)

        dl, dr = dist("left"), dist("right")
        w = np.where(dl + dr > 0, dr / np.maximum(dl + dr, 1e-9), 0.5)
        # outside the span of both feet: the nearer foot's full weight
        lo = min(rng["left"][0], rng["right"][0])
        hi = max(rng["left"][1], rng["right"][1])
        out = (xs < lo) | (xs > hi)
        w[out] = (dl < dr)[out].astype(np.float64)
        w[inside("left") & ~inside("right")] = 1.0
        w[inside("right") & ~inside("left")] = 0.0
        ankle = w * ank["left"] + (1 - w) * ank["right"]
        p0 = {s_: (fm[s_]["sole_row"] + 0.5) * ky - 0.5 - ank[s_] for s_ in ("left", "right")}
        default = ankle + np.maximum(w * p0["left"] + (1 - w) * p0["right"], 3.0)
        has = low >= ankle + 2.0
        sole = np.where(has, low, default)
        return _Columns(w, ankle, sole, has)

    def _start(self) -> float:
        spec = self.spec
        if spec.start_before_takeoff_s is not None:
            return self.motion.jumps[0]["events"]["takeoff_s"] - spec.start_before_takeoff_s
        return spec.start_s

    def clip_end_motion(self) -> float:
        """Motion time of the end of the clip (before frame rounding)."""
        spec, mo = self.spec, self.motion
        if spec.duration_s is not None:
            return self._start() + spec.duration_s
        if spec.end_after_s is not None and mo.jump != "none":
            return max(j["events"]["landing_s"] for j in mo.jumps) + spec.end_after_s
        return max(mo.end_s + spec.end_standing_s, max(mo.events.values()) + 0.3)

    def _camera(self, margin: int) -> CameraPath:
        spec = self.spec
        mo = self.motion
        ppm = self.ppm
        start = self._start()
        return CameraPath(
            spec.camera_motion,
            (spec.width, spec.height),
            spec.seed,
            spec.camera_shift_frac,
            spec.camera_rot_deg,
            spec.camera_zoom_frac,
            spec.follow_k,
            hip_up_px=lambda t: mo.hip(t)[0] * ppm,
            t0=start - 1.0,
            t1=self.clip_end_motion() + 1.0,
        )

    def _make_partner(self, source: str) -> None:
        """The other person of a two-people clip, standing still, in a premultiplied layer."""
        _, sp, meta = _load(source)
        pin, so = self.pin, self._so
        cx, cy = self._crop
        mg = self.margin
        floor0 = (meta["y0"] + meta["foot_row"] + 1.0) * so - cy - 0.5 + mg  # canvas row
        dist = pin.distance_m * (pin.floor_row - pin.horizon_row) / (floor0 - pin.horizon_row)
        dx, dz = self.spec.partner_offset_m
        s = dist / (dist - dz)
        k = so * s
        sw, sh = max(1, round(sp.shape[1] * k)), max(1, round(sp.shape[0] * k))
        rgba = sp.astype(np.float32) / 255.0
        rgba[..., :3] *= rgba[..., 3:]
        rgba = cv2.resize(rgba, (sw, sh), interpolation=cv2.INTER_AREA)
        ppm_p = self.ppm * pin.distance_m / dist
        x0 = pin.centre_x + s * (meta["x0"] * so - cx + mg - pin.centre_x) + dx * ppm_p * s
        y0 = pin.horizon_row + s * (meta["y0"] * so - cy + mg - pin.horizon_row)
        h, w = self.bg.shape[:2]
        layer = np.zeros((h, w, 4), np.float32)
        m = np.float32([[1, 0, x0], [0, 1, y0]])
        layer = cv2.warpAffine(
            rgba, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        self.partner = layer
        self.partner_floor = pin.horizon_row + s * (floor0 - pin.horizon_row)
        self.bg_partner = self.bg_box * (1 - layer[..., 3:]) + layer[..., :3] * 255.0

    # ---- general path ---------------------------------------------------------------------
    def body(self, tm: float) -> dict:
        """Jumper geometry at motion time tm (canvas px) for the general path."""
        mo = self.motion
        z, _vz, c, _vc, xb, e, _ve = mo.full(tm)
        sx, sz = mo.stance(tm)
        (lift_l, dep_l), (lift_r, dep_r) = mo.feet(tm)
        pin, ppm, cols = self.pin, self.ppm, self.cols
        s = pin.scale(sz)
        base = pin.floor_row_at(sz)
        d_l = (pin.floor_row_at(sz + dep_l) - base) / s if dep_l else 0.0
        d_r = (pin.floor_row_at(sz + dep_r) - base) / s if dep_r else 0.0
        w = cols.w_left
        lift = w * lift_l + (1 - w) * lift_r
        dd = w * d_l + (1 - w) * d_r
        a_p = (z + lift) * ppm - dd
        t_p = (z + lift - e) * ppm - dd
        return {
            "s": s,
            "left": self.left_x + (xb + sx) * ppm,
            "hp": (z + c) * ppm,
            "ap": a_p,
            "tp": t_p,
            "floor": base,
            "sz": sz,
            "hip_m": z + c,
            "toe_m": (z - e + lift_l, z - e + lift_r),
        }

    def to_canvas(self, b: dict, x_l, y_l):
        """Standing-sprite local coords -> canvas coords, for body geometry b."""
        pin, s = self.pin, b["s"]
        return (
            pin.centre_x + s * (b["left"] + x_l - pin.centre_x),
            pin.horizon_row + s * (self.top_y + y_l - pin.horizon_row),
        )

    def foot_rows(self, b: dict) -> tuple[float, float]:
        """Canvas row of the lowest opaque pixel of the left and the right foot."""
        cols, out = self.cols, []
        for side in (1.0, 0.0):
            sel = cols.has_foot & (np.abs(cols.w_left - side) < 0.5)
            if not sel.any():
                sel = cols.has_foot
            r = float(np.max(cols.sole[sel] - b["tp"][sel]))
            out.append(self.to_canvas(b, 0.0, r)[1])
        return out[0], out[1]

    def jumper_layer(self, b: dict):
        """Warped premultiplied jumper (ROI) and its canvas top-left (r0, c0), or None."""
        sp, cols = self.sprite, self.cols
        sh, sw = sp.rgba.shape[:2]
        h, w = self.bg.shape[:2]
        pin, s = self.pin, b["s"]
        top_l = -b["hp"] - 2.0
        bot_l = sh + float(np.max(-b["tp"])) + 2.0
        xa, ya = self.to_canvas(b, -2.0, top_l)
        xb, yb = self.to_canvas(b, sw + 2.0, bot_l)
        r0, r1 = max(0, math.floor(ya)), min(h, math.ceil(yb) + 1)
        c0, c1 = max(0, math.floor(xa)), min(w, math.ceil(xb) + 1)
        if r1 <= r0 or c1 <= c0:
            return None
        yl = pin.horizon_row + (np.arange(r0, r1, dtype=np.float64) - pin.horizon_row) / s
        yl = yl - self.top_y
        xl = pin.centre_x + (np.arange(c0, c1, dtype=np.float64) - pin.centre_x) / s - b["left"]
        ci = np.clip(np.rint(xl).astype(int), 0, sw - 1)
        hp_row = sp.hip
        a = cols.ankle[ci][None, :]
        so_ = cols.sole[ci][None, :]
        d_hip = hp_row - b["hp"]
        d_ank = a - b["ap"][ci][None, :]
        d_sole = so_ - b["tp"][ci][None, :]
        yy = yl[:, None]
        legs = hp_row + (yy - d_hip) * (a - hp_row) / (d_ank - d_hip)
        foot = a + (yy - d_ank) * (so_ - a) / (d_sole - d_ank)
        src = np.where(
            yy < d_hip,
            yy + b["hp"],
            np.where(yy < d_ank, legs, np.where(yy < d_sole, foot, yy + b["tp"][ci][None, :])),
        )
        mx = np.broadcast_to(xl[None, :], src.shape).astype(np.float32)
        warped = cv2.remap(
            sp.rgba,
            mx,
            src.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        return warped, r0, c0

    def frame2(self, tm: float) -> tuple[np.ndarray, dict]:
        """Canvas RGB float32 frame at motion time tm (general path) and its body geometry."""
        b = self.body(tm)
        partner_front = self.partner is not None and self.partner_floor > b["floor"]
        if self.partner is not None and not partner_front:
            img = self.bg_partner.copy()
        else:
            img = self.bg_box.copy()
        lay = self.jumper_layer(b)
        if lay is not None:
            warped, r0, c0 = lay
            roi = img[r0 : r0 + warped.shape[0], c0 : c0 + warped.shape[1]]
            roi *= 1 - warped[..., 3:]
            roi += warped[..., :3] * 255.0
        if self.arms:
            self.draw_arms(img, b, self.motion.arm_angle(tm))
        if partner_front:
            img *= 1 - self.partner[..., 3:]
            img += self.partner[..., :3] * 255.0
        b["partner_in_front"] = partner_front
        return img, b

    def output(self, img: np.ndarray, tm: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Canvas -> output frame through the camera; returns (frame, world->output affine)."""
        m, spec = self.margin, self.spec
        if self.camera is None or self.camera.mode == "none":
            return img[m : m + spec.height, m : m + spec.width], None
        a = self.camera.affine(tm)
        mc = a.copy()
        mc[:, 2] = a[:, 2] - a[:, :2] @ np.array([m, m], dtype=np.float64)
        out = cv2.warpAffine(
            img,
            mc,
            (spec.width, spec.height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )
        return out, a

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


def _x264(crf: int, preset: str) -> dict[str, str]:
    """x264 options that give the same bytes on every run. mbtree=0: x264's macroblock-tree
    lookahead reads uninitialised padding when the width is not a multiple of 16 and motion
    vectors point past the right edge (a moving camera, or heavy pixel noise), which made
    such files differ from run to run; without it they are stable."""
    return {"crf": str(crf), "preset": preset, "x264-params": "mbtree=0"}


def _encode(frames, path: Path, fps: float, crf: int, preset: str, size: tuple[int, int]) -> None:
    rate = Fraction(fps).limit_denominator(1001)
    # track timescale = frame rate numerator, so stored pts are k * denominator (k for integer fps)
    opts = {"video_track_timescale": str(rate.numerator)}
    with av.open(str(path), "w", format="mp4", options=opts) as cont:
        st = cont.add_stream("libx264", rate=rate, options=_x264(crf, preset))
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


def _encode_pts(
    frames, path: Path, fps: float, crf: int, preset: str, size: tuple[int, int], pts, tb
) -> None:
    """Encode frames with the given integer pts in time base tb (negative pts: frames hidden
    by the MP4 edit list the muxer then writes)."""
    rate = Fraction(fps).limit_denominator(1001)
    opts = {"video_track_timescale": str(tb.denominator)}
    with av.open(str(path), "w", format="mp4", options=opts) as cont:
        st = cont.add_stream("libx264", rate=rate, options=_x264(crf, preset))
        st.width, st.height = size
        st.pix_fmt = "yuv420p"
        st.time_base = tb
        st.codec_context.time_base = tb  # else x264 gets 1/fps and rounds jittered pts to it
        st.codec_context.thread_count = 1  # single-threaded x264: byte-identical output
        for p_, rgb in zip(pts, frames):
            fr = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            fr.pts = int(p_)
            fr.time_base = tb
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
    if spec.fit not in ("cover", "contain"):
        raise ValueError("fit must be cover or contain")
    if not spec.is_legacy():
        return _render_general(spec, out_path)
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
    truth.update(_v2_legacy(truth, spec, n))
    truth = _round(truth)
    truth_path = out_path.with_name(out_path.stem + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def _basic_mechanisms(spec: Spec) -> list[str]:
    out = []
    if spec.bystander and SOURCES[spec.source][1] is None:
        out.append("bystander")
    if spec.rotation:
        out.append("rotation")
    if spec.noise > 0:
        out.append("pixel_noise")
    if float(spec.fps) != round(spec.fps):
        out.append("fractional_fps")
    return out


def _v2_legacy(truth: dict, spec: Spec, n: int) -> dict:
    """Version-2 keys for a legacy render (one jump, video time = motion time)."""
    jumps = []
    if truth["jump_type"] != "none":
        jumps = [
            {
                "index": 1,
                "jump_type": truth["jump_type"],
                "events": truth["events"],
                "metrics": truth["metrics"],
            }
        ]
    truth["per_frame"]["t_s"] = [k / spec.fps for k in range(n)]
    return {"truth_version": 2, "jumps": jumps, "mechanisms": _basic_mechanisms(spec)}


MONTAGE_HOLD_S = 0.4  # each still of a montage stays this long


def montage(spec: Spec) -> list[np.ndarray]:
    """Stills as an edited montage at the end of a clip shows them: the other views (their
    room, their person standing), then a close-up of this clip's own view (its room zoomed
    1.3x: the background tracking follows that cut as a zoom). uint8 RGB, upright, at the
    clip's size."""
    here = SOURCES[spec.source][0]
    others = [src for src, (scene, _) in SOURCES.items() if scene != here]
    views = [(src, 1.0) for src in others[: spec.montage_stills - 1]] + [(spec.source, 1.3)]
    out = []
    for src, zoom in views[-spec.montage_stills :]:
        bg, sp, _ = _load(src)
        hh, ww = bg.shape[:2]
        ch, cw = round(hh / zoom), round(ww / zoom)
        bg = bg[(hh - ch) // 2 : (hh - ch) // 2 + ch, (ww - cw) // 2 : (ww - cw) // 2 + cw]
        img = cv2.resize(bg, (spec.width, spec.height), interpolation=cv2.INTER_AREA)
        img = img.astype(float)
        h = int(0.6 * zoom * spec.height)
        w = max(1, round(sp.shape[1] * h / sp.shape[0]))
        person = cv2.resize(sp, (w, h), interpolation=cv2.INTER_AREA).astype(float)
        x0, y0 = (spec.width - w) // 2, int(0.95 * spec.height) - h
        xs = slice(max(x0, 0), min(x0 + w, spec.width))
        ys = slice(max(y0, 0), y0 + h)
        part = person[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
        alpha = part[..., 3:] / 255.0
        img[ys, xs] = alpha * part[..., :3] + (1 - alpha) * img[ys, xs]
        out.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
    return out


def _render_general(spec: Spec, out_path: Path) -> dict:
    scene = Scene(spec)
    mo = scene.motion
    fps = spec.fps
    start = scene.start_s
    m = scene.margin
    if spec.duration_s is not None:
        n = round(spec.duration_s * fps)
    else:
        n = math.ceil((scene.clip_end_motion() - start) * fps - 1e-9)
    nh = int(spec.hidden_leading_frames)
    stills = montage(spec) if spec.montage_stills else []
    n_m = len(stills) * max(1, round(MONTAGE_HOLD_S * fps))
    times = frame_times(n + n_m, fps, spec.timestamp_jitter_ms, spec.seed, TIMEBASE_JITTER)
    hidden = np.array([(k - nh) / fps for k in range(nh)])
    if spec.timestamp_jitter_ms > 0:
        tb = Fraction(1, TIMEBASE_JITTER)
        hidden = np.round(hidden * TIMEBASE_JITTER) / TIMEBASE_JITTER
        pts = [round(t * TIMEBASE_JITTER) for t in (*hidden, *times)]
    else:
        rate = Fraction(fps).limit_denominator(1001)
        tb = 1 / rate
        pts = list(range(-nh, n + n_m))
    all_t = [*hidden, *times[:n]]
    rng = np.random.default_rng(spec.seed)
    pf: dict[str, list] = {
        "t_s": [],
        "foot_row_px": [],
        "foot_rows_px": [],
        "foot_z_m": [],
        "hip_z_m": [],
        "scale": [],
        "partner_in_front": [],
    }
    affines: list[list[float]] = []

    def gen():
        for k, tv in enumerate(all_t):
            tm = float(tv) + start
            img, b = scene.frame2(tm)
            out, a = scene.output(img, tm)
            if k >= nh:
                fl, fr = scene.foot_rows(b)
                pf["t_s"].append(float(tv))
                pf["foot_rows_px"].append([fl - m, fr - m])
                pf["foot_row_px"].append(max(fl, fr) - m)
                pf["foot_z_m"].append(min(b["toe_m"]))
                pf["hip_z_m"].append(b["hip_m"])
                pf["scale"].append(b["s"])
                pf["partner_in_front"].append(bool(b["partner_in_front"]))
                if a is not None:
                    affines.append([float(v) for v in a.reshape(-1)])
            if spec.noise > 0:
                out = out + rng.standard_normal(out.shape, dtype=np.float32) * np.float32(
                    spec.noise
                )
            out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
            yield _rotate_for_storage(out, spec.rotation)
        for k in range(n_m):
            yield _rotate_for_storage(stills[k * len(stills) // n_m], spec.rotation)

    stored = (spec.height, spec.width) if spec.rotation in (90, -90) else (spec.width, spec.height)
    _encode_pts(gen(), out_path, fps, spec.crf, spec.preset, stored, pts, tb)
    if spec.rotation:
        _patch_tkhd(out_path, spec.rotation)
    if scene.partner is None:
        del pf["partner_in_front"]
    if affines:
        pf["camera_affine"] = affines

    t_last = float(times[n - 1])
    jumps = jumps_in_view(mo, start, start + t_last)
    first = jumps[0] if jumps else {"jump_type": mo.jump, "events": {}, "metrics": {}}
    if mo.jump == "none":
        jumps = []
    mech = list(mo.mechanisms) + _basic_mechanisms(spec)
    cols = scene.cols
    soles = [
        float(np.max(cols.sole[cols.has_foot & (np.abs(cols.w_left - side) < 0.5)]))
        for side in (1.0, 0.0)
    ]
    if abs(soles[0] - soles[1]) > 5:
        mech.append("far_foot")
    for on, name in (
        (scene.partner is not None, "partner"),
        (spec.camera_motion != "none", f"camera_{spec.camera_motion}"),
        (start > 0, "trimmed_start"),
        (spec.end_after_s is not None, "trimmed_end"),
        (nh > 0, "edit_list"),
        (n_m > 0, "montage"),
        (scene.contained, "small_in_frame"),
        (spec.timestamp_jitter_ms > 0, "timestamp_jitter"),
    ):
        if on:
            mech.append(name)
    pin = scene.pin
    geometry = {
        "ground_foot_row_px": scene.top_y + max(soles) - m,
        "ground_foot_rows_px": [scene.top_y + v - m for v in soles],
        "standing_hip_row_px": scene.top_y + scene.sprite.hip - m,
        "standing_ankle_row_px": scene.top_y + scene.sprite.ankle - m,
        "standing_head_row_px": scene.top_y + scene.sprite.head - m,
        "box_rect_px": (
            [
                scene.box_rect[0] - m,
                scene.box_rect[1] - m,
                scene.box_rect[2] - m,
                scene.box_rect[3] - m,
            ]
            if scene.box_rect
            else None
        ),  # fmt: skip
        "pinhole": {
            "camera_height_m": pin.height_m,
            "camera_distance_m": pin.distance_m,
            "horizon_row_px": pin.horizon_row - m,
            "floor_row_px": pin.floor_row - m,
            "centre_x_px": pin.centre_x - m,
        },
        "margin_px": m,
        "note": "static-scene (world) image pixel indices, row 0 = top; output pixels = "
        "per_frame.camera_affine applied to them when the camera moves; foot row = lowest "
        "sprite row with alpha >= 0.5; foot_rows_px = (left, right) foot",
    }
    if scene.partner is not None:
        geometry["partner"] = {
            "source": SOURCES[spec.source][1],
            "floor_row_px": scene.partner_floor - m,
        }
    truth = {
        "truth_version": 2,
        "jump_type": first["jump_type"],
        "fps": fps,
        "frames": n + n_m,
        "duration_s": (n + n_m) / fps,
        "width": spec.width,
        "height": spec.height,
        "rotation": spec.rotation,
        "stature_m": spec.stature_m,
        "pixels_per_m": scene.ppm,
        "gravity_m_s2": G,
        "start_s": start,
        "hidden_leading_frames": nh,
        "montage_start_s": float(times[n]) if n_m else None,  # per_frame stops there
        "events": first["events"],
        "metrics": first["metrics"],
        "jumps": jumps,
        "mechanisms": mech,
        "steps": [
            {
                "start_s": st.t - start,
                "end_s": st.t + st.dur_s - start,
                "foot": st.foot,
                "length_m": st.length_m,
                "lift_m": st.lift_m,
            }
            for st in mo.steps
        ],  # fmt: skip
        "geometry": geometry,
        "per_frame": pf,
        "spec": dataclasses.asdict(spec),
    }
    truth = _round(truth)
    truth_path = out_path.with_name(out_path.stem + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1) + "\n")
    return truth
