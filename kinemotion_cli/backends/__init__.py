"""Pose backends behind one small interface.

A backend turns one upright RGB frame into a list of people, each a ``(26, 3)`` Halpe-26
array (x, y in pixels, score). Backends are created by :func:`create`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

BACKENDS = ("mediapipe", "rtmpose", "rtmo", "auto")


@dataclass
class BackendOptions:
    """Options shared by all backends (each uses what applies to it)."""

    model: str | None = None  # mediapipe: lite|full|heavy
    mode: str = "balanced"  # rtmlib: lightweight|balanced|performance
    device: str = "auto"
    model_dir: str | None = None
    running_mode: str = "image"  # mediapipe: image|video
    num_poses: int = 2
    threads: int | None = None
    det_every: int = 1
    batch: int = 1
    quiet: bool = False
    # compare/bench: a GPU device asked by name whose provider is absent is an error
    # ("unavailable"), not a CPU fallback with a warning as in `kmo analyze`.
    require_device: bool = False
    extra: dict = field(default_factory=dict)


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


def create(name: str, options: BackendOptions) -> PoseBackend:
    """Instantiate backend ``name`` (``auto`` picks one for the hardware)."""
    if name == "auto":
        from kinemotion_cli.backends.auto import choose

        name, options = choose(options)
    if name == "mediapipe":
        from kinemotion_cli.backends.mediapipe import MediaPipeBackend

        return MediaPipeBackend(options)
    if name == "rtmpose":
        from kinemotion_cli.backends.rtmpose import RTMPoseBackend

        return RTMPoseBackend(options)
    if name == "rtmo":
        from kinemotion_cli.backends.rtmo import RTMOBackend

        return RTMOBackend(options)
    from kinemotion_cli.errors import KmoError

    raise KmoError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")
