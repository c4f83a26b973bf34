"""onnxruntime sessions with deliberate options, device choice and install checks.

rtmlib creates its sessions as ``ort.InferenceSession(path, providers=[...])`` with no
options. :func:`injected_sessions` swaps ``onnxruntime.InferenceSession`` for a factory
while rtmlib objects are constructed, so the sessions get our options and providers without
forking rtmlib. onnxruntime is imported lazily (CLI start-up time).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from kinemotion_cli.errors import KmoError

CUDA = "CUDAExecutionProvider"
COREML = "CoreMLExecutionProvider"
CPU = "CPUExecutionProvider"
PROVIDER_DEVICE = {CUDA: "cuda", COREML: "coreml", CPU: "cpu"}
DEVICES = ("auto", "cpu", "cuda", "coreml", "mps")
GPU_FIX = (
    "pip uninstall -y onnxruntime onnxruntime-gpu && "
    'pip install --force-reinstall --no-deps "onnxruntime-gpu[cuda,cudnn]"'
)
_PATCH_LOCK = threading.Lock()


def _ort():  # noqa: ANN202 - the onnxruntime module
    try:
        import onnxruntime
    except ImportError as exc:
        raise KmoError(
            f"onnxruntime cannot be imported ({exc}); the install is broken (onnxruntime and "
            f"onnxruntime-gpu overwrite each other's files). Fix: {GPU_FIX} (GPU) or "
            "pip install --force-reinstall onnxruntime (CPU)."
        ) from None
    return onnxruntime


# --------------------------------------------------------------------------- CPU cores


def cgroup_cpu_limit(root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs allowed by a cgroup quota (v2 ``cpu.max`` or v1 CFS), or None when unlimited."""
    base = Path(root)
    try:
        quota, period = (base / "cpu.max").read_text().split()[:2]
        if quota != "max" and float(period) > 0:
            return float(quota) / float(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota = float((base / "cpu" / "cpu.cfs_quota_us").read_text())
        period = float((base / "cpu" / "cpu.cfs_period_us").read_text())
        if quota > 0 and period > 0:
            return quota / period
    except (OSError, ValueError):
        pass
    return None


def allowed_cpus() -> set[int]:
    """Logical CPUs this process may run on (affinity mask; all CPUs where unsupported)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def physical_cores(cpus: set[int] | None = None, sysfs: str = "/sys/devices/system/cpu") -> int:
    """Physical cores among ``cpus`` (SMT siblings counted once)."""
    cpus = allowed_cpus() if cpus is None else cpus
    groups: set[str] = set()
    for cpu in cpus:
        try:
            groups.add(Path(f"{sysfs}/cpu{cpu}/topology/thread_siblings_list").read_text().strip())
        except OSError:
            groups = set()
            break
    if groups:
        return len(groups)
    if sys.platform == "darwin":  # no affinity or sysfs: ask the kernel
        import subprocess

        for key in ("hw.perflevel0.physicalcpu", "hw.physicalcpu"):
            with contextlib.suppress(OSError, ValueError, subprocess.SubprocessError):
                out = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True)
                return max(1, int(out.stdout.strip()))
    return max(1, len(cpus))


def default_threads() -> int:
    """Intra-op threads: physical cores available to this process, capped by a cgroup quota."""
    n = physical_cores()
    limit = cgroup_cpu_limit()
    if limit is not None:
        n = min(n, max(1, math.floor(limit)))
    return max(1, n)


# --------------------------------------------------------------------------- sessions


def session_options(threads: int | None = None):  # noqa: ANN201 - ort.SessionOptions
    """Options for throughput on a shared CPU: explicit threads, sequential, no spinning."""
    ort = _ort()
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads if threads and threads > 0 else default_threads()
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads sleep instead of spinning, so the decode thread keeps its core.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


def available_providers() -> list[str]:
    """onnxruntime's execution providers on this machine."""
    return list(_ort().get_available_providers())


def pick_device(requested: str, available: list[str]) -> str:
    """Resolve ``auto``/``mps`` to cuda, coreml or cpu from the available providers."""
    if requested not in DEVICES:
        raise KmoError(f"unknown device {requested!r}; choose one of {', '.join(DEVICES)}.")
    if requested == "mps":
        return "coreml"
    if requested == "auto":
        if CUDA in available:
            return "cuda"
        if COREML in available:
            return "coreml"
        return "cpu"
    return requested


def providers_for(device: str) -> list:
    """Provider list for onnxruntime, always ending with the CPU fallback."""
    if device == "cuda":
        return [(CUDA, {"device_id": 0}), CPU]
    if device == "coreml":
        return [COREML, CPU]
    return [CPU]


def preload_cuda() -> None:
    """Load pip-installed CUDA/cuDNN libraries (onnxruntime-gpu >= 1.21) before sessions."""
    ort = _ort()
    if hasattr(ort, "preload_dlls"):
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            ort.preload_dlls()


#: Distributions that provide the ``onnxruntime`` module (they overwrite each other's files).
ONNXRUNTIME_DISTS = (
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-silicon",
    "onnxruntime-directml",
)


def installed_onnxruntimes() -> list[str]:
    """Installed distributions that provide the ``onnxruntime`` module."""
    from importlib import metadata

    found = []
    for name in ONNXRUNTIME_DISTS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            metadata.version(name)
            found.append(name)
    return found


def install_problem(dists: list[str], available: list[str], wanted: str) -> str | None:
    """The fix for a broken onnxruntime install, or None when it looks fine."""
    if "onnxruntime-gpu" in dists and CUDA not in available:
        if "onnxruntime" in dists:
            return (
                "onnxruntime and onnxruntime-gpu are both installed and the CPU package "
                f"overwrote the GPU one (rtmlib pulls in onnxruntime). Fix: {GPU_FIX}"
            )
        if wanted == "cuda":
            return (
                f"onnxruntime-gpu is installed but offers no CUDA provider; reinstall it: {GPU_FIX}"
            )
    if wanted == "cuda" and "onnxruntime-gpu" not in dists and CUDA not in available:
        return (
            "CUDA needs onnxruntime-gpu, which is not installed. "
            f'Install: pip install "kinemotion-cli[gpu]" && {GPU_FIX}'
        )
    return None


def fallback_cause(wanted: str, available: list[str]) -> str:
    """Likely reason a session asked for ``wanted`` runs on the CPU."""
    fix = install_problem(installed_onnxruntimes(), available, wanted)
    if fix:
        return fix
    if wanted == "cuda":
        if CUDA not in available:
            return "this onnxruntime has no CUDA provider"
        return (
            "CUDA/cuDNN libraries failed to load (driver too old, or CUDA 12 / cuDNN 9 "
            f"missing); install them with: {GPU_FIX}"
        )
    if wanted == "coreml":
        return "this onnxruntime has no CoreML provider (macOS arm64 wheels have it)"
    return "unknown"


@contextlib.contextmanager
def injected_sessions(options, providers: list) -> Iterator[list]:  # noqa: ANN001
    """Make every ``onnxruntime.InferenceSession`` created inside use our options/providers.

    Yields the list of created sessions. rtmlib's stdout chatter is swallowed meanwhile.
    """
    ort = _ort()
    created: list = []
    with _PATCH_LOCK:
        real = ort.InferenceSession

        def factory(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            path = kwargs.pop("path_or_bytes", args[0] if args else None)
            session = real(path, sess_options=options, providers=providers)
            created.append(session)
            return session

        ort.InferenceSession = factory
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # our own check reports provider fallback
                yield created
        finally:
            ort.InferenceSession = real


def device_of(session) -> str:  # noqa: ANN001
    """The device a session really runs on (its first active provider)."""
    providers = session.get_providers()
    return PROVIDER_DEVICE.get(providers[0], providers[0]) if providers else "cpu"


def build(
    device_requested: str, threads: int | None, require: bool = False
) -> tuple[str, list, object]:
    """Resolve the device and return ``(device, providers, session_options)``.

    With ``require``, a GPU device whose provider onnxruntime lacks raises :class:`KmoError`.
    """
    available = available_providers()
    device = pick_device(device_requested, available)
    wanted = {"cuda": CUDA, "coreml": COREML}.get(device)
    if require and wanted and wanted not in available:
        raise KmoError(f"{device} unavailable: {fallback_cause(device, available)}")
    if device == "cuda":
        preload_cuda()
    return device, providers_for(device), session_options(threads)


def check_sessions(sessions: list, device: str, quiet: bool = False) -> tuple[str, list[str]]:
    """Which device the sessions use; warn (one line, stderr) when a GPU was lost to the CPU."""
    used = {device_of(s) for s in sessions}
    device_used = device if used == {device} else ("cpu" if "cpu" in used else sorted(used)[0])
    warnings: list[str] = []
    if device != "cpu" and device_used == "cpu":
        cause = fallback_cause(device, available_providers())
        msg = f"{device} was requested but inference runs on the CPU: {cause}"
        warnings.append(msg)
        if not quiet:
            sys.stderr.write(f"kmo: warning: {msg}\n")
    return device_used, warnings


def threads_of(session) -> int:  # noqa: ANN001
    """intra_op_num_threads a session was created with (0 = onnxruntime's default)."""
    return int(session.get_session_options().intra_op_num_threads)
