"""RTMPose Halpe-26 (top-down: YOLOX person detector + RTMPose) through rtmlib.

rtmlib does the pre- and post-processing (letterbox, affine crop, SimCC decoding); kmo adds
tuned onnxruntime sessions, detection every N frames with box tracking in between, and
batched pose crops. Colour order: the YOLOX detector was trained on BGR, RTMPose on RGB
(mmpose ``bgr_to_rgb=True``), so each gets its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.backends import ort as ortk
from kinemotion_cli.errors import KmoError
from kinemotion_cli.models import STANDIN_LABEL, ModelCheck, combine_kinds
from kinemotion_cli.models.rtmlib_models import (
    RTMPOSE_MODES,
    RtmModel,
    check_session,
    resolve_models,
)

MODES = tuple(RTMPOSE_MODES)
MIN_BOX_PX = 4.0
TRACK_MIN_SCORE = 0.3


def check_mode(mode: str) -> None:
    """Reject an unknown ``--mode``."""
    if mode not in RTMPOSE_MODES:
        raise KmoError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}.")


def load_rtmlib(build: Callable[[], None], paths: Sequence, options: BackendOptions) -> tuple:
    """Construct rtmlib objects with injected sessions; return (sessions, resolved device)."""
    threads = options.threads
    device, providers, so = ortk.build(options.device, threads, options.require_device)
    if threads == 0:  # benchmark only: onnxruntime's defaults, as rtmlib creates sessions
        so = None
    try:
        with ortk.injected_sessions(so, providers) as sessions:
            build()
    except KmoError:
        raise
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own pybind11 types
        first = (str(exc).splitlines() or [""])[0][:160]
        raise KmoError(
            f"cannot load model {', '.join(str(p) for p in paths)} ({type(exc).__name__}: "
            f"{first}); the file is corrupt or not the expected model: delete it, or point "
            "--model-dir to a good copy."
        ) from None
    return sessions, device


def check_input(session, model: RtmModel, path) -> bool:  # noqa: ANN001
    """Check the model's static input size against the mode; True if the batch dim is free."""
    shape = session.get_inputs()[0].shape
    w, h = model.input_size
    if len(shape) != 4 or any(
        isinstance(d, int) and d != want for d, want in zip(shape[1:], (3, h, w))
    ):
        raise KmoError(
            f"{path}: input shape {shape} does not match {model.name} (expected [B, 3, {h}, "
            f"{w}]); use the model file of this --mode."
        )
    return not isinstance(shape[0], int) or shape[0] <= 0


def model_info(
    label: str, checks: Sequence[ModelCheck], paths: Sequence, quiet: bool = False
) -> tuple[dict, list[str]]:
    """``info`` entries saying what the loaded models are, and the warnings to add.

    A stand-in (test-only) model is named so in ``model`` and ``model_kind``, whatever its
    file name or folder, and warned about (on stderr too, unless ``quiet``).
    """
    kind = combine_kinds(c.kind for c in checks)
    info = {
        "model": f"{label} [{STANDIN_LABEL}]" if kind == "stand-in" else label,
        "model_kind": kind,
        "model_check": [c.detail for c in checks],
    }
    warnings = []
    if kind == "stand-in":
        where = sorted({str(p.parent) for c, p in zip(checks, paths) if c.kind == "stand-in"})
        msg = (
            f"{STANDIN_LABEL} instead of {label} (from {', '.join(where)}): the landmarks are "
            "not real; remove the stand-in files for real measurements"
        )
        warnings.append(msg)
        if not quiet:
            import sys

            sys.stderr.write(f"kmo: warning: {msg}\n")
    return info, warnings


def box_of(points: np.ndarray, min_score: float = TRACK_MIN_SCORE) -> np.ndarray | None:
    """Tracking box ``[x0, y0, x1, y1]`` of a person's confident keypoints (None if too few)."""
    ok = np.isfinite(points[:, 0]) & (points[:, 2] >= min_score)
    if ok.sum() < 6:
        return None
    xy = points[ok, :2]
    box = np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()])
    return box if min(box[2] - box[0], box[3] - box[1]) >= MIN_BOX_PX else None


class RTMPoseBackend:
    """YOLOX + RTMPose Halpe-26 on onnxruntime (CPU, CUDA or CoreML)."""

    name = "rtmpose"

    def __init__(self, options: BackendOptions) -> None:
        check_mode(options.mode)
        det_m, pose_m = RTMPOSE_MODES[options.mode]
        det_path, pose_path = resolve_models(
            [det_m, pose_m],
            options.model_dir,
            options.quiet,
            f"--backend rtmpose --mode {options.mode}",
        )
        from rtmlib import YOLOX, RTMPose

        t0 = time.perf_counter()
        holder: dict = {}

        def build() -> None:
            # Local paths, so rtmlib never downloads; input sizes given explicitly because
            # rtmlib's defaults do not follow the mode.
            holder["det"] = YOLOX(
                str(det_path), model_input_size=det_m.input_size, backend="onnxruntime"
            )
            holder["pose"] = RTMPose(
                str(pose_path), model_input_size=pose_m.input_size, backend="onnxruntime"
            )

        sessions, device = load_rtmlib(build, (det_path, pose_path), options)
        self._det, self._pose = holder["det"], holder["pose"]
        device_used, warnings = ortk.check_sessions(sessions, device, options.quiet)
        check_input(self._det.session, det_m, det_path)
        dynamic = check_input(self._pose.session, pose_m, pose_path)
        self.batch = max(1, options.batch) if dynamic else 1
        if options.batch > 1 and not dynamic:
            warnings.append(f"{pose_path.name} has a fixed batch of 1; --batch ignored")
        self.det_every = max(1, options.det_every)
        self._input = self._pose.session.get_inputs()[0].name
        self._frame = 0
        self._tracks: list[np.ndarray] = []
        kinds, more = model_info(
            f"{det_m.name} + {pose_m.name}",
            [
                check_session(self._det.session, det_path, det_m),
                check_session(self._pose.session, pose_path, pose_m),
            ],
            [det_path, pose_path],
            options.quiet,
        )
        warnings += more
        self.info = {
            "backend": "rtmpose",
            **kinds,
            "mode": options.mode,
            "model_files": [det_path.name, pose_path.name],
            "device_requested": options.device,
            "device_used": device_used,
            "threads": ortk.threads_of(self._pose.session),
            "det_every": self.det_every,
            "batch": self.batch,
            "load_s": time.perf_counter() - t0,
        }
        if warnings:
            self.info["warnings"] = warnings

    # ---------------------------------------------------------------- detection / tracking

    def detect(self, image_rgb: np.ndarray) -> np.ndarray:
        """Person boxes ``(n, 4)`` in pixels; empty when nobody is found."""
        boxes = np.asarray(self._det(np.ascontiguousarray(image_rgb[..., ::-1])), dtype=float)
        if boxes.size == 0:
            return np.zeros((0, 4))
        boxes = boxes.reshape(-1, 4)
        keep = (boxes[:, 2] - boxes[:, 0] >= MIN_BOX_PX) & (boxes[:, 3] - boxes[:, 1] >= MIN_BOX_PX)
        return boxes[keep]

    def _boxes_for_frame(self, image_rgb: np.ndarray) -> tuple[np.ndarray, bool]:
        """Detector boxes every ``det_every`` frames (or when tracking is lost), else tracks."""
        due = self._frame % self.det_every == 0 or not self._tracks
        self._frame += 1
        if due:
            return self.detect(image_rgb), True
        return np.asarray(self._tracks), False

    def _update_tracks(self, people: list[np.ndarray]) -> None:
        boxes = [box_of(p) for p in people]
        self._tracks = [b for b in boxes if b is not None]

    # ---------------------------------------------------------------- pose

    def pose(self, crops: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """Run the pose model on preprocessed crops in batches; ``(26, 3)`` per crop."""
        out: list[np.ndarray] = []
        for i in range(0, len(crops), self.batch):
            chunk = crops[i : i + self.batch]
            x = np.stack([c[0].transpose(2, 0, 1) for c in chunk]).astype(np.float32)
            simcc_x, simcc_y = self._pose.session.run(None, {self._input: x})[:2]
            for j, (_, center, scale) in enumerate(chunk):
                kpts, scores = self._pose.postprocess(
                    [simcc_x[j : j + 1], simcc_y[j : j + 1]], center, scale
                )
                person = np.empty((kpts.shape[1], 3))
                person[:, :2] = kpts[0]
                person[:, 2] = np.clip(scores[0], 0.0, 1.0)
                out.append(person)
        return out

    def _crops(self, image_rgb: np.ndarray, boxes: np.ndarray) -> list:
        return [self._pose.preprocess(image_rgb, box) for box in boxes]

    def infer(self, image: np.ndarray, t_s: float) -> list[np.ndarray]:
        """People in one upright RGB frame (empty list when the detector finds nobody)."""
        boxes, _ = self._boxes_for_frame(image)
        if len(boxes) == 0:  # never let rtmlib fall back to a whole-frame "person"
            self._tracks = []
            return []
        people = self.pose(self._crops(image, boxes))
        self._update_tracks(people)
        return people

    def infer_batch(self, images: Sequence[np.ndarray], times: Sequence[float]) -> list[list]:
        """Like :meth:`infer` for consecutive frames, with pose crops batched across frames.

        Between detections, boxes come from the latest detection (or the last tracked pose
        before this batch), since the poses of this batch are not known yet.
        """
        per_frame: list[np.ndarray] = []
        for image in images:
            boxes, detected = self._boxes_for_frame(image)
            if detected:
                self._tracks = list(boxes)
            per_frame.append(boxes)
        crops, owner = [], []
        for k, (image, boxes) in enumerate(zip(images, per_frame)):
            for box in boxes:
                crops.append(self._pose.preprocess(image, box))
                owner.append(k)
        people = self.pose(crops)
        out: list[list] = [[] for _ in images]
        for k, person in zip(owner, people):
            out[k].append(person)
        if out and out[-1]:
            self._update_tracks(out[-1])
        elif out:
            self._tracks = []
        return out

    def close(self) -> None:
        self._det = self._pose = None
