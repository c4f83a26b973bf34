"""``--backend auto``: pick the backend for this machine's hardware, from what really loads.

Rule (README, "Choosing a backend"):

1. onnxruntime offers CUDA -> rtmpose on CUDA;
2. onnxruntime offers CoreML (Apple) -> rtmpose on CoreML;
3. CPU only -> ``CPU_CHOICE``, the faster of MediaPipe (full) and tuned-CPU RTMPose (its
   fastest mode) as measured by ``make bench`` on this machine class (``CPU_MEASUREMENT``).

A GPU choice is only kept when its sessions really run on the GPU: if CUDA or cuDNN fail
to load, onnxruntime silently runs on the CPU, where RTMPose balanced is about ten times
slower than MediaPipe; the GPU backend is then closed and the CPU choice made instead,
and the choice says why.
"""

from __future__ import annotations

import dataclasses
import sys

from kinemotion_cli.backends import BackendOptions, PoseBackend, instantiate
from kinemotion_cli.backends import ort as ortk

#: What ``make bench`` measured for the CPU-only rule (inference frames/s on the same 16
#: decoded frames of the 540x960 CMJ sample, detection every frame).
CPU_MEASUREMENT = (
    "2-core AMD EPYC VM, onnxruntime 1.32, 2026-11-23: MediaPipe full 22.9 fps; tuned-CPU "
    "RTMPose with random-weight models of the real multiply-add counts: lightweight "
    "(YOLOX-tiny 416 + RTMPose-s) 15.9 fps, balanced (YOLOX-m 640 + RTMPose-m) 1.8 fps"
)
CPU_CHOICE = "mediapipe"


def plan(options: BackendOptions, available: list[str]) -> tuple[str, BackendOptions, str]:
    """``(backend, options, reason)`` the rule picks from the providers onnxruntime lists."""
    requested = options.device
    device = ortk.pick_device(requested, available) if requested in ortk.DEVICES else "cpu"
    if requested == "auto" and device in ("cuda", "coreml"):
        provider = ortk.CUDA if device == "cuda" else ortk.COREML
        return "rtmpose", dataclasses.replace(options, device=device), f"{provider} is available"
    if requested in ("cuda", "coreml", "mps"):
        return "rtmpose", options, f"--device {requested} asked"
    reason = f"CPU only; {CPU_CHOICE} is faster here on the CPU (make bench)"
    if CPU_CHOICE == "mediapipe":
        options = dataclasses.replace(options, device="cpu")
    return CPU_CHOICE, options, reason


def create_auto(
    options: BackendOptions, available: list[str] | None = None
) -> tuple[PoseBackend, str]:
    """Create the backend the rule picks; fall back to the CPU choice if the GPU does not
    load. Returns ``(backend, choice)``, the choice as ``"<backend>: <why>"``."""
    available = ortk.available_providers() if available is None else available
    name, opts, reason = plan(options, available)
    backend = instantiate(
        name, dataclasses.replace(opts, quiet=True) if name != CPU_CHOICE else opts
    )
    asked = opts.device
    used = backend.info.get("device_used", "cpu")
    if options.device == "auto" and asked in ("cuda", "coreml") and used != asked:
        cause = next(iter(backend.info.get("warnings", [])), f"{asked} did not load")
        backend.close()
        cpu_opts = dataclasses.replace(options, device="cpu")
        backend = instantiate(CPU_CHOICE, cpu_opts)
        name = CPU_CHOICE
        reason = f"{asked} was listed but did not load ({cause}); CPU choice {CPU_CHOICE}"
    choice = f"{name}: {reason}"
    if not options.quiet:
        sys.stderr.write(f"kmo: --backend auto chose {choice}\n")
    return backend, choice
