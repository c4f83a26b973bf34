"""Batch throughput of the local pool and of Ray, 1 and 2 workers, on the three sample videos.

``python -m kinemotion_cli.bench_ray`` (``make bench-ray``) runs one real ``kmo analyze``
process per configuration (start-up, model loading and, for Ray, starting a local Ray
included, as a user sees it) and prints a markdown table: wall time, videos per minute, and
Ray's cost per video against the local engine with as many workers. It also reports the two
parts of Ray's overhead that ``kmo`` measures itself (its closing ``kmo: ray:`` line):
start-up (a local Ray and the first worker ready) and the per-video round trip beyond the
time spent measuring in the worker. Needs the Ray extra (``pip install -e ".[ray]"``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = tuple(
    ROOT / "sample_videos" / f"{n}_60fps.mp4" for n in ("cmj", "drop_jump", "squat_jump")
)
CONFIGS = (("local", 1), ("local", 2), ("ray", 1), ("ray", 2))


def time_batch(videos: list[Path], engine: str, workers: int) -> tuple[float, dict]:
    """Wall-clock seconds of one ``kmo analyze`` run, and what its ``kmo: ray:`` line says."""
    with tempfile.TemporaryDirectory(prefix="kmo-bench-ray-") as out:
        cmd = [sys.executable, "-m", "kinemotion_cli", "analyze", "--json", "--out", out]
        cmd += ["--workers", str(workers), "--engine", engine, *map(str, videos)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(
            f"kmo analyze --engine {engine} failed ({proc.returncode}): "
            f"{proc.stderr.strip()[-500:]}"
        )
    return seconds, parse_ray_line(proc.stderr)


def parse_ray_line(stderr: str) -> dict:
    """Start-up seconds and per-video overhead (ms) from ``kmo: ray: ...`` (empty if none)."""
    found = {}
    m = re.search(r"start-up ([0-9.]+) s", stderr)
    if m:
        found["start_s"] = float(m.group(1))
    m = re.search(r"overhead ([0-9.]+) ms/video", stderr)
    if m:
        found["overhead_ms"] = float(m.group(1))
    m = re.search(r"pose models loaded (\d+) time\(s\) in (\d+) worker", stderr)
    if m:
        found["loads"], found["processes"] = int(m.group(1)), int(m.group(2))
    return found


def bench(repeat: int = 1, configs=CONFIGS) -> list[str]:  # noqa: ANN001
    """Markdown lines: the throughput table and Ray's overhead per video."""
    videos = [p for p in SAMPLES if p.exists()]
    if not videos:
        return ["bench-ray: sample videos not found (run from a checkout)"]
    n = len(videos)
    best: dict[tuple[str, int], tuple[float, dict]] = {}
    for engine, workers in configs:
        for _ in range(repeat):
            s, extra = time_batch(videos, engine, workers)
            if (engine, workers) not in best or s < best[(engine, workers)][0]:
                best[(engine, workers)] = (s, extra)
            print(f"  {engine} --workers {workers}: {s:.1f} s", file=sys.stderr, flush=True)
    lines = [
        f"Batch of {n} sample videos (`kmo analyze --json --out DIR`), best of {repeat} run(s):",
        "",
        "| engine | workers | wall time | videos/min | extra per video vs local |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for (engine, workers), (s, _) in best.items():
        extra = ""
        if engine == "ray" and ("local", workers) in best:
            extra = f"{(s - best[('local', workers)][0]) / n:+.1f} s"
        lines.append(f"| {engine} | {workers} | {s:.1f} s | {60 * n / s:.1f} | {extra} |")
    lines.append("")
    for (engine, workers), (_, extra) in best.items():
        if engine == "ray" and extra:
            lines.append(
                f"- ray --workers {workers}: start-up {extra.get('start_s', 0):.1f} s (local Ray "
                f"+ first worker ready), dispatch overhead {extra.get('overhead_ms', 0):.0f} "
                f"ms/video (round trip minus time in the worker), pose models loaded "
                f"{extra.get('loads', '?')} time(s) in {extra.get('processes', '?')} worker(s)"
            )
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs per configuration (best kept)")
    args = ap.parse_args(argv)
    print("\n".join(bench(max(1, args.repeat))))


if __name__ == "__main__":
    main()
