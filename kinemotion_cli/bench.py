"""`make bench`: speed and memory figures measured side by side in one run.

Prints, for the 1080x1920 60 fps sample of a checkout (else the clip shipped with kmo):
decode fps, inference-only fps, end-to-end fps of ``kmo analyze`` and their ratio, CLI
start-up time, and peak memory for a short video and one four times longer. Run
``python -m kinemotion_cli.bench --help`` for options.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kinemotion_cli.backends import BackendOptions, create
from kinemotion_cli.data import BENCH_CLIP
from kinemotion_cli.pipeline import PoseSpec, analyze_video
from kinemotion_cli.video import iter_frames, probe

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "bench_1080x1920_60fps.mp4"
DEFAULT_VIDEO = SAMPLE if SAMPLE.exists() else BENCH_CLIP

# VmHWM (peak resident set of this process image) rather than ru_maxrss, which a child can
# inherit from a large parent across fork.
_RSS_WRAPPER = """
import atexit, sys
out = sys.argv.pop(1)
def _report():
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    with open(out, "w") as fh:
        fh.write(status)
atexit.register(_report)
from kinemotion_cli.cli import main
sys.argv[0] = "kmo"
main()
"""


def decode_fps(path: str) -> tuple[float, int]:
    """Frames per second of decoding to upright RGB (no inference)."""
    info = probe(path)
    t0 = time.perf_counter()
    n = sum(1 for _ in iter_frames(path, info))
    return n / (time.perf_counter() - t0), n


def first_frames(path: str, n: int) -> list[tuple]:
    """The first ``n`` decoded frames of ``path`` as ``(image, t)``, held in memory."""
    out = []
    for f in iter_frames(path, probe(path)):
        out.append((f.image, f.t))
        if len(out) >= n:
            break
    return out


def backend_fps(backend, frames: list[tuple]) -> float:  # noqa: ANN001 - a PoseBackend
    """Frames per second of ``backend.infer`` on decoded frames, after one warm-up frame."""
    backend.infer(*frames[0])
    t0 = time.perf_counter()
    for image, t in frames:
        backend.infer(image, t)
    return len(frames) / (time.perf_counter() - t0)


def inference_fps(path: str, frames: int, options: BackendOptions) -> float:
    """Pose inference alone on frames already decoded into memory."""
    images = first_frames(path, frames)
    backend, _ = create("mediapipe", options)
    try:
        return backend_fps(backend, images)
    finally:
        backend.close()


def end_to_end_fps(path: str, options: BackendOptions) -> tuple[float, int]:
    """Frames per second of the whole in-process pipeline (decode thread + pose + analysis),
    and the frames the pose model ran on."""
    t0 = time.perf_counter()
    m = analyze_video(path, PoseSpec("mediapipe", options))
    return len(m.decode.times) / (time.perf_counter() - t0), m.run.frames_inferred


def cli_seconds(args: list[str], repeat: int = 5) -> float:
    """Best wall time of running the kmo CLI with ``args``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kinemotion_cli", *args], capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def peak_rss_mb(video: str) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of ``kmo analyze VIDEO --json`` in a fresh process."""
    with tempfile.NamedTemporaryFile(suffix=".rss", delete=False) as fh:
        out = fh.name
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _RSS_WRAPPER, out, "analyze", video, "--json"],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        if proc.returncode not in (0, 3):
            raise RuntimeError(f"kmo analyze failed on {video}: {proc.stderr.strip()}")
        return int(Path(out).read_text()) / 1024.0, wall
    finally:
        os.unlink(out)


def loop_video(src: str, dst: str, times: int, frames: int | None = None) -> None:
    """Write ``src`` (its first ``frames`` frames if given) repeated ``times`` times
    (continuous timestamps) to ``dst``."""
    import av

    info = probe(src)
    with av.open(dst, "w") as out:
        stream = out.add_stream("libx264", rate=round(info.fps), options={"preset": "ultrafast"})
        stream.width, stream.height = info.width, info.height
        stream.pix_fmt = "yuv420p"
        k = 0
        for _ in range(times):
            for i, f in enumerate(iter_frames(src, info)):
                if frames is not None and i >= frames:
                    break
                frame = av.VideoFrame.from_ndarray(f.image, format="rgb24")
                frame.pts = k
                k += 1
                for pkt in stream.encode(frame):
                    out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(DEFAULT_VIDEO))
    ap.add_argument("--frames", type=int, default=120, help="frames for inference-only fps")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--skip-rtm", action="store_true", help="skip the RTMPose session bench")
    ap.add_argument("--skip-batch", action="store_true", help="skip the batch workers bench")
    args = ap.parse_args(argv)
    video = args.video
    if not Path(video).is_file():
        print(f"bench: {video} not found; give --video", file=sys.stderr)
        return 2
    info = probe(video)
    options = BackendOptions(quiet=True)
    res: dict = {"video": video, "resolution": f"{info.width}x{info.height}", "fps": info.fps}
    res["decode_fps"], res["frames"] = decode_fps(video)
    res["inference_fps"] = inference_fps(video, args.frames, options)
    dense = dataclasses.replace(options, dense=True)
    res["end_to_end_fps"], res["inferred"] = end_to_end_fps(video, options)
    res["end_to_end_dense_fps"], res["inferred_dense"] = end_to_end_fps(video, dense)
    res["e2e_over_inference"] = res["end_to_end_dense_fps"] / res["inference_fps"]
    res["sparse_over_dense"] = res["end_to_end_fps"] / res["end_to_end_dense_fps"]
    res["startup_version_s"] = cli_seconds(["--version"])
    res["startup_help_s"] = cli_seconds(["analyze", "--help"])
    with tempfile.TemporaryDirectory() as tmp:
        long_video = str(Path(tmp) / "long4x.mp4")
        loop_video(video, long_video, 4)
        res["rss_short_mb"], res["wall_short_s"] = peak_rss_mb(video)
        res["rss_long_mb"], res["wall_long_s"] = peak_rss_mb(long_video)
    res["rss_long_over_short"] = res["rss_long_mb"] / res["rss_short_mb"]
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"kmo bench — {video} ({res['resolution']}, {res['fps']:g} fps, {res['frames']} frames)")
    print(f"  decode (upright RGB)       {res['decode_fps']:8.1f} fps")
    print(f"  inference only (MediaPipe) {res['inference_fps']:8.1f} fps  (full, image mode)")
    print(
        f"  end-to-end kmo analyze     {res['end_to_end_fps']:8.1f} fps  (sparse, the default: "
        f"{res['inferred']} of {res['frames']} frames inferred)"
    )
    print(
        f"  end-to-end --dense         {res['end_to_end_dense_fps']:8.1f} fps  "
        f"({res['inferred_dense']} frames inferred)"
    )
    print(f"  sparse / dense             {res['sparse_over_dense']:8.2f} x  (throughput)")
    print(f"  --dense / inference        {res['e2e_over_inference']:8.2f} x  (target >= 0.90)")
    print(
        f"  CLI start-up: kmo --version {res['startup_version_s']:.3f} s, "
        f"kmo analyze --help {res['startup_help_s']:.3f} s"
    )
    print(
        f"  peak memory, {res['frames']}-frame video   {res['rss_short_mb']:7.1f} MiB "
        f"({res['wall_short_s']:.1f} s)"
    )
    print(
        f"  peak memory, 4x longer video {res['rss_long_mb']:7.1f} MiB ({res['wall_long_s']:.1f} s)"
    )
    print(f"  memory long / short        {res['rss_long_over_short']:8.2f} x  (target: flat, ~1.0)")
    sys.stdout.flush()
    if not args.skip_rtm:
        from kinemotion_cli.bench_rtm import rtm_bench

        for line in rtm_bench():
            print(line, flush=True)
    if not args.skip_batch:
        from kinemotion_cli.bench_batch import batch_bench

        for line in batch_bench():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
