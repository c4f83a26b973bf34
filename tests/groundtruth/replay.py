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
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .accuracy import ROOT, case_key, evaluate_case, generator_hash, normalize_kmo, summarize

DUMPS = ROOT / "build" / "replay"


def _videos(cache: Path, names: list[str]) -> dict[str, Path]:
    from .cases import CASES

    gen = generator_hash()
    paths = {n: cache / f"{n}-{case_key(CASES[n][0], gen)}.mp4" for n in names}
    missing = [n for n, p in paths.items() if not p.exists()]
    if missing:
        raise SystemExit(f"not rendered (run make accuracy first): {', '.join(missing)}")
    return paths


def _dump_one(args: tuple[str, str]) -> str:
    name, video = args
    from kinemotion_cli.pipeline import PoseSpec, run

    (m,) = run(video, [PoseSpec("auto")])
    blob = {"video": video, "info": m.video, "decode": m.decode, "camera": m.camera}
    blob["run"] = m.run
    (DUMPS / f"{name}.pkl").write_bytes(pickle.dumps(blob))
    return name


def replay(name: str, blob: dict) -> dict:
    """The kmo result of one dumped case, measured by the current analysis code."""
    from kinemotion_cli import report
    from kinemotion_cli.pipeline import measure

    m = measure(blob["info"], blob["decode"], blob["camera"], blob["run"])
    if m.error is not None:
        return normalize_kmo(report.error_dict(blob["video"], m.error.message, m.error.code),
                             int(m.error.code))  # fmt: skip
    return normalize_kmo(report.to_dict(m), 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.groundtruth.replay", description=__doc__)
    ap.add_argument("--dump", action="store_true", help="run the pose stage and pickle it")
    ap.add_argument("--cases", default=None, help="comma-separated case names")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "accuracy")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    args = ap.parse_args(argv)
    from .cases import CASES, case_tags

    names = args.cases.split(",") if args.cases else list(CASES)
    if args.dump:
        DUMPS.mkdir(parents=True, exist_ok=True)
        todo = [(n, str(p)) for n, p in _videos(args.cache, names).items()]
        with ProcessPoolExecutor(max(1, args.jobs)) as ex:
            for n in ex.map(_dump_one, todo):
                print(f"dumped {n}", file=sys.stderr, flush=True)
        return 0
    results = []
    for n in names:
        path = DUMPS / f"{n}.pkl"
        if not path.exists():
            print(f"{n}: no dump", file=sys.stderr)
            continue
        blob = pickle.loads(path.read_bytes())
        video = Path(blob["video"])
        truth = json.loads(video.with_name(video.stem + ".truth.json").read_text())
        r = evaluate_case(n, case_tags(n, truth), truth, replay(n, blob))
        results.append(r)
        errs = [
            " ".join(f"{k[:-2]} {v:+.1f}" for k, v in row["errors"].items()
                     if k in ("takeoff_s", "landing_s", "flight_time_s"))
            for row in r["rows"]
        ]  # fmt: skip
        print(f"{'PASS' if r['pass'] else 'FAIL'} {n} exit {r['exit_code']} {' | '.join(errs)}")
    o = summarize(results)["overall"]
    print(f"{o['cases_passed']}/{o['cases']} passed; found {o['found']}/{o['jumps']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
