"""``--backend auto``: pick the backend for this machine's hardware, from what really loads.

Rule (README, "Choosing a backend"):

1. onnxruntime offers CUDA -> rtmpose on CUDA;
2. onnxruntime offers CoreML (Apple) -> rtmpose on CoreML;
3. CPU only -> ``CPU_CHOICE``, the faster of MediaPipe (full) and tuned-CPU RTMPose (its
   fastest mode) as measured by ``make bench`` on this machine class (``CPU_MEASUREMENT``).

A GPU choice is only kept when it really runs on the GPU with real models. It is dropped,
the backend closed and the CPU choice made instead, when: its sessions run on the CPU (CUDA
or cuDNN failed to load; onnxruntime then silently uses the CPU, where RTMPose balanced is
about ten times slower than MediaPipe), it cannot be created at all (its models are missing
offline, or corrupt), or its models are test stand-ins. The choice string and
``backend.info["auto"]`` say what was tried, what happened and why.
"""

from __future__ import annotations

import dataclasses
import sys

from kinemotion_cli.backends import BackendOptions, PoseBackend, instantiate
from kinemotion_cli.backends import ort as ortk
from kinemotion_cli.errors import KmoError

#: What ``make bench`` measured for the CPU-only rule (inference frames/s on the same 16
#: decoded frames of the 540x960 CMJ sample, detection every frame).
CPU_MEASUREMENT = (
    "2-core AMD EPYC VM, onnxruntime 1.32, 2026-11-24: MediaPipe full 34.2 fps; tuned-CPU "
    "RTMPose with random-weight models of the real multiply-add counts: lightweight "
    "(YOLOX-tiny 416 + RTMPose-s) 20.8 fps, balanced (YOLOX-m 640 + RTMPose-m) 2.8 fps"
)
CPU_CHOICE = "mediapipe"
CPU_WHY = f"on the CPU {CPU_CHOICE} is faster than RTMPose (make bench)"


def _no_gpu_reason(available: list[str]) -> str:
    """Why no GPU provider is used: what onnxruntime lists, and an install fix if one applies."""
    listed = ", ".join(p for p in available) or "no providers"
    reason = f"onnxruntime offers no GPU provider ({listed})"
    fix = ortk.install_problem(ortk.installed_onnxruntimes(), available, "auto")
    return f"{reason}; {fix}" if fix else reason


def plan(options: BackendOptions, available: list[str]) -> tuple[str, BackendOptions, str]:
    """``(backend, options, reason)`` the rule picks from the providers onnxruntime lists."""
    requested = options.device
    device = ortk.pick_device(requested, available) if requested in ortk.DEVICES else "cpu"
    if requested == "auto" and device in ("cuda", "coreml"):
        provider = ortk.CUDA if device == "cuda" else ortk.COREML
        return "rtmpose", dataclasses.replace(options, device=device), f"{provider} is listed"
    if requested in ("cuda", "coreml", "mps"):
        return "rtmpose", options, f"--device {requested} asked"
    if requested == "cpu":
        reason = f"--device cpu asked; {CPU_WHY}"
    else:
        reason = f"{_no_gpu_reason(available)}; {CPU_WHY}"
    if CPU_CHOICE == "mediapipe":
        options = dataclasses.replace(options, device="cpu")
    return CPU_CHOICE, options, reason


def _gpu_problem(backend: PoseBackend, asked: str, available: list[str]) -> str | None:
    """Why a created GPU choice cannot be kept (None: keep it)."""
    used = backend.info.get("device_used", "cpu")
    what = f"{backend.name} on {asked}"
    if used != asked:
        return f"{what} runs on {used}: {ortk.fallback_cause(asked, available)}"
    if backend.info.get("model_kind") == "stand-in":
        return f"{what} found only test stand-in model files (stand-in model (test only))"
    return None


def _first_sentence(text: str, limit: int = 240) -> str:
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 3] + "..."


def create_auto(
    options: BackendOptions, available: list[str] | None = None
) -> tuple[PoseBackend, str]:
    """Create the backend the rule picks; fall back to the CPU choice if the GPU one cannot
    be kept. Returns ``(backend, choice)``, the choice as ``"<backend>: <why>"``; the same
    is in ``backend.info["auto"]`` with what was tried."""
    available = ortk.available_providers() if available is None else available
    name, opts, reason = plan(options, available)
    tried: list[dict] = []
    fallback = options.device == "auto" and name != CPU_CHOICE
    if not fallback:
        backend = instantiate(name, opts)
    else:
        asked = opts.device
        problem = None
        try:
            backend = instantiate(name, dataclasses.replace(opts, quiet=True))
        except KmoError as exc:
            problem = f"{name} on {asked} could not be created: {_first_sentence(exc.message)}"
        else:
            problem = _gpu_problem(backend, asked, available)
            if problem is not None:
                backend.close()
        tried.append(
            {"backend": name, "device": asked, "outcome": "kept" if problem is None else problem}
        )
        if problem is not None:
            cpu_opts = dataclasses.replace(options, device="cpu")
            backend = instantiate(CPU_CHOICE, cpu_opts)
            name = CPU_CHOICE
            reason = f"{reason}, but {problem}; fell back to the CPU choice: {CPU_WHY}"
    choice = f"{name}: {reason}"
    backend.info["auto"] = {
        "chose": name,
        "device": backend.info.get("device_used"),
        "reason": reason,
        "fell_back": bool(tried) and tried[-1]["outcome"] != "kept",
        "tried": tried,
        "providers_listed": list(available),
    }
    if not options.quiet:
        sys.stderr.write(f"kmo: --backend auto chose {choice}\n")
    return backend, choice
