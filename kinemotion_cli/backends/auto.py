"""``--backend auto``: pick the backend for this machine's hardware.

Rule (README, "Choosing a backend"):

1. onnxruntime offers CUDA -> rtmpose on CUDA;
2. onnxruntime offers CoreML (Apple) -> rtmpose on CoreML;
3. CPU only -> ``CPU_CHOICE``, the faster of MediaPipe (full) and tuned-CPU RTMPose
   (balanced) measured by ``make bench`` on this machine class (see ``CPU_MEASUREMENT``).
"""

from __future__ import annotations

import dataclasses
import sys

from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.backends import ort as ortk

#: What ``make bench`` measured for the CPU-only rule (frames/s, one person, 540x960 video).
CPU_MEASUREMENT = (
    "2-core AMD EPYC VM, onnxruntime 1.32, 540x960 CMJ sample: MediaPipe full 22 fps "
    "end to end; tuned RTMPose with random-weight models of real size: lightweight "
    "(YOLOX-tiny 416 + RTMPose-s) 15 fps with detection every frame, RTMPose-m crop alone "
    "26 ms (YOLOX-m, ~74 GFLOPs, is several times slower still)"
)
CPU_CHOICE = "mediapipe"


def choose(
    options: BackendOptions, available: list[str] | None = None
) -> tuple[str, BackendOptions]:
    """Return ``(backend name, options)`` for this machine and say what was chosen."""
    available = ortk.available_providers() if available is None else available
    requested = options.device
    device = ortk.pick_device(requested, available) if requested in ortk.DEVICES else "cpu"
    if requested == "auto" and device in ("cuda", "coreml"):
        provider = ortk.CUDA if device == "cuda" else ortk.COREML
        name, reason = "rtmpose", f"{provider} is available"
        options = dataclasses.replace(options, device=device)
    elif requested in ("cuda", "coreml", "mps"):
        name, reason = "rtmpose", f"--device {requested} asked"
    else:
        name = CPU_CHOICE
        reason = f"CPU only; {CPU_CHOICE} is faster here on the CPU (make bench)"
        if name == "mediapipe":
            options = dataclasses.replace(options, device="cpu")
    options = dataclasses.replace(options, extra={**options.extra, "auto": f"{name}: {reason}"})
    if not options.quiet:
        sys.stderr.write(f"kmo: --backend auto chose {name} ({reason})\n")
    return name, options
