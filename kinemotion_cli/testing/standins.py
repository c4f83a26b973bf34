"""Stand-in ONNX models for the rtmlib models: test and benchmark support, NOT pose models.

They have the real models' input/output signatures (so rtmlib and kmo run them unchanged) and
meaningless weights; every one carries the ONNX metadata marker ``kmo_standin``
(:data:`kinemotion_cli.models.STANDIN_KEY`), so kmo reports it as "stand-in model (test
only)" (``model_kind`` "stand-in") whatever its file name or folder. They are written under
the upstream file names so ``--model-dir`` finds them.

* YOLOX with NMS inside: ``input [1,3,S,S]`` (BGR 0..255, letterboxed) -> ``dets [1,N,5]``,
  ``labels [1,N]``. A background-subtraction detector: it holds one or more letterboxed
  backgrounds (constants) and uses the one closest to the frame; the box spans the
  rows/columns that differ from it (after a 3x3 erosion against compression noise), widened
  or narrowed to the pose crop's 3:4 aspect ratio around its centre. Score 1 if anything
  differs, else 0. Without a background (``background_rgb=None``) it compares with plain
  grey, so on ordinary footage the box spans nearly the whole picture: enough for speed
  figures on any video.
* RTMPose Halpe-26 SimCC: ``input [B,3,H,W]`` -> ``simcc_x [B,26,2W]``, ``simcc_y [B,26,2H]``:
  a fixed upright-person template placed in the crop (rtmlib pads the box by 1.25, so the
  box spans the middle 80 % of the crop). The person is tracked through the detector's box.
* RTMO: ``input [1,3,640,640]`` -> ``dets [1,N,5]``, ``keypoints [1,N,17,3]``: the same
  background subtraction and template.

``heavy_macs`` adds a random-weight convolution trunk of about that many multiply-adds whose
result is multiplied by 0 and added to the output, so timing is realistic and output sane.

Writing them needs the ``onnx`` package (``pip install onnx``; in kmo's ``dev`` extra), which
is imported only when a model is written: :func:`onnx_missing` says whether it is there.
``python -m kinemotion_cli.testing.standins --out DIR`` writes a folder for ``--model-dir``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kinemotion_cli import __version__
from kinemotion_cli.errors import KmoError
from kinemotion_cli.models import STANDIN_KEY

# The onnx modules, imported by _require_onnx() when the first model is written.
onnx = helper = numpy_helper = TensorProto = None
ONNX_MISSING = (
    "stand-in models need the 'onnx' package, which is not installed (pip install onnx, or "
    'pip install "kinemotion-cli[dev]")'
)

OPSET = 17
#: Multiply-adds per call of the real models, per mode: (detector, pose crop, RTMO). YOLOX and
#: RTMPose from their model zoos (GFLOPs there are 2x multiply-adds for YOLOX, multiply-adds
#: for mmpose); RTMO from its backbone (YOLOX-s/m/l CSPDarknet at 640), an estimate.
REAL_MACS = {
    "lightweight": (3.2e9, 0.68e9, 13.4e9),  # YOLOX-tiny 416, RTMPose-s, RTMO-s
    "balanced": (36.9e9, 1.93e9, 36.9e9),  # YOLOX-m 640, RTMPose-m, RTMO-m
    "performance": (141.0e9, 17.3e9, 77.8e9),  # YOLOX-x 640, RTMPose-x 384x288, RTMO-l
}
PAD = 114.0
ASPECT = 0.75  # crop width / height of every RTMPose model
# Halpe-26 template: (x fraction of box width, y fraction of box height); left = image right.
TEMPLATE = np.array(
    [
        (0.50, 0.07),  # nose
        (0.53, 0.05),  # left_eye
        (0.47, 0.05),  # right_eye
        (0.56, 0.06),  # left_ear
        (0.44, 0.06),  # right_ear
        (0.65, 0.19),  # left_shoulder
        (0.35, 0.19),  # right_shoulder
        (0.70, 0.33),  # left_elbow
        (0.30, 0.33),  # right_elbow
        (0.70, 0.45),  # left_wrist
        (0.30, 0.45),  # right_wrist
        (0.58, 0.53),  # left_hip
        (0.42, 0.53),  # right_hip
        (0.58, 0.74),  # left_knee
        (0.42, 0.74),  # right_knee
        (0.58, 0.95),  # left_ankle
        (0.42, 0.95),  # right_ankle
        (0.50, 0.00),  # head
        (0.50, 0.18),  # neck
        (0.50, 0.53),  # hip
        (0.60, 1.00),  # left_big_toe
        (0.40, 1.00),  # right_big_toe
        (0.62, 0.99),  # left_small_toe
        (0.38, 0.99),  # right_small_toe
        (0.57, 0.985),  # left_heel
        (0.43, 0.985),  # right_heel
    ]
)


class StandinError(KmoError):
    """Stand-in models cannot be written here (``onnx`` missing)."""


def onnx_missing() -> str | None:
    """Why stand-ins cannot be written here (``onnx`` not importable), or None."""
    try:
        _require_onnx()
    except StandinError as exc:
        return exc.message
    return None


def _require_onnx() -> None:
    global onnx, helper, numpy_helper, TensorProto
    if helper is not None:
        return
    try:
        import onnx as onnx_mod
        from onnx import TensorProto as tensor_proto
        from onnx import helper as helper_mod
        from onnx import numpy_helper as numpy_helper_mod
    except ImportError as exc:
        if getattr(exc, "name", None) == "onnx":  # simply not installed
            raise StandinError(ONNX_MISSING) from None
        raise StandinError(f"{ONNX_MISSING} ({exc})") from None
    onnx, helper, numpy_helper, TensorProto = (
        onnx_mod,
        helper_mod,
        numpy_helper_mod,
        tensor_proto,
    )


def _c(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def letterbox(image_rgb: np.ndarray, size: int) -> np.ndarray:
    """The detector's view of an RGB frame: BGR, resized into ``size``x``size``, padded 114."""
    import cv2

    h, w = image_rgb.shape[:2]
    r = min(size / h, size / w)
    out = np.full((size, size, 3), PAD, np.float32)
    small = cv2.resize(image_rgb[..., ::-1], (int(w * r), int(h * r)), interpolation=1)
    out[: small.shape[0], : small.shape[1]] = small.astype(np.uint8)
    return out


def _letterboxed(backgrounds: np.ndarray | list[np.ndarray] | None, size: int) -> np.ndarray:
    """``(K, size, size, 3)`` letterboxed backgrounds from one RGB image or a list of them;
    None: plain grey (the padding colour), from which any ordinary picture differs."""
    if backgrounds is None:
        return np.full((1, size, size, 3), PAD, np.float32)
    if isinstance(backgrounds, np.ndarray) and backgrounds.ndim == 3:
        backgrounds = [backgrounds]
    return np.stack([letterbox(b, size) for b in backgrounds])


def _trunk(nodes: list, inits: list, x: str, hw: tuple[int, int], macs: float, tag: str) -> str:
    """Random-weight conv trunk of about ``macs`` multiply-adds; returns a scalar-ish output."""
    rng = np.random.default_rng(0)
    plan = [(1, 2)] + [(1, 1)] + [(2, 2), (2, 1), (2, 1)] + [(4, 2), (4, 1), (4, 1)]
    plan += [(8, 2), (8, 1), (8, 1), (16, 2), (16, 1)]

    def cost(c: int) -> float:
        h, w, cin, total = hw[0], hw[1], 3, 0.0
        for mult, stride in plan:
            h, w = -(-h // stride), -(-w // stride)
            total += h * w * cin * c * mult * 9
            cin = c * mult
        return total

    c = 4
    while cost(c + 4) <= macs:
        c += 4
    cin, cur = 3, x
    for i, (mult, stride) in enumerate(plan):
        cout = c * mult
        w = (rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))).astype(np.float32)
        inits.append(_c(f"{tag}_w{i}", w))
        inits.append(_c(f"{tag}_b{i}", np.zeros(cout, np.float32)))
        conv = f"{tag}_conv{i}"
        nodes.append(
            helper.make_node(
                "Conv",
                [cur, f"{tag}_w{i}", f"{tag}_b{i}"],
                [conv],
                pads=[1, 1, 1, 1],
                strides=[stride, stride],
            )
        )
        cur = f"{tag}_act{i}"
        nodes.append(helper.make_node("Relu", [conv], [cur]))
        cin = cout
    nodes.append(helper.make_node("ReduceMean", [cur], [f"{tag}_mean"], keepdims=0))
    inits.append(_c(f"{tag}_zero", np.float32(0.0)))
    nodes.append(helper.make_node("Mul", [f"{tag}_mean", f"{tag}_zero"], [f"{tag}_out"]))
    return f"{tag}_out"


def _box_nodes(nodes: list, inits: list, bgs: np.ndarray, thr: float, count: int) -> None:
    """Nodes computing x0, y0, x1, y1, w, h, present ([1] each) from ``input`` vs ``bgs``.

    ``bgs`` is ``(K, S, S, 3)``: the background nearest to the frame (sum of absolute
    differences) is the one subtracted.
    """
    s = bgs.shape[1]
    inits += [
        _c("bgs_u8", np.clip(bgs + 0.5, 0, 255).astype(np.uint8).transpose(0, 3, 1, 2)),
        _c("ax123", np.array([1, 2, 3], np.int64)),
        _c("thr", np.float32(thr)),
        _c("cnt", np.float32(count)),
        _c("ar", np.arange(s, dtype=np.float32)),
        _c("rev", (s - 1 - np.arange(s)).astype(np.float32)),
        _c("sm1", np.float32(s - 1)),
        _c("one", np.float32(1.0)),
        _c("half", np.float32(0.5)),
        _c("aspect", np.float32(ASPECT)),
        _c("ax1", np.array([1], np.int64)),
        _c("ax2", np.array([2], np.int64)),
    ]
    n = helper.make_node
    nodes += [
        n("Cast", ["bgs_u8"], ["bgs"], to=TensorProto.FLOAT),  # stored as uint8: small files
        n("Sub", ["input", "bgs"], ["diffs"]),  # [K,3,S,S]
        n("Abs", ["diffs"], ["adiffs"]),
        n("ReduceSum", ["adiffs", "ax123"], ["dist"], keepdims=0),  # [K]
        n("ArgMin", ["dist"], ["nearest"], axis=0, keepdims=1),  # [1]
        n("Gather", ["bgs", "nearest"], ["bg"], axis=0),  # [1,3,S,S]
        n("Sub", ["input", "bg"], ["diff"]),
        n("Abs", ["diff"], ["adiff"]),
        n("ReduceSum", ["adiff", "ax1"], ["dsum"], keepdims=0),  # [1,S,S]
        n("Greater", ["dsum", "thr"], ["mb"]),
        n("Cast", ["mb"], ["m_raw"], to=TensorProto.FLOAT),
        # 3x3 erosion (1 - maxpool(1 - m)) drops isolated compression-noise pixels
        n("Unsqueeze", ["m_raw", "ax1"], ["m4"]),
        n("Sub", ["one", "m4"], ["inv"]),
        n("MaxPool", ["inv"], ["inv_dil"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        n("Sub", ["one", "inv_dil"], ["m_er"]),
        n("Squeeze", ["m_er", "ax1"], ["m"]),
        n("ReduceSum", ["m", "ax1"], ["colcnt"], keepdims=0),  # [1,S] per column
        n("ReduceSum", ["m", "ax2"], ["rowcnt"], keepdims=0),  # [1,S] per row
    ]
    for axis, cnt in (("x", "colcnt"), ("y", "rowcnt")):
        nodes += [
            n("Greater", [cnt, "cnt"], [f"{axis}b"]),
            n("Cast", [f"{axis}b"], [f"{axis}on"], to=TensorProto.FLOAT),
            n("Mul", [f"{axis}on", "ar"], [f"{axis}ar"]),
            n("ReduceMax", [f"{axis}ar"], [f"{axis}max"], axes=[1], keepdims=0),
            n("Mul", [f"{axis}on", "rev"], [f"{axis}rev"]),
            n("ReduceMax", [f"{axis}rev"], [f"{axis}revmax"], axes=[1], keepdims=0),
            n("Sub", ["sm1", f"{axis}revmax"], [f"{axis}min"]),
            n("Add", [f"{axis}max", "one"], [f"{axis}end"]),
        ]
    nodes += [
        n("ReduceMax", ["xon"], ["present"], axes=[1], keepdims=0),
        n("Sub", ["yend", "ymin"], ["h"]),
        n("Mul", ["h", "aspect"], ["w"]),
        n("Add", ["xmin", "xend"], ["cx2"]),
        n("Mul", ["cx2", "half"], ["cx"]),
        n("Mul", ["w", "half"], ["hw"]),
        n("Sub", ["cx", "hw"], ["x0"]),
        n("Add", ["cx", "hw"], ["x1"]),
        n("Identity", ["ymin"], ["y0"]),
        n("Identity", ["yend"], ["y1"]),
    ]


def _save(graph: onnx.GraphProto, path: Path, imitates: str) -> Path:
    """Save with the stand-in marker: kmo reports the file as a stand-in wherever it lies."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    model.producer_name = "kmo stand-in"
    model.producer_version = __version__
    model.doc_string = f"kmo stand-in for {imitates}: test only, not a pose model"
    helper.set_model_props(
        model, {STANDIN_KEY: f"imitates {imitates}; meaningless weights (kmo {__version__})"}
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _scored_box(
    backgrounds: np.ndarray | list[np.ndarray], size: int, thr: float, count: int, macs: float
) -> tuple[list, list]:
    """Box nodes plus ``score`` (= ``present``, with a ``macs``-sized trunk added when > 0)."""
    nodes: list = []
    inits: list = []
    _box_nodes(nodes, inits, _letterboxed(backgrounds, size), thr, count)
    if macs:
        extra = _trunk(nodes, inits, "input", (size, size), macs, "heavy")
        nodes.append(helper.make_node("Add", ["present", extra], ["score"]))
    else:
        nodes.append(helper.make_node("Identity", ["present"], ["score"]))
    return nodes, inits


def make_detector(
    path: Path,
    background_rgb: np.ndarray | list[np.ndarray] | None = None,
    size: int = 640,
    thr: float = 60.0,
    count: int = 3,
    heavy_macs: float = 0.0,
) -> Path:
    """Stand-in YOLOX (NMS inside) for frames like ``background_rgb`` (one image, a list, or
    None for any footage)."""
    _require_onnx()
    nodes, inits = _scored_box(background_rgb, size, thr, count, heavy_macs)
    inits.append(_c("shape_dets", np.array([1, 1, 5], np.int64)))
    nodes += [
        helper.make_node("Concat", ["x0", "y0", "x1", "y1", "score"], ["flat"], axis=0),
        helper.make_node("Reshape", ["flat", "shape_dets"], ["dets"]),
        helper.make_node("Constant", [], ["labels"], value=_c("lab", np.zeros((1, 1), np.int64))),
    ]
    graph = helper.make_graph(
        nodes,
        "kmo_standin_yolox",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [
            helper.make_tensor_value_info("dets", TensorProto.FLOAT, [1, "N", 5]),
            helper.make_tensor_value_info("labels", TensorProto.INT64, [1, "N"]),
        ],
        inits,
    )
    return _save(graph, path, "YOLOX (person detector)")


def simcc_template(width: int, height: int, sigma: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """SimCC logits ``(1, 26, 2W)`` and ``(1, 26, 2H)`` peaking at the template in the crop."""
    x = width * (0.1 + 0.8 * TEMPLATE[:, 0]) * 2.0
    y = height * (0.1 + 0.8 * TEMPLATE[:, 1]) * 2.0
    bx, by = np.arange(2 * width), np.arange(2 * height)
    sx = np.exp(-((bx[None] - x[:, None]) ** 2) / (2 * sigma**2))
    sy = np.exp(-((by[None] - y[:, None]) ** 2) / (2 * sigma**2))
    return sx[None].astype(np.float32), sy[None].astype(np.float32)


def make_pose(
    path: Path,
    input_size: tuple[int, int] = (192, 256),
    batch: int | str = "batch",
    heavy_macs: float = 0.0,
) -> Path:
    """Stand-in RTMPose Halpe-26 SimCC model; ``input_size`` is (width, height) as in rtmlib."""
    _require_onnx()
    w, h = input_size
    sx, sy = simcc_template(w, h)
    nodes: list = []
    inits = [
        _c("tx", sx),
        _c("ty", sy),
        _c("zero", np.float32(0.0)),
        _c("one", np.float32(1.0)),
        _c("shp", np.array([-1, 1, 1], np.int64)),
    ]
    n = helper.make_node
    nodes += [
        n("ReduceMean", ["input"], ["m"], axes=[1, 2, 3], keepdims=1),  # [B,1,1,1]
        n("Mul", ["m", "zero"], ["m0"]),
        n("Add", ["m0", "one"], ["ones4"]),
        n("Reshape", ["ones4", "shp"], ["ones"]),  # [B,1,1]
    ]
    ones = "ones"
    if heavy_macs:
        extra = _trunk(nodes, inits, "input", (h, w), heavy_macs, "pose")
        nodes.append(n("Add", ["ones", extra], ["ones_h"]))
        ones = "ones_h"
    nodes += [n("Mul", ["tx", ones], ["simcc_x"]), n("Mul", ["ty", ones], ["simcc_y"])]
    graph = helper.make_graph(
        nodes,
        "kmo_standin_rtmpose_halpe26",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, h, w])],
        [
            helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [batch, 26, 2 * w]),
            helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [batch, 26, 2 * h]),
        ],
        inits,
    )
    return _save(graph, path, "RTMPose Halpe-26")


def make_rtmo(
    path: Path,
    background_rgb: np.ndarray | list[np.ndarray] | None = None,
    size: int = 640,
    thr: float = 60.0,
    heavy_macs: float = 0.0,
) -> Path:
    """Stand-in RTMO (COCO-17 = the first 17 template points) for frames like
    ``background_rgb`` (one image, a list, or None for any footage)."""
    _require_onnx()
    nodes, inits = _scored_box(background_rgb, size, thr, 3, heavy_macs)
    inits += [
        _c("gx", TEMPLATE[:17, 0].astype(np.float32)),
        _c("fy", TEMPLATE[:17, 1].astype(np.float32)),
        _c("ones17", np.ones(17, np.float32)),
        _c("shape_k", np.array([1, 1, 17, 3], np.int64)),
        _c("shape_d", np.array([1, 1, 5], np.int64)),
        _c("col", np.array([17, 1], np.int64)),
    ]
    n = helper.make_node
    nodes += [
        n("Mul", ["gx", "w"], ["kxw"]),
        n("Add", ["kxw", "x0"], ["kx"]),
        n("Mul", ["fy", "h"], ["kyh"]),
        n("Add", ["kyh", "y0"], ["ky"]),
        n("Mul", ["ones17", "present"], ["ks"]),
        n("Reshape", ["kx", "col"], ["kxc"]),
        n("Reshape", ["ky", "col"], ["kyc"]),
        n("Reshape", ["ks", "col"], ["ksc"]),
        n("Concat", ["kxc", "kyc", "ksc"], ["k173"], axis=1),
        n("Reshape", ["k173", "shape_k"], ["keypoints"]),
        n("Concat", ["x0", "y0", "x1", "y1", "score"], ["flat"], axis=0),
        n("Reshape", ["flat", "shape_d"], ["dets"]),
    ]
    graph = helper.make_graph(
        nodes,
        "kmo_standin_rtmo",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [
            helper.make_tensor_value_info("dets", TensorProto.FLOAT, [1, "N", 5]),
            helper.make_tensor_value_info("keypoints", TensorProto.FLOAT, [1, "N", 17, 3]),
        ],
        inits,
    )
    return _save(graph, path, "RTMO (one-stage COCO-17)")


def write_model_dir(
    folder: str | Path,
    background_rgb: np.ndarray | list[np.ndarray] | None = None,
    mode: str = "balanced",
    heavy_det_macs: float = 0.0,
    heavy_pose_macs: float = 0.0,
    pose_batch: int | str = "batch",
    heavy_rtmo_macs: float = 0.0,
    realistic: bool = False,
) -> Path:
    """Write stand-in rtmpose (detector + pose) and rtmo models for ``mode`` under the
    upstream file names (each carries the stand-in marker).

    ``realistic`` gives each model the real one's compute (``REAL_MACS``) for speed figures.
    """
    from kinemotion_cli.models.rtmlib_models import RTMO_MODES, RTMPOSE_MODES

    if realistic:
        heavy_det_macs, heavy_pose_macs, heavy_rtmo_macs = REAL_MACS[mode]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    det, pose = RTMPOSE_MODES[mode]
    make_detector(
        folder / det.filename, background_rgb, det.input_size[0], heavy_macs=heavy_det_macs
    )
    make_pose(folder / pose.filename, pose.input_size, pose_batch, heavy_macs=heavy_pose_macs)
    rtmo = RTMO_MODES[mode]
    make_rtmo(
        folder / rtmo.filename, background_rgb, rtmo.input_size[0], heavy_macs=heavy_rtmo_macs
    )
    return folder


def _read_image(path: str) -> np.ndarray:
    import cv2

    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise KmoError(f"{path}: not an image OpenCV can read.")
    return np.ascontiguousarray(img[..., ::-1])


def main(argv: list[str] | None = None, backgrounds: list[np.ndarray] | None = None) -> int:
    """Write stand-in rtmpose/rtmo models (test only) into a folder for ``--model-dir``."""
    import argparse
    import sys

    from kinemotion_cli.models.rtmlib_models import RTMPOSE_MODES

    parser = argparse.ArgumentParser(
        prog="python -m kinemotion_cli.testing.standins", description=main.__doc__
    )
    parser.add_argument("--out", required=True, help="folder to write the .onnx files into")
    parser.add_argument(
        "--mode", action="append", choices=list(RTMPOSE_MODES), help="default: all modes"
    )
    parser.add_argument(
        "--background",
        action="append",
        metavar="IMAGE",
        help="empty-scene image(s) the detector subtracts (default: plain grey, so the box "
        "spans nearly the whole picture)",
    )
    parser.add_argument(
        "--realistic", action="store_true", help="the real models' compute (for speed figures)"
    )
    args = parser.parse_args(argv)
    try:
        if args.background:
            backgrounds = [_read_image(p) for p in args.background]
        for mode in args.mode or list(RTMPOSE_MODES):
            write_model_dir(args.out, backgrounds, mode, realistic=args.realistic)
    except KmoError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    for f in sorted(Path(args.out).glob("*.onnx")):
        print(f"{f}  {f.stat().st_size / 1e6:.1f} MB")
    print(
        "stand-in models (test only: correct signatures, meaningless weights; kmo reports them "
        f"as 'stand-in model (test only)'): use --model-dir {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
