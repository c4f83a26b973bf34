"""MediaPipe Tasks PoseLandmarker backend (BlazePose-33 mapped to Halpe-26).

Always IMAGE running mode: every frame is detected on its own. VIDEO mode (tracking one
pose) was measured about twice as fast but put every event 6-18 ms late, so kmo has none.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from dataclasses import replace

import numpy as np

from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.errors import KmoError
from kinemotion_cli.landmarks import blazepose_to_halpe26
from kinemotion_cli.models import MEDIAPIPE_MODELS, resolve

DEFAULT_MODEL = "full"


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence glog/TFLite chatter written to fd 2 while the graph starts."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)
        os.close(devnull)


class MediaPipeBackend:
    """PoseLandmarker in IMAGE running mode (no tracking lag)."""

    name = "mediapipe"

    def __init__(self, options: BackendOptions) -> None:
        self._options = options
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        variant = options.model or DEFAULT_MODEL
        if variant not in MEDIAPIPE_MODELS:
            raise KmoError(
                f"unknown MediaPipe model {variant!r}; choose one of {', '.join(MEDIAPIPE_MODELS)}."
            )
        if options.device not in ("auto", "cpu"):
            raise KmoError(
                f"the mediapipe backend runs on the CPU only (asked: {options.device}); "
                "use --device cpu, or --backend rtmpose for GPU."
            )
        path = resolve(MEDIAPIPE_MODELS[variant], options.model_dir, quiet=options.quiet)
        from mediapipe.tasks.python import BaseOptions, vision

        opts = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.IMAGE,
            num_poses=max(1, options.num_poses),
            min_pose_detection_confidence=0.5,
            min_pose_presence_confidence=0.5,
            min_tracking_confidence=0.5,
        )
        t0 = time.perf_counter()
        try:
            with _quiet_native_stderr():
                self._landmarker = vision.PoseLandmarker.create_from_options(opts)
        except (RuntimeError, ValueError) as exc:
            raise KmoError(
                f"cannot load MediaPipe model {path} ({str(exc).splitlines()[0][:120]}); "
                "the file is corrupt: delete it or point --model-dir to a good copy."
            ) from None
        self.info = {
            "backend": "mediapipe",
            "model": f"pose_landmarker_{variant}",
            # resolve() refused any file whose SHA-256 differs from a known checksum
            "model_kind": "real" if MEDIAPIPE_MODELS[variant].sha256 else "unknown",
            "running_mode": "image",
            "device_requested": options.device,
            "device_used": "cpu",
            "load_s": time.perf_counter() - t0,
        }

    def infer(self, image: np.ndarray, t_s: float) -> list[np.ndarray]:
        import mediapipe as mp

        h, w = image.shape[:2]
        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        result = self._landmarker.detect(mp_image)
        people = []
        for pose in result.pose_landmarks:
            arr = np.array(
                [
                    [lm.x * w, lm.y * h, lm.visibility if lm.visibility is not None else 1.0]
                    for lm in pose
                ],
                dtype=np.float64,
            )
            people.append(blazepose_to_halpe26(arr))
        return people

    def twin(self) -> MediaPipeBackend:
        """An identical, independent instance: IMAGE mode keeps no state between frames, so
        the pipeline may infer frames on several instances side by side
        (``backends/pool.py``)."""
        return MediaPipeBackend(replace(self._options, quiet=True))

    def close(self) -> None:
        self._landmarker.close()
