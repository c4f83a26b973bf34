"""Accuracy table: render ground-truth jumps, run the real `kmo analyze`, print the errors.

Usage: python -m tests.groundtruth.accuracy [--out DIR] [extra kmo args...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .render import Spec, render

CASES: dict[str, dict] = {
    "cmj 30 fps back": dict(jump="cmj", fps=30, source="back", flight_time=0.45),
    "cmj 60 fps front": dict(jump="cmj", fps=60, source="front"),
    "cmj 60 fps rot -90": dict(jump="cmj", fps=60, source="front", rotation=-90),
    "cmj 120 fps back noisy": dict(jump="cmj", fps=120, source="back", noise=3, crf=26),
    "cmj 30 fps bystander": dict(jump="cmj", fps=30, bystander=True, flight_time=0.55),
    "dj 30 fps front": dict(jump="dj", fps=30, source="front", box=0.4, flight_time=0.42),
    "dj 60 fps back": dict(jump="dj", fps=60, source="back"),
    "dj 240 fps front": dict(jump="dj", fps=240, width=360, height=640, flight_time=0.45),
    "sj 60 fps back": dict(jump="sj", fps=60, source="back", flight_time=0.4),
    "sj 240 fps front": dict(jump="sj", fps=240, width=360, height=640, flight_time=0.55),
    "none 30 fps": dict(jump="none", fps=30),
}


def main(argv: list[str]) -> int:
    out = Path(tempfile.mkdtemp(prefix="kmo-acc-"))
    extra = argv
    print(
        "| case | type (truth) | exit | flight time err (ms) | takeoff err (ms) "
        "| landing err (ms) | height err (cm) | contact time err (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, spec in CASES.items():
        path = out / (name.replace(" ", "_") + ".mp4")
        truth = render(Spec(**spec), path)
        proc = subprocess.run(
            [sys.executable, "-m", "kinemotion_cli", "analyze", str(path), "--json", *extra],
            capture_output=True,
            text=True,
        )
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        if res.get("status") != "ok":
            print(
                f"| {name} | – ({truth['jump_type']}) | {proc.returncode} | {res.get('error')} "
                "| | | | |"
            )
            continue
        me, tm, ev, te = res["metrics"], truth["metrics"], res["events"], truth["events"]

        def d(a, b, k):
            return f"{k * (a - b):+.2f}"

        gct = (
            d(me["ground_contact_time_s"], tm["ground_contact_time_s"], 1000)
            if "ground_contact_time_s" in me
            else "–"
        )
        print(
            f"| {name} | {res['jump_type']} ({truth['jump_type']}) | {proc.returncode} "
            f"| {d(me['flight_time_s'], tm['flight_time_s'], 1000)} "
            f"| {d(ev['takeoff_s'], te['takeoff_s'], 1000)} "
            f"| {d(ev['landing_s'], te['landing_s'], 1000)} "
            f"| {d(me['jump_height_m'], tm['jump_height_m'], 100)} | {gct} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
