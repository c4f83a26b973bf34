"""``--backend auto``: pick the backend for this machine's hardware.

Rule (README, "Choosing a backend"):

1. onnxruntime offers CUDA -> rtmpose on CUDA;
2. onnxruntime offers CoreML (Apple) -> rtmpose on CoreML;
3. CPU only -> ``CPU_CHOICE``, the faster of MediaPipe (full) and tuned-CPU RTMPose (its
   fastest mode) as measured by ``make bench`` on this machine class (``CPU_MEASUREMENT``;
   ``make bench`` re-measures it and flags the rule if it no longer holds).
"""

from __future__ import annotations

import dataclasses
import sys

from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.backends import ort as ortk

#: What ``make bench`` measured for the CPU-only rule (``bench_rtm.auto_cpu_rule``: inference
#: frames/s on the same 16 decoded frames of the 540x960 CMJ sample, detection every frame).
CPU_MEASUREMENT = (
    "2-core AMD EPYC VM, onnxruntime 1.32, 2026-11-23: MediaPipe full 22.9 fps; tuned-CPU "
    "RTMPose with random-weight models of the real multiply-add counts: lightweight "
    "(YOLOX-tiny 416 + RTMPose-s) 15.9 fps, balanced (YOLOX-m 640 + RTMPose-m) 1.8 fps"
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
