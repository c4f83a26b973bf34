"""RTMPose throughput on a GPU with stand-in models of the real models' size (issue 11).

Writes stand-in RTMPose models (random weights with the real multiply-add counts,
``kinemotion_cli.testing.standins.REAL_MACS``) for ``lightweight`` and ``balanced``, opens
them with kmo's own onnxruntime session settings on the device asked for, and times the
pose model on batches of person crops (1, 4, 8) and the detector on single frames. It prints
the providers each session really uses, so a silent CPU fallback shows.

This is a benchmark, not a test; the figures are speed only (the weights are meaningless).

    python benchmarks/gpu_rtmpose.py --device cuda [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _time(session, feed: dict, repeats: int) -> float:  # noqa: ANN001
    """Median seconds of one ``session.run`` after warm-up."""
    for _ in range(5):
        session.run(None, feed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _feed(session, batch: int) -> dict:  # noqa: ANN001
    """Random input for ``session``: ``batch`` on a dynamic first axis (a fixed one stays)."""
    inp = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else (batch if i == 0 else 1) for i, d in enumerate(inp.shape)]
    rng = np.random.default_rng(0)
    return {inp.name: rng.random(shape, dtype=np.float32) * 255}


def main() -> int:
    import onnxruntime as ort

    from kinemotion_cli.backends import ort as ortk
    from kinemotion_cli.models.rtmlib_models import RTMPOSE_MODES
    from kinemotion_cli.testing.standins import write_model_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--modes", default="lightweight,balanced")
    ap.add_argument("--batches", default="1,4,8")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.device == "cuda":
        ortk.preload_cuda()
    out = {
        "onnxruntime": ort.__version__,
        "providers_listed": ort.get_available_providers(),
        "device": args.device,
        "rows": [],
    }
    print(f"onnxruntime {ort.__version__}; providers listed: {out['providers_listed']}")
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            folder = write_model_dir(Path(tmp) / mode, None, mode, realistic=True)
            det, pose = RTMPOSE_MODES[mode]
            for role, spec, batches in (
                ("detector", det, [1]),
                ("pose", pose, [int(b) for b in args.batches.split(",")]),
            ):
                s = ort.InferenceSession(
                    str(folder / spec.filename),
                    sess_options=ortk.session_options(None),
                    providers=ortk.providers_for(args.device),
                )
                used = s.get_providers()
                for b in batches:
                    feed = _feed(s, b)
                    n = int(next(iter(feed.values())).shape[0])
                    sec = _time(s, feed, args.repeats)
                    row = {
                        "mode": mode,
                        "model": role,
                        "input": list(next(iter(feed.values())).shape),
                        "batch": n,
                        "ms_per_run": round(1e3 * sec, 3),
                        "per_s": round(n / sec, 1),
                        "providers_used": used,
                    }
                    out["rows"].append(row)
                    unit = "crops/s" if role == "pose" else "frames/s"
                    print(
                        f"{mode:12s} {role:8s} batch {n}: {row['ms_per_run']:8.3f} ms/run "
                        f"{row['per_s']:9.1f} {unit}  providers {used[0]}"
                    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
