"""MediaPipe's pose models (BlazePose-33, mapped to Halpe-26): the PoseLandmarker ``.task``.

Two runtimes run the same two models (a person detector, then landmarks on a crop round
each person), every frame on its own (MediaPipe's IMAGE mode):

* ``tasks`` (the default): MediaPipe's own PoseLandmarker;
* ``litert`` (``KMO_MEDIAPIPE_RUNTIME=litert``): the models run directly on LiteRT and kmo
  does the steps around them (``blazepose.py``), without MediaPipe's graph: faster and
  smaller in memory.

VIDEO mode (MediaPipe's tracking of one pose) smooths the landmarks over time, which put
every event 6-18 ms late, so kmo does not use it. Crops taken from an earlier frame's
landmarks (that tracking without the smoothing) made the standing feet jitter 6-11 times
more than the detector's crops (the crop follows the landmarks' own noise; two clips, crops
1-4 frames old), so kmo does not use that either.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import zipfile
from dataclasses import replace

import numpy as np

from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.backends.blazepose import BlazePose
from kinemotion_cli.errors import KmoError
from kinemotion_cli.landmarks import blazepose_to_halpe26
from kinemotion_cli.models import MEDIAPIPE_MODELS, resolve

DEFAULT_MODEL = "full"
RUNTIMES = ("litert", "tasks")
RUNTIME_ENV = "KMO_MEDIAPIPE_RUNTIME"


def runtime() -> str:
    """The runtime to use: ``$KMO_MEDIAPIPE_RUNTIME`` when set, else MediaPipe's own graph.

    LiteRT is not the default: its landmarks differ from the graph's by a fraction of a
    pixel, which kept the median errors but moved 12 of the 78 ground-truth cases across
    their bounds, 8 out (a no-jump clip among them) and 4 in (``make accuracy`` against
    ``make accuracy-litert``; README, "Models and offline use")."""
    asked = os.environ.get(RUNTIME_ENV, "").strip().lower() or "tasks"
    if asked not in RUNTIMES:
        raise KmoError(
            f"{RUNTIME_ENV}={asked!r} is not a MediaPipe runtime; choose one of "
            f"{', '.join(RUNTIMES)}."
        )
    if asked == "litert":
        try:
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError:
            raise KmoError(
                f"{RUNTIME_ENV}=litert needs LiteRT: pip install ai-edge-litert "
                "(not available on Windows), or unset it to use MediaPipe's own graph."
            ) from None
    return asked


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
    """MediaPipe's pose models, every frame on its own (no tracking lag)."""

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
        self._runtime = runtime()
        self._num_poses = max(1, options.num_poses)
        t0 = time.perf_counter()
        try:
            with _quiet_native_stderr():
                if self._runtime == "litert":
                    self._model = BlazePose(path)
                else:
                    self._model = tasks_landmarker(path, self._num_poses)
        except (RuntimeError, ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
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
            "runtime": self._runtime,
            "device_requested": options.device,
            "device_used": "cpu",
            "load_s": time.perf_counter() - t0,
        }

    def infer(self, image: np.ndarray, t_s: float) -> list[np.ndarray]:
        if self._runtime == "tasks":
            poses = tasks_poses(self._model, image)
        else:
            poses = self._model.infer(image, self._num_poses)
        return [blazepose_to_halpe26(p) for p in poses]

    def twin(self) -> MediaPipeBackend:
        """An identical, independent instance: IMAGE mode keeps no state between frames, so
        the pipeline may infer frames on several instances side by side
        (``backends/pool.py``)."""
        return MediaPipeBackend(replace(self._options, quiet=True))

    def close(self) -> None:
        close = getattr(self._model, "close", None)
        if close is not None:
            close()


def tasks_landmarker(path, num_poses: int):
    """MediaPipe's own PoseLandmarker in IMAGE mode."""
    from mediapipe.tasks.python import BaseOptions, vision

    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(path)),
        running_mode=vision.RunningMode.IMAGE,
        num_poses=num_poses,
        min_pose_detection_confidence=0.5,
        min_pose_presence_confidence=0.5,
        min_tracking_confidence=0.5,
    )
    return vision.PoseLandmarker.create_from_options(opts)


def tasks_poses(landmarker, image: np.ndarray) -> list[np.ndarray]:
    """The people MediaPipe's PoseLandmarker finds in an RGB frame: ``(33, 3)`` BlazePose
    points, x and y in the frame's pixels, and visibility (as ``BlazePose.infer`` gives)."""
    import mediapipe as mp

    h, w = image.shape[:2]
    mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
    return [
        np.array(
            [[lm.x * w, lm.y * h, 1.0 if lm.visibility is None else lm.visibility] for lm in pose],
            dtype=np.float64,
        )
        for pose in landmarker.detect(mp_image).pose_landmarks
    ]
