"""Replay the accuracy cases' analysis without the pose model (a development tool).

The pose stage is almost all of a case's time; the event logic after it takes well under a
second. ``--dump`` runs the whole pipeline once per case (the videos ``make accuracy``
rendered into its cache) and pickles what the pose stage handed on (video info, decode
report, camera motion, pose run); without it, each pickle is measured again with the
current analysis code and compared with the truth, as the accuracy report does. Results
can differ from ``make accuracy`` only where a failed measurement was retried on a crop
(``closer_look.py``): the pickle holds the run that was finally measured.

    python -m tests.groundtruth.replay --dump [--jobs 2]    # once, ~13 min
    python -m tests.groundtruth.replay [--cases a,b] [--json out.json]
    python -m tests.groundtruth.replay --jitter 0.3 --seeds 3   # how robust is the logic?
    python -m tests.groundtruth.replay --dump --model lite --dumps build/replay-lite

``--jitter`` adds seeded Gaussian noise (px) to every landmark of the pickled pose run
before measuring, ``--seeds`` times per case: a sub-pixel change of the pose input (another
runtime, another colour conversion) must not move events across their bounds. It prints
each case's results per seed, the cases whose verdict changes between seeds, and the
flight-time error distribution over all seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from kinemotion_cli import pipeline, report
from kinemotion_cli.backends import BackendOptions
from kinemotion_cli.pipeline import PoseRun, PoseSpec

from .accuracy import ROOT, case_key, evaluate_case, generator_hash, normalize_kmo, summarize

DUMPS = ROOT / "build" / "replay"


def _videos(cache: Path, names: list[str]) -> dict[str, Path]:
    from .cases import case_kwargs

    gen = generator_hash()
    paths = {n: cache / f"{n}-{case_key(case_kwargs(n), gen)}.mp4" for n in names}
    missing = [n for n, p in paths.items() if not p.exists()]
    if missing:
        raise SystemExit(f"not rendered (run make accuracy first): {', '.join(missing)}")
    return paths


def _dumped(pickled: Path, video: Path) -> bool:
    """Whether ``pickled`` holds the pose stage of ``video`` (its name has the case's hash)."""
    return pickled.exists() and pickle.loads(pickled.read_bytes())["video"] == str(video)


def _dump_one(args: tuple[str, str, Path, str | None]) -> str:
    name, video, dumps, model = args
    spec = PoseSpec("mediapipe", BackendOptions(model=model)) if model else PoseSpec("auto")
    (m,) = pipeline.run(video, [spec])
    blob = {"video": video, "info": m.video, "decode": m.decode, "camera": m.camera}
    blob["run"] = m.run
    (dumps / f"{name}.pkl").write_bytes(pickle.dumps(blob))
    return name


def _copies(p: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (a, b), a < b, of landmarks with identical coordinates in one pose."""
    xy = np.asarray(p)[:, :2]
    return [(a, b) for b in range(len(xy)) for a in range(b)
            if np.all(np.isfinite(xy[b])) and np.array_equal(xy[a], xy[b])]  # fmt: skip


def jittered(run: PoseRun, px: float, seed: int) -> PoseRun:
    """``run`` with seeded Gaussian noise of ``px`` pixels added to every landmark's x, y."""
    if px <= 0:
        return run
    rng = np.random.default_rng(seed)
    people = []
    for frame in run.people:
        out = []
        for p in frame:
            q = np.array(p, dtype=float, copy=True)
            q[:, :2] += rng.normal(0.0, px, size=(q.shape[0], 2))
            # a landmark the backend copied (BlazePose's one toe for Halpe's big and small
            # toe) stays a copy: the noise is the model's, before the mapping
            for a, b in _copies(p):
                q[b, :2] = q[a, :2]
            out.append(q)
        people.append(out)
    return dataclasses.replace(run, people=tuple(people))


def replay(name: str, blob: dict, jitter: float = 0.0, seed: int = 0) -> dict:
    """The kmo result of one dumped case, measured by the current analysis code."""
    pose = jittered(blob["run"], jitter, zlib.crc32(f"{name}/{seed}".encode()))
    m = pipeline.measure(blob["info"], blob["decode"], blob["camera"], pose)
    if m.error is not None:
        return normalize_kmo(report.error_dict(blob["video"], m.error.message, m.error.code),
                             int(m.error.code))  # fmt: skip
    return normalize_kmo(report.to_dict(m), 0)


def _replay_one(job: tuple[str, int, float, Path]) -> tuple[dict, str]:
    n, seed, jitter, dumps = job
    from .cases import case_tags

    blob = pickle.loads((dumps / f"{n}.pkl").read_bytes())
    video = Path(blob["video"])
    truth = json.loads(video.with_name(video.stem + ".truth.json").read_text())
    r = evaluate_case(n, case_tags(n, truth), truth, replay(n, blob, jitter, seed))
    r["seed"] = seed
    errs = [
        " ".join(f"{k[:-2]} {v:+.1f}" for k, v in row["errors"].items()
                 if k in ("takeoff_s", "landing_s", "flight_time_s"))
        for row in r["rows"]
    ]  # fmt: skip
    tag = f" [seed {seed}]" if jitter > 0 else ""
    return r, f"{'PASS' if r['pass'] else 'FAIL'} {n}{tag} exit {r['exit_code']} {' | '.join(errs)}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.groundtruth.replay", description=__doc__)
    ap.add_argument("--dump", action="store_true", help="run the pose stage and pickle it")
    ap.add_argument("--cases", default=None, help="comma-separated case names")
    ap.add_argument(
        "--set",
        default="main",
        choices=["main", "holdout", "holdout2", "holdout3"],
        help="which cases",
    )
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "accuracy")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    ap.add_argument("--dumps", type=Path, default=DUMPS, help="where the pickles are")
    ap.add_argument("--jitter", type=float, default=0.0, help="landmark noise added, px")
    ap.add_argument("--seeds", type=int, default=1, help="noise draws per case")
    ap.add_argument("--out", type=Path, default=None, help="append the summary to this file")
    ap.add_argument("--keep", action="store_true", help="--dump: keep existing pickles")
    ap.add_argument("--model", default=None, help="--dump: MediaPipe model (default: kmo's)")
    args = ap.parse_args(argv)
    from .cases import CASE_SETS

    names = args.cases.split(",") if args.cases else list(CASE_SETS[args.set])
    if args.dump:
        args.dumps.mkdir(parents=True, exist_ok=True)
        todo = [(n, str(p), args.dumps, args.model) for n, p in _videos(args.cache, names).items()
                if not (args.keep and _dumped(args.dumps / f"{n}.pkl", p))]  # fmt: skip
        with ProcessPoolExecutor(max(1, args.jobs)) as ex:
            for n in ex.map(_dump_one, todo):
                print(f"dumped {n}", file=sys.stderr, flush=True)
        return 0
    seeds = range(max(1, args.seeds))
    jobs = [(n, seed, args.jitter, args.dumps) for n in names for seed in seeds]
    jobs = [j for j in jobs if (args.dumps / f"{j[0]}.pkl").exists()]
    with ProcessPoolExecutor(max(1, args.jobs)) as ex:
        done = list(ex.map(_replay_one, jobs))
    results = [r for r, _ in done]
    verdicts: dict[str, list[bool]] = {}
    flights = []
    for r, line in done:
        print(line)
        verdicts.setdefault(r["case"], []).append(bool(r["pass"]))
        flights += [abs(row["errors"]["flight_time_s"]) for row in r["rows"]
                    if row["errors"].get("flight_time_s") is not None]  # fmt: skip
    lines = [f"landmark noise {args.jitter:g} px, {len(seeds)} draw(s) per case:"]
    for seed in seeds:
        o = summarize(results[seed :: len(seeds)])["overall"]
        lines.append(
            f"- draw {seed}: {o['cases_passed']}/{o['cases']} cases within every bound; "
            f"found {o['found']}/{o['jumps']}, typed right {o['typed_right']}, "
            f"extra {o['extra_jumps']}, "
            f"no-jump clips exit 3: {o['no_jump_exit_3']}/{o['no_jump_cases']}"
        )
    flips = sorted(n for n, v in verdicts.items() if len(set(v)) > 1)
    lines.append(f"- cases whose verdict changes between draws: {len(flips)} {' '.join(flips)}")
    if flights:
        f = np.array(flights)
        lines.append(f"- |flight-time error| over all draws: median {np.median(f):.1f} ms, "
                     f"90th percentile {np.percentile(f, 90):.1f} ms, worst {f.max():.1f} ms "
                     f"({f.size} jumps)")  # fmt: skip
    print("\n".join(lines))
    if args.out:
        with args.out.open("a") as fh:
            fh.write("\n".join(lines) + "\n\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
