"""Pose backends behind one small interface, and the one registry of them.

A backend turns one upright RGB frame into a list of people, each a ``(26, 3)`` Halpe-26
array (x, y in pixels of the frame it was given, score). Backends are created by
:func:`create`, which returns the backend and, for ``auto``, what was chosen and why.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class BackendSpec:
    """A backend kmo can run: where it lives, its model variants and devices."""

    name: str
    module: str
    cls: str
    variant_kind: str  # "model" (MediaPipe lite/full/heavy) or "mode" (rtmlib sizes)
    variants: tuple[str, ...]
    default_variant: str
    devices: tuple[str, ...]
    help: str


MEDIAPIPE_VARIANTS = ("lite", "full", "heavy")
RTM_MODES = ("lightweight", "balanced", "performance")
DEVICES = ("auto", "cpu", "cuda", "coreml", "mps")

#: The registry: every backend kmo can run (``auto`` picks one of them).
BACKENDS: dict[str, BackendSpec] = {
    "mediapipe": BackendSpec(
        "mediapipe",
        "kinemotion_cli.backends.mediapipe",
        "MediaPipeBackend",
        "model",
        MEDIAPIPE_VARIANTS,
        "full",
        ("auto", "cpu"),
        "MediaPipe PoseLandmarker (BlazePose-33 mapped to Halpe-26), CPU",
    ),
    "rtmpose": BackendSpec(
        "rtmpose",
        "kinemotion_cli.backends.rtmpose",
        "RTMPoseBackend",
        "mode",
        RTM_MODES,
        "balanced",
        DEVICES,
        "YOLOX + RTMPose Halpe-26 on onnxruntime (CPU, CUDA, CoreML)",
    ),
    "rtmo": BackendSpec(
        "rtmo",
        "kinemotion_cli.backends.rtmo",
        "RTMOBackend",
        "mode",
        RTM_MODES,
        "balanced",
        DEVICES,
        "RTMO one-stage COCO-17 on onnxruntime (no heels/toes)",
    ),
}
BACKEND_CHOICES: tuple[str, ...] = (*BACKENDS, "auto")


@dataclass(frozen=True)
class BackendOptions:
    """Options shared by all backends (each uses what applies to it)."""

    model: str | None = None  # mediapipe: lite|full|heavy
    mode: str = "balanced"  # rtmlib: lightweight|balanced|performance
    device: str = "auto"
    model_dir: str | None = None
    num_poses: int = 2
    threads: int | None = None
    det_every: int = 1
    batch: int = 1
    quiet: bool = False
    dense: bool = False  # infer every frame (default: sparsely where nobody moves, sparse.py)
    focus: bool = True  # infer the jumper again on crops that follow them (focus.py)
    # compare/bench: a GPU device asked by name whose provider is absent is an error
    # ("unavailable"), not a CPU fallback with a warning as in `kmo analyze`.
    require_device: bool = False


class PoseBackend(Protocol):
    """What the pipeline needs from a backend."""

    name: str
    info: dict

    def infer(self, image: np.ndarray, t_s: float) -> list[np.ndarray]:
        """People in an upright RGB frame: a list of ``(26, 3)`` arrays."""
        ...

    def close(self) -> None:
        """Release the model."""
        ...


def instantiate(name: str, options: BackendOptions) -> PoseBackend:
    """Create backend ``name`` of the registry (no ``auto``)."""
    spec = BACKENDS.get(name)
    if spec is None:
        from kinemotion_cli.errors import KmoError

        raise KmoError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_CHOICES)}.")
    return getattr(importlib.import_module(spec.module), spec.cls)(options)


def create(name: str, options: BackendOptions) -> tuple[PoseBackend, str | None]:
    """Instantiate backend ``name``; ``auto`` picks one for the hardware.

    Returns ``(backend, choice)``: ``choice`` says what ``auto`` chose and why (None for a
    backend named explicitly).
    """
    if name == "auto":
        from kinemotion_cli.backends.auto import create_auto

        return create_auto(options)
    return instantiate(name, options), None
