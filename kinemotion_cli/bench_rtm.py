"""RTMPose CPU throughput: tuned vs default onnxruntime sessions, and the effect of --det-every.

No real weights are needed: the models are stand-ins (``kinemotion_cli.testing.standins``,
needs ``onnx``) with random-weight convolution trunks of realistic size (multiply-adds of
RTMPose-m, RTMPose-s, YOLOX-tiny and YOLOX-m). Speeds are realistic; outputs are meaningless
(the stand-in detector boxes nearly the whole picture). The video is the CMJ sample of a
checkout, else the clip shipped in the package.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from kinemotion_cli.data import BENCH_CLIP

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "cmj_60fps.mp4"
VIDEO = SAMPLE if SAMPLE.exists() else BENCH_CLIP


def _time_runs(session, feed: dict, n: int) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        session.run(None, feed)
        out.append(time.perf_counter() - t0)
    return out


def _decode_load(stop: threading.Event) -> None:
    """Keep decoding the sample video, as kmo's decode thread does during inference."""
    from kinemotion_cli.video import iter_frames, probe

    info = probe(str(VIDEO))
    while not stop.is_set():
        for _ in iter_frames(str(VIDEO), info):
            if stop.is_set():
                return


def tuned_vs_default(model: Path, rounds: int = 5, runs: int = 8) -> dict[str, float]:
    """Median ms per crop, default vs tuned sessions, interleaved, alone and beside decoding."""
    import onnxruntime as ort

    from kinemotion_cli.backends import ort as ortk

    default = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    tuned = ort.InferenceSession(
        str(model), sess_options=ortk.session_options(), providers=["CPUExecutionProvider"]
    )
    feed = {"input": np.random.default_rng(0).standard_normal((1, 3, 256, 192), np.float32)}
    result: dict[str, float] = {}
    for label in ("alone", "with decoding"):
        stop = threading.Event()
        worker = None
        if label == "with decoding" and VIDEO.exists():
            worker = threading.Thread(target=_decode_load, args=(stop,), daemon=True)
            worker.start()
        _time_runs(default, feed, 2), _time_runs(tuned, feed, 2)  # warm-up
        d, t = [], []
        for _ in range(rounds):  # side by side: alternate so drift hits both equally
            d += _time_runs(default, feed, runs)
            t += _time_runs(tuned, feed, runs)
        stop.set()
        if worker is not None:
            worker.join(timeout=5)
        result[f"default_ms {label}"] = 1e3 * statistics.median(d)
        result[f"tuned_ms {label}"] = 1e3 * statistics.median(t)
    return result


def end_to_end(folder: Path, rounds: int = 2) -> dict[str, float]:
    """Whole-video frames/s (decode thread + inference), default vs tuned sessions, alternated."""
    from kinemotion_cli.backends import BackendOptions
    from kinemotion_cli.pipeline import PoseSpec, run

    fps: dict[str, list[float]] = {"default": [], "tuned": []}
    for _ in range(rounds):
        for label, threads in (("default", 0), ("tuned", None)):
            opts = BackendOptions(model_dir=str(folder), threads=threads, quiet=True)
            (m,) = run(str(VIDEO), [PoseSpec("rtmpose", opts)])
            fps[label].append(len(m.decode.times) / (m.timing["total_s"] - m.timing["analysis_s"]))
    return {k: statistics.median(v) for k, v in fps.items()}


def det_every_effect(folder: Path, frames: int = 90) -> dict[int, float]:
    """End-to-end backend frames/s on pre-decoded sample frames for several --det-every."""
    from kinemotion_cli.backends import BackendOptions
    from kinemotion_cli.backends.rtmpose import RTMPoseBackend
    from kinemotion_cli.bench import first_frames

    images = [image for image, _ in first_frames(str(VIDEO), frames)]
    out: dict[int, float] = {}
    for n in (1, 2, 4, 8):
        b = RTMPoseBackend(
            BackendOptions(mode="lightweight", model_dir=str(folder), det_every=n, quiet=True)
        )
        b.infer(images[0], 0.0)
        t0 = time.perf_counter()
        found = sum(1 for i, im in enumerate(images) if b.infer(im, i / 60))
        out[n] = len(images) / (time.perf_counter() - t0)
        assert found == len(images), "the stand-in detector found nobody"
        b.close()
    return out


def auto_cpu_rule(folders: dict[str, Path], frames: int = 16) -> dict[str, float]:
    """Inference fps on the same decoded frames: MediaPipe full vs tuned-CPU RTMPose modes.

    ``folders`` maps an RTMPose mode to a folder of realistic-size random-weight models.
    This is the measurement behind ``--backend auto``'s CPU choice (``backends/auto.py``).
    """
    from kinemotion_cli.backends import BackendOptions, create
    from kinemotion_cli.bench import backend_fps, first_frames

    images = first_frames(str(VIDEO), frames)
    out: dict[str, float] = {}
    mp, _ = create("mediapipe", BackendOptions(device="cpu", quiet=True))
    try:
        out["mediapipe full"] = backend_fps(mp, images)
    finally:
        mp.close()
    for mode, folder in folders.items():
        b, _ = create("rtmpose", BackendOptions(mode=mode, model_dir=str(folder), quiet=True))
        try:
            out[f"rtmpose {mode}"] = backend_fps(b, images)
        finally:
            b.close()
    return out


def rtm_bench() -> list[str]:
    """Printing-ready lines for ``make bench``."""
    from kinemotion_cli.testing import standins

    missing = standins.onnx_missing()
    if missing:
        return [f"rtmpose bench: skipped ({missing})"]
    from kinemotion_cli.backends import ort as ortk
    from kinemotion_cli.testing.standins import REAL_MACS, make_pose, write_model_dir

    lines = [
        "RTMPose CPU (stand-in models (test only): random weights, realistic size; speed only)",
        f"  threads: tuned {ortk.default_threads()} (physical cores available to the "
        f"process, cgroup quota {ortk.cgroup_cpu_limit() or 'none'}); default = "
        "onnxruntime's own choice, as rtmlib creates it",
    ]
    with tempfile.TemporaryDirectory(prefix="kmo-bench-") as tmp:
        pose_m_macs = REAL_MACS["balanced"][1]
        model = make_pose(Path(tmp) / "rtmpose_m_like.onnx", heavy_macs=pose_m_macs)
        r = tuned_vs_default(model)
        for label in ("alone", "with decoding"):
            d, t = r[f"default_ms {label}"], r[f"tuned_ms {label}"]
            lines.append(
                f"  RTMPose-m-size crop, {label}: default {d:.1f} ms, tuned {t:.1f} ms, "
                f"tuned/default throughput x{d / t:.2f}"
            )
        folder = write_model_dir(Path(tmp) / "models", None, "lightweight", realistic=True)
        e2e_dir = write_model_dir(Path(tmp) / "e2e", None, "balanced", heavy_pose_macs=pose_m_macs)
        e = end_to_end(e2e_dir)
        lines.append(
            f"  whole video (decode thread + RTMPose-m-size pose, detector cost ~0): default "
            f"{e['default']:.1f} fps, tuned {e['tuned']:.1f} fps, "
            f"x{e['tuned'] / e['default']:.2f}"
        )
        fps = det_every_effect(folder)
        lines.append(
            "  --det-every (lightweight: YOLOX-tiny-size 416 + RTMPose-s-size, tuned, "
            "inference only): "
            + ", ".join(f"{n}: {v:.1f} fps" for n, v in fps.items())
            + f" (x{fps[max(fps)] / fps[1]:.2f} at {max(fps)})"
        )
        balanced = write_model_dir(Path(tmp) / "balanced", None, "balanced", realistic=True)
        lines += auto_rule_lines(auto_cpu_rule({"lightweight": folder, "balanced": balanced}))
    return lines


def auto_rule_lines(fps: dict[str, float]) -> list[str]:
    """Report the ``--backend auto`` CPU measurement and whether the coded rule still holds."""
    from kinemotion_cli.backends.auto import CPU_CHOICE

    mp = fps["mediapipe full"]
    best = max((k for k in fps if k.startswith("rtmpose")), key=fps.__getitem__)
    faster = "mediapipe" if mp >= fps[best] else "rtmpose"
    lines = [
        "  --backend auto, CPU rule (inference only, same frames, detection every frame): "
        + ", ".join(f"{k} {v:.1f} fps" for k, v in fps.items()),
        f"    MediaPipe full / fastest RTMPose ({best}) = x{mp / fps[best]:.2f} -> {faster} is "
        f"faster here; coded choice: {CPU_CHOICE} "
        + ("(holds)" if faster == CPU_CHOICE else "(OUT OF DATE: update backends/auto.py)"),
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(rtm_bench()))
