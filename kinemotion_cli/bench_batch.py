"""Batch throughput: videos per minute over the three sample videos with 1 and 2 workers.

Each figure is one real ``kmo analyze --json --workers N`` process (start-up, model loading
and worker spawning included), so it is what a user running a batch sees. Run from a checkout
(``make bench``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = tuple(
    ROOT / "sample_videos" / f"{n}_60fps.mp4" for n in ("cmj", "drop_jump", "squat_jump")
)


def time_batch(videos: list[Path], workers: int) -> float:
    """Wall-clock seconds of one ``kmo analyze`` batch run; raises if any video fails."""
    cmd = [sys.executable, "-m", "kinemotion_cli", "analyze", "--json", "--quiet"]
    cmd += ["--workers", str(workers), *map(str, videos)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"kmo analyze failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return seconds


def batch_bench(workers: tuple[int, ...] = (1, 2)) -> list[str]:
    """Printable lines: videos/minute for each worker count over the samples, and the ratio."""
    videos = [p for p in SAMPLES if p.exists()]
    if not videos:
        return ["batch throughput: sample videos not found (run from a checkout)"]
    frames = _frames(videos)
    lines = [
        f"batch throughput, {len(videos)} sample videos ({frames} frames), kmo analyze --json:"
    ]
    rate: dict[int, float] = {}
    for n in workers:
        s = time_batch(videos, n)
        rate[n] = 60.0 * len(videos) / s
        lines.append(
            f"  --workers {n}: {s:6.1f} s  {rate[n]:5.1f} videos/min  {frames / s:5.1f} frames/s"
        )
    if len(workers) >= 2:
        a, b = workers[0], workers[-1]
        lines.append(f"  speed-up {b} vs {a} workers: {rate[b] / rate[a]:.2f}x")
    return lines


def _frames(videos: list[Path]) -> int:
    from kinemotion_cli.video import probe

    return sum(probe(str(v)).frames or 0 for v in videos)


if __name__ == "__main__":
    print("\n".join(batch_bench()))
