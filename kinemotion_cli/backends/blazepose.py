"""BlazePose (the models inside MediaPipe's ``pose_landmarker_*.task``) run directly on LiteRT.

The ``.task`` file is a zip of two TFLite models: a person detector (224x224 input, 2254
SSD anchors, 4 key points per box: hip centre and a point on the circle round the body) and
a landmark model (256x256 crop of a rotated square around the person; 39 points, of which
33 are BlazePose's). This module does what MediaPipe's PoseLandmarker graph does around the
two models, in NumPy and OpenCV, so that a frame costs the two inferences and little else:

detector input (the whole frame letterboxed) -> anchors decoded -> weighted non-maximum
suppression -> a rotated square per person (centre at the hips, side 2 x 1.25 x the circle
radius, turned so the hips-to-circle vector points up) -> the crop -> landmarks (refined on
the model's heat map) -> back to frame pixels.

All coordinates returned are in pixels of the frame given. Nothing here keeps state
between frames: like MediaPipe's IMAGE mode, every frame is detected on its own. (Crops
carried between frames instead, from the landmarks or interpolated between detections, were
tried and not kept: the landmarks follow the crop by a pixel or so, which moved takeoffs and
landings by 10-20 ms on the ground-truth cases.)
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
N_LANDMARKS = 39  # 33 BlazePose points, then 6 the pose graph uses for tracking (not here)
N_POSE = 33
MIN_SCORE = 0.5  # detector score and pose presence (MediaPipe's defaults, as kmo set them)
NMS_IOU = 0.3
ROI_SCALE = 1.25
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


def ssd_anchors() -> np.ndarray:
    """Anchor centres ``(2254, 2)`` (x, y in [0, 1]) of the pose detector: strides
    8, 16, 32, 32, 32 over a 224 px input, two anchors per layer and cell, layers of equal
    stride sharing one grid; every anchor is 1 x 1 (fixed size)."""
    strides = (8, 16, 32, 32, 32)
    centres = []
    layer = 0
    while layer < len(strides):
        same = layer
        while same < len(strides) and strides[same] == strides[layer]:
            same += 1
        per_cell = 2 * (same - layer)
        cells = math.ceil(DETECTOR_SIZE / strides[layer])
        grid = (np.arange(cells) + 0.5) / cells
        gx, gy = np.meshgrid(grid, grid)
        xy = np.stack([gx.ravel(), gy.ravel()], axis=1)
        centres.append(np.repeat(xy, per_cell, axis=0))
        layer = same
    return np.concatenate(centres)


ANCHORS = ssd_anchors()


@dataclass(frozen=True)
class Roi:
    """A rotated rectangle in frame pixels: centre, side lengths, rotation (radians)."""

    cx: float
    cy: float
    w: float
    h: float
    rotation: float


def _normalize_radians(a: float) -> float:
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def roi_from_points(centre: np.ndarray, circle: np.ndarray) -> Roi:
    """The crop for the landmark model from two points in pixels: the hip centre and a point
    on the circle round the body; a square of side 2 x 1.25 x radius, turned upright."""
    dx, dy = float(circle[0] - centre[0]), float(circle[1] - centre[1])
    side = 2.0 * math.hypot(dx, dy) * ROI_SCALE
    rotation = _normalize_radians(math.pi / 2 - math.atan2(-dy, dx))
    return Roi(float(centre[0]), float(centre[1]), side, side, rotation)


def _corners(roi: Roi) -> np.ndarray:
    """Corners of ``roi`` in the order OpenCV's boxPoints gives them (bottom-left,
    top-left, top-right, bottom-right of the unrotated box)."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    half = np.array([[-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5], [0.5, 0.5]]) * (roi.w, roi.h)
    rot = np.array([[c, -s], [s, c]])
    return (half @ rot.T + (roi.cx, roi.cy)).astype(np.float32)


def crop(image: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """``roi`` of ``image`` resampled to ``size`` x ``size`` (bilinear, zero outside)."""
    import cv2

    dst = np.array([[0, size], [0, 0], [size, 0]], dtype=np.float32)
    m = cv2.getAffineTransform(_corners(roi)[:3], dst)
    return cv2.warpAffine(
        image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )


def letterbox_roi(width: int, height: int) -> Roi:
    """The whole frame padded to a square about its centre (the detector's input)."""
    side = float(max(width, height))
    return Roi(width / 2.0, height / 2.0, side, side, 0.0)


def decode_detections(
    boxes: np.ndarray, logits: np.ndarray, min_score: float = MIN_SCORE
) -> tuple[np.ndarray, np.ndarray]:
    """Raw detector outputs ``(2254, 12)``, ``(2254,)`` -> scores ``(n,)`` and boxes
    ``(n, 12)`` in input units [0, 1]: x, y, w, h of the box centre and size, then four
    key points (x, y), above ``min_score``."""
    score = _sigmoid(logits)
    keep = score >= min_score
    raw = boxes[keep] / DETECTOR_SIZE
    anchor = ANCHORS[keep]
    out = raw.copy()
    out[:, 0:2] += anchor
    out[:, 4::2] += anchor[:, :1]
    out[:, 5::2] += anchor[:, 1:]
    return score[keep], out


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    def corners(b: np.ndarray) -> tuple[np.ndarray, ...]:
        half_w, half_h = b[..., 2] / 2, b[..., 3] / 2
        return b[..., 0] - half_w, b[..., 1] - half_h, b[..., 0] + half_w, b[..., 1] + half_h

    ax0, ay0, ax1, ay1 = corners(box)
    bx0, by0, bx1, by1 = corners(others)
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(scores: np.ndarray, boxes: np.ndarray, iou: float = NMS_IOU) -> list[np.ndarray]:
    """Non-maximum suppression that averages each cluster (weights: scores), best first."""
    order = np.argsort(-scores, kind="stable")
    scores, boxes = scores[order], boxes[order]
    out = []
    while len(scores):
        near = _iou(boxes[0], boxes) > iou
        near[0] = True
        w = scores[near]
        out.append((boxes[near] * w[:, None]).sum(axis=0) / w.sum())
        scores, boxes = scores[~near], boxes[~near]
    return out


def refine_on_heatmap(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Landmarks ``(n, 2)`` in [0, 1] of the crop, moved to the mean of the heat map
    (sigmoid) in a 7 x 7 window round each (cut at the map's edges), where the window's peak
    is at least 0.5; the first ``n`` channels of ``heatmap`` are theirs."""
    hm_h, hm_w = heatmap.shape[:2]
    n = len(points)
    cols = (points[:, 0] * hm_w).astype(int)  # truncated toward zero, as MediaPipe does
    rows = (points[:, 1] * hm_h).astype(int)
    offsets = np.arange(HEATMAP_KERNEL) - (HEATMAP_KERNEL - 1) // 2
    r, c = rows[:, None] + offsets, cols[:, None] + offsets  # (n, 7) each
    inside = ((r >= 0) & (r < hm_h))[:, :, None] & ((c >= 0) & (c < hm_w))[:, None, :]
    window = heatmap[
        np.clip(r, 0, hm_h - 1)[:, :, None],
        np.clip(c, 0, hm_w - 1)[:, None, :],
        np.arange(n)[:, None, None],
    ]
    conf = _sigmoid(window.astype(np.float64)) * inside
    total = conf.sum(axis=(1, 2))
    ok = (conf.max(axis=(1, 2)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    ok &= (cols >= 0) & (cols < hm_w) & (rows >= 0) & (rows < hm_h)
    safe = np.where(total > 0, total, 1.0)
    out = points.copy()
    out[ok, 0] = ((conf.sum(axis=1) * c).sum(axis=1) / hm_w / safe)[ok]
    out[ok, 1] = ((conf.sum(axis=2) * r).sum(axis=1) / hm_h / safe)[ok]
    return out


def project(points: np.ndarray, roi: Roi) -> np.ndarray:
    """Points in [0, 1] of a crop back to frame pixels."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    x = points[:, 0] - 0.5
    y = points[:, 1] - 0.5
    return np.stack([(c * x - s * y) * roi.w + roi.cx, (s * x + c * y) * roi.h + roi.cy], axis=1)


def read_task(path: Path) -> tuple[bytes, bytes]:
    """The detector and landmark TFLite models inside a MediaPipe ``.task`` file."""
    with zipfile.ZipFile(path) as z:
        return z.read("pose_detector.tflite"), z.read("pose_landmarks_detector.tflite")


class BlazePose:
    """The two BlazePose models on LiteRT, single-threaded (kmo runs one per core), stateless
    between frames."""

    def __init__(self, task_path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        detector, landmarks = read_task(task_path)
        self._det = Interpreter(model_content=detector, num_threads=1)
        self._lmk = Interpreter(model_content=landmarks, num_threads=1)
        for it in (self._det, self._lmk):
            it.allocate_tensors()
        self._det_in = self._det.get_input_details()[0]["index"]
        self._lmk_in = self._lmk.get_input_details()[0]["index"]
        det_out = {d["name"]: d["index"] for d in self._det.get_output_details()}
        self._det_boxes, self._det_scores = det_out["Identity"], det_out["Identity_1"]
        lmk_out = {d["name"]: d["index"] for d in self._lmk.get_output_details()}
        self._lmk_points = lmk_out["Identity"]
        self._lmk_flag = lmk_out["Identity_1"]
        self._lmk_heat = lmk_out["Identity_3"]

    def detect(self, image: np.ndarray, max_people: int) -> list[Roi]:
        """Crops for the landmark model round the people the detector finds, best first."""
        h, w = image.shape[:2]
        box = letterbox_roi(w, h)
        x = crop(image, box, DETECTOR_SIZE).astype(np.float32) * (2.0 / 255.0) - 1.0
        self._det.set_tensor(self._det_in, x[None])
        self._det.invoke()
        boxes = self._det.get_tensor(self._det_boxes)[0]
        logits = self._det.get_tensor(self._det_scores)[0, :, 0]
        scores, decoded = decode_detections(boxes, logits)
        rois = []
        for det in weighted_nms(scores, decoded)[:max_people]:
            kp = project(det[4:8].reshape(2, 2), box)
            rois.append(roi_from_points(kp[0], kp[1]))
        return rois

    def landmarks(self, image: np.ndarray, roi: Roi) -> np.ndarray | None:
        """The person in ``roi``: ``(33, 3)`` x, y in frame pixels and visibility; None when
        the model says nobody is there."""
        x = crop(image, roi, LANDMARK_SIZE).astype(np.float32) * (1.0 / 255.0)
        self._lmk.set_tensor(self._lmk_in, x[None])
        self._lmk.invoke()
        presence = float(self._lmk.get_tensor(self._lmk_flag).ravel()[0])
        if presence < MIN_SCORE:
            return None
        raw = self._lmk.get_tensor(self._lmk_points).reshape(N_LANDMARKS, 5).astype(np.float64)
        heat = self._lmk.get_tensor(self._lmk_heat)[0]
        xy = refine_on_heatmap(raw[:N_POSE, :2] / LANDMARK_SIZE, heat)
        return np.column_stack([project(xy, roi), _sigmoid(raw[:N_POSE, 3])])

    def infer(self, image: np.ndarray, max_people: int) -> list[np.ndarray]:
        """Every person in ``image`` (up to ``max_people``): the detector, then the landmark
        model on the crop round each person it found."""
        poses = (self.landmarks(image, roi) for roi in self.detect(image, max_people))
        return [p for p in poses if p is not None]
