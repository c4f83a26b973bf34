"""CLI: ``python -m tests.groundtruth {assets,render,cases,samples,check} ...``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

DEFAULT_MODEL = "../shared/models/pose_landmarker_full.task"


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    ap = argparse.ArgumentParser(prog="python -m tests.groundtruth", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)

    a = sub.add_parser(
        "assets", help="cut sprite/background from the real footage (needs MediaPipe)"
    )
    a.add_argument("--footage", type=Path, default=Path("../shared/footage"))
    a.add_argument(
        "--model",
        type=Path,
        default=None,
        help="default: <footage>/../models/pose_landmarker_full.task",
    )
    a.add_argument("--out", type=Path, default=Path("tests/assets"))
    a.add_argument(
        "--scenes",
        default="front,back,two_front,two_oblique",
        help="comma-separated: front, back (one person each), two_front, two_oblique",
    )

    r = sub.add_parser("render", help="render one ground-truth video + <stem>.truth.json")
    r.add_argument("--jump", choices=["cmj", "dj", "sj", "none"], default="cmj")
    r.add_argument("--fps", type=float, default=60.0)
    r.add_argument("--width", type=int, default=540)
    r.add_argument("--height", type=int, default=960)
    r.add_argument(
        "--rotation",
        type=int,
        choices=[0, 90, -90, 180],
        default=0,
        help="display-matrix angle, ffprobe convention (phones: -90)",
    )
    r.add_argument("--noise", type=float, default=0.0, help="gaussian noise sigma (8-bit levels)")
    r.add_argument("--crf", type=int, default=18)
    r.add_argument("--preset", default="medium")
    r.add_argument(
        "--source",
        choices=[
            "front",
            "back",
            "two_front_man",
            "two_front_woman",
            "two_oblique_man",
            "two_oblique_woman",
        ],
        default="front",
    )
    r.add_argument("--flight-time", type=float, default=0.5)
    r.add_argument(
        "--depth", type=float, default=None, help="m; default cmj 0.25, dj 0.15, sj 0.30, none 0.20"
    )
    r.add_argument("--box", type=float, default=0.3, help="drop-jump box height (m)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--bystander", action="store_true", help="add a second, standing person")
    r.add_argument("--stature", type=float, default=1.75)
    r.add_argument(
        "--takeoff", type=float, default=None, help="takeoff time (s); default: auto, off-frame"
    )
    r.add_argument("--duration", type=float, default=None, help="video length (s); default: auto")
    r.add_argument("--case", default=None, help="render a named case of tests/groundtruth/cases.py")
    r.add_argument(
        "--spec-json",
        default=None,
        help="JSON object of further Spec fields, e.g. '{\"heel_rise_s\": 0.08}'",
    )
    r.add_argument("--out", type=Path, required=True)

    sub.add_parser("cases", help="list the named accuracy cases and their tags")

    s = sub.add_parser("samples", help="write the committed sample videos")
    s.add_argument("--out", type=Path, default=Path("sample_videos"))
    s.add_argument(
        "--no-bench", dest="bench", action="store_false", help="skip bench_1080x1920_60fps.mp4"
    )

    c = sub.add_parser(
        "check", help="run MediaPipe pose on rendered videos and compare with the truth"
    )
    c.add_argument("videos", type=Path, nargs="+")
    c.add_argument("--model", type=Path, default=Path(DEFAULT_MODEL))

    args = ap.parse_args(argv)
    if args.cmd == "assets":
        from .assets import build_assets, build_two_people

        model = args.model or args.footage.parent / "models" / "pose_landmarker_full.task"
        scenes = set(args.scenes.split(","))
        if scenes & {"front", "back"}:
            build_assets(args.footage, args.out, model, scenes & {"front", "back"})
        if scenes & {"two_front", "two_oblique"}:
            build_two_people(args.footage, args.out, model, scenes)
    elif args.cmd == "render":
        from .render import Spec, render

        spec = Spec(
            jump=args.jump,
            fps=args.fps,
            width=args.width,
            height=args.height,
            rotation=args.rotation,
            noise=args.noise,
            crf=args.crf,
            preset=args.preset,
            source=args.source,
            flight_time=args.flight_time,
            depth=args.depth,
            box=args.box,
            seed=args.seed,
            stature_m=args.stature,
            takeoff_s=args.takeoff,
            duration_s=args.duration,
            bystander=args.bystander,
        )
        if args.case:
            from .cases import case_spec

            spec = case_spec(args.case)
        if args.spec_json:
            spec = dataclasses.replace(spec, **json.loads(args.spec_json))
        truth = render(spec, args.out)
        print(
            json.dumps(
                {"out": str(args.out), "events": truth["events"], "metrics": truth["metrics"]},
                indent=1,
            )
        )
    elif args.cmd == "cases":
        from .cases import CASES

        for name, (kw, tags) in CASES.items():
            print(f"{name}: {json.dumps(kw, default=list)} {tags}")
    elif args.cmd == "samples":
        from .samples import write_samples

        write_samples(args.out, bench=args.bench)
    elif args.cmd == "check":
        from .posecheck import check_video

        for v in args.videos:
            print(json.dumps(check_video(v, args.model)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
