"""Accuracy report: render the ground-truth cases, run the real `kmo analyze`, compare.

Usage (the engine of a future `make accuracy`)::

    python -m tests.groundtruth.accuracy [--out docs/accuracy.md] [--json FILE]
        [--cases NAME,...] [--tags TAG] [--cache DIR] [--jobs 2] [-- extra kmo args]

Cases (tests/groundtruth/cases.py) are rendered in a process pool into a cache folder keyed
by a hash of the spec and of the generator's code and assets; kmo runs on each video
(`python -m kinemotion_cli analyze VIDEO --json`, `--jobs` at a time). Detected jumps are
matched to truth jumps by takeoff time (nearest, within 0.25 s, one to one). Errors are
kmo - truth: ms for times, cm for lengths, plain for RSI and velocities. Both kmo JSON
schema 2 (a "jumps" list) and schema 1 (one jump at the top level) are read.

Pass bounds per truth jump: found and typed right; flight-time error <= 8 ms at >= 60 fps,
<= half a frame interval below 60 fps (nominal fps); jump-height error <= 1 cm at >= 60 fps;
drop-jump / rebound contact time within one frame interval. A case passes when every truth
jump passes, kmo measured the clip (status "ok": exit 0, or exit 7 = low confidence in the
newer kmo) and reports no extra jump; a no-jump case passes when kmo exits 3.

Each takeoff, landing and flight-time error is also divided by kmo's stated uncertainty of
it (``event_uncertainty_s``, the flight time's ``uncertainty``: 1 sd); the summary counts
those within 2 sd, which is about 95 % when the stated figures are right.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GT = Path(__file__).resolve().parent
MATCH_WINDOW_S = 0.25
FLIGHT_BOUND_HI_FPS_S = 0.008
HEIGHT_BOUND_M = 0.01
NO_JUMP_EXIT = 3
SUMMARY_KEYS = (
    ("flight_time_s", "flight time (ms)"),
    ("jump_height_m", "jump height (cm)"),
    ("ground_contact_time_s", "contact time (ms)"),
    ("takeoff_s", "takeoff (ms)"),
    ("landing_s", "landing (ms)"),
)


# ---- pure logic (unit-tested with hand-made kmo JSON) -----------------------------------------
def normalize_kmo(res: dict | None, returncode: int) -> dict:
    """kmo JSON (schema 1 or 2, or None when nothing parsed) -> exit code, status, jumps."""
    if res is None:
        return {"exit_code": returncode, "status": "error", "error": "no JSON", "jumps": []}
    out = {
        "exit_code": res.get("exit_code", returncode),
        "status": res.get("status"),
        "error": res.get("error"),
        "schema_version": res.get("schema_version"),
        "kmo_version": res.get("kmo_version"),
        "inference": res.get("inference"),  # frames the pose model ran on / filled
        "jumps": [],
    }
    if returncode is not None:
        out["exit_code"] = returncode
    if res.get("status") != "ok":
        return out
    if "jumps" in res and isinstance(res["jumps"], list):
        src = res["jumps"]
    elif res.get("jump_type") is not None:  # schema 1: one jump at the top level
        src = [{"jump_type": res["jump_type"], "events": res.get("events") or {},
                "metrics": res.get("metrics") or {}}]  # fmt: skip
    else:
        src = []
    for j in src:
        sd = {k: v for k, v in (j.get("event_uncertainty_s") or {}).items() if v}
        flight = ((j.get("metric_details") or {}).get("flight_time_s") or {}).get("uncertainty")
        if flight:
            sd["flight_time_s"] = flight
        out["jumps"].append(
            {
                "jump_type": j.get("jump_type"),
                "events": {k: v for k, v in (j.get("events") or {}).items() if v is not None},
                "metrics": {k: v for k, v in (j.get("metrics") or {}).items() if v is not None},
                "sd": sd,  # kmo's stated uncertainty (1 sd, s) of events and the flight time
                "null": [
                    k
                    for part in ("events", "metrics")
                    for k, v in (j.get(part) or {}).items()
                    if v is None
                ],  # fmt: skip
            }
        )
    return out


def match_jumps(truth_jumps: list[dict], kmo_jumps: list[dict], window: float = MATCH_WINDOW_S):
    """One-to-one matching by takeoff time, nearest pairs first, within window (s).

    Returns (pairs [(truth index, kmo index)], missed truth indices, extra kmo indices).
    Truth jumps whose takeoff is not in view cannot be matched and are not counted missed."""
    cand = []
    for i, tj in enumerate(truth_jumps):
        t = tj["events"].get("takeoff_s")
        if t is None:
            continue
        for k, kj in enumerate(kmo_jumps):
            u = kj["events"].get("takeoff_s")
            if u is not None and abs(u - t) <= window:
                cand.append((abs(u - t), i, k))
    cand.sort()
    used_t, used_k, pairs = set(), set(), []
    for _, i, k in cand:
        if i not in used_t and k not in used_k:
            used_t.add(i)
            used_k.add(k)
            pairs.append((i, k))
    pairs.sort()
    missed = [
        i for i, tj in enumerate(truth_jumps) if i not in used_t and "takeoff_s" in tj["events"]
    ]
    extra = [k for k in range(len(kmo_jumps)) if k not in used_k]
    return pairs, missed, extra


def unit_of(name: str) -> tuple[str, float]:
    """Display unit and factor for an event/metric name."""
    if name.endswith("_m_s"):  # velocities stay in m/s
        return "m/s", 1.0
    if name.endswith("_s"):
        return "ms", 1000.0
    if name.endswith("_m"):
        return "cm", 100.0
    return "", 1.0


def jump_errors(truth_jump: dict, kmo_jump: dict) -> dict[str, float]:
    """kmo - truth for every event and metric present in both, in display units."""
    out = {}
    for part in ("events", "metrics"):
        for k, tv in truth_jump[part].items():
            kv = kmo_jump[part].get(k)
            if kv is None or tv is None:
                continue
            out[k] = (kv - tv) * unit_of(k)[1]
    return out


def not_measured(truth_jump: dict, kmo_jump: dict) -> list[str]:
    """Events and metrics the truth has and kmo left null (with its reason in the JSON)."""
    null = set(kmo_jump.get("null", []))
    return [k for part in ("events", "metrics") for k, tv in truth_jump[part].items()
            if tv is not None and k in null]  # fmt: skip


CALIBRATED = ("takeoff_s", "landing_s", "flight_time_s")  # whose stated sd is checked


def error_in_sd(errs: dict[str, float], kmo_jump: dict) -> dict[str, float]:
    """Each timing error divided by kmo's stated uncertainty of it (1 sd)."""
    sd = kmo_jump.get("sd") or {}
    return {k: errs[k] / 1000 / sd[k] for k in CALIBRATED if k in errs and sd.get(k)}


def jump_checks(fps: float, truth_jump: dict, kmo_jump: dict | None, errs: dict) -> dict:
    """Pass/fail of one truth jump: found, typed, flight, height, contact (None = n/a)."""
    checks: dict[str, bool | None] = {"found": kmo_jump is not None}
    if kmo_jump is None:
        return {**checks, "typed": False, "flight": False, "height": None, "contact": None}
    checks["typed"] = kmo_jump["jump_type"] == truth_jump["jump_type"]
    ft = errs.get("flight_time_s")
    if "flight_time_s" in truth_jump["metrics"]:
        bound = FLIGHT_BOUND_HI_FPS_S if fps >= 60 else 0.5 / fps
        checks["flight"] = ft is not None and abs(ft) / 1000 <= bound + 1e-12
    else:
        checks["flight"] = None
    if fps >= 60 and "jump_height_m" in truth_jump["metrics"]:
        h = errs.get("jump_height_m")
        checks["height"] = h is not None and abs(h) / 100 <= HEIGHT_BOUND_M + 1e-12
    else:
        checks["height"] = None
    if (
        truth_jump["jump_type"] in ("drop_jump", "rebound")
        and "ground_contact_time_s" in truth_jump["metrics"]
    ):
        g = errs.get("ground_contact_time_s")
        checks["contact"] = g is not None and abs(g) / 1000 <= 1.0 / fps + 1e-12
    else:
        checks["contact"] = None
    return checks


def evaluate_case(name: str, tags: list[str], truth: dict, kmo: dict) -> dict:
    """Compare one case: rows per truth jump (and per extra kmo jump), pass/fail."""
    fps = float(truth["spec"]["fps"] if "spec" in truth else truth["fps"])
    tj = truth.get("jumps", [])
    kj = kmo["jumps"]
    pairs, missed, extra = match_jumps(tj, kj)
    rows = []
    by_truth = dict(pairs)
    for i, t in enumerate(tj):
        k = by_truth.get(i)
        kjump = kj[k] if k is not None else None
        errs = jump_errors(t, kjump) if kjump is not None else {}
        checks = jump_checks(fps, t, kjump, errs)
        ok = all(v for v in checks.values() if v is not None)
        if "takeoff_s" not in t["events"]:
            checks, ok = {}, True  # takeoff not in view: nothing to measure
        rows.append(
            {
                "truth_index": i + 1,
                "truth_type": t["jump_type"],
                "kmo_type": kjump["jump_type"] if kjump else None,
                "errors": errs,
                "error_in_sd": error_in_sd(errs, kjump) if kjump is not None else {},
                "checks": checks,
                "pass": ok,
                "not_in_view": t.get("not_in_view", []),
                "not_measured": not_measured(t, kjump) if kjump is not None else [],
            }
        )
    extra_rows = [
        {"kmo_index": k + 1, "kmo_type": kj[k]["jump_type"],
         "takeoff_s": kj[k]["events"].get("takeoff_s")}
        for k in extra
    ]  # fmt: skip
    if not tj:
        passed = kmo["exit_code"] == NO_JUMP_EXIT
    else:
        # measured (status ok: exit 0, or kmo's low-confidence exit 7), nothing missed,
        # mistyped, off bounds or extra
        measured = kmo.get("status") == "ok"
        passed = measured and not extra and all(r["pass"] for r in rows)
    return {
        "case": name,
        "tags": tags,
        "fps": fps,
        "exit_code": kmo["exit_code"],
        "error": kmo.get("error"),
        "truth_jumps": len(tj),
        "rows": rows,
        "missed": [i + 1 for i in missed],
        "extra": extra_rows,
        "pass": passed,
        "inference": kmo.get("inference"),
    }


def _stats(vals: list[float]) -> dict:
    if not vals:
        return {"n": 0, "median_abs": None, "worst_abs": None}
    a = [abs(v) for v in vals]
    return {"n": len(a), "median_abs": statistics.median(a), "worst_abs": max(a)}


def summarize(results: list[dict]) -> dict:
    """Per tag and overall: jumps found / total, typed right, error stats, cases passed."""
    groups: dict[str, list[dict]] = {"overall": results}
    for r in results:
        for t in r["tags"]:
            groups.setdefault(t, []).append(r)
    out = {}
    for g, rs in groups.items():
        rows = [row for r in rs for row in r["rows"] if row["checks"]]
        s = {
            "cases": len(rs),
            "cases_passed": sum(r["pass"] for r in rs),
            "jumps": len(rows),
            "found": sum(bool(row["checks"].get("found")) for row in rows),
            "typed_right": sum(bool(row["checks"].get("typed")) for row in rows),
            "extra_jumps": sum(len(r["extra"]) for r in rs),
            "no_jump_cases": sum(1 for r in rs if r["truth_jumps"] == 0),
            "no_jump_exit_3": sum(
                1 for r in rs if r["truth_jumps"] == 0 and r["exit_code"] == NO_JUMP_EXIT
            ),
        }
        for key, _ in SUMMARY_KEYS:
            s[key] = _stats([row["errors"][key] for row in rows if key in row["errors"]])
        s["calibration"] = {}
        for key in CALIBRATED:
            z = [abs(row.get("error_in_sd", {})[key]) for row in rows
                 if key in row.get("error_in_sd", {})]  # fmt: skip
            s["calibration"][key] = {
                "n": len(z),
                "within_2sd": sum(v <= 2.0 for v in z),
                "median_abs": statistics.median(z) if z else None,
            }
        inf = [r["inference"] for r in rs if r.get("inference")]
        s["frames_inferred"] = sum(i["frames_inferred"] for i in inf)
        s["frames_filled"] = sum(i["frames_filled"] for i in inf)
        s["focus_crops"] = sum(i.get("focus_crops", 0) for i in inf)
        out[g] = s
    return out


def _fmt(v: float | None, nd: int = 1) -> str:
    return "–" if v is None else f"{v:+.{nd}f}"


def render_markdown(results: list[dict], summary: dict, meta: dict) -> str:
    """The markdown report."""
    lines = [
        "# kmo accuracy on ground-truth videos",
        "",
        f"Command: `{meta['command']}`  ",
        f"kmo version: {meta.get('kmo_version') or 'unknown'}; date: {meta['date']}; "
        f"cases: {len(results)}; render {meta.get('render_s', 0):.0f} s, "
        f"kmo {meta.get('kmo_s', 0):.0f} s",
        "",
        "Errors are kmo - truth (ms for times, cm for lengths, plain for RSI). Bounds: "
        "flight time <= 8 ms at >= 60 fps, <= half a frame interval below; jump height <= 1 cm "
        "at >= 60 fps; drop-jump/rebound contact time within one frame; no-jump clips exit 3; "
        "a case also fails on a missed, mistyped or extra jump.",
        "",
        "## Summary",
        "",
        "| group | cases passed | jumps found | typed right | extra | flight med/worst (ms) "
        "| height med/worst (cm) | contact med/worst (ms) | takeoff med/worst (ms) "
        "| landing med/worst (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def mw(s: dict) -> str:
        if not s["n"]:
            return "–"
        return f"{s['median_abs']:.1f} / {s['worst_abs']:.1f}"

    order = ["overall"] + sorted(k for k in summary if k != "overall")
    for g in order:
        s = summary[g]
        lines.append(
            f"| {g} | {s['cases_passed']}/{s['cases']} | {s['found']}/{s['jumps']} "
            f"| {s['typed_right']}/{s['jumps']} | {s['extra_jumps']} | "
            + " | ".join(mw(s[k]) for k, _ in SUMMARY_KEYS)
            + " |"
        )
    total = summary["overall"]
    cal = total.get("calibration") or {}
    if any(c["n"] for c in cal.values()):
        parts = [
            f"{name} {c['within_2sd']} of {c['n']} (median |error| / sd {c['median_abs']:.1f})"
            for name, c in zip(("takeoff", "landing", "flight time"), cal.values())
            if c["n"]
        ]
        lines += [
            "",
            "Stated uncertainty (kmo's `event_uncertainty_s` and the flight time's "
            "`uncertainty`, one standard deviation), errors within 2 sd of it: "
            + "; ".join(parts)
            + ". Were the stated figures right, about 95 % would be.",
        ]
    shown = total["frames_inferred"] + total["frames_filled"]
    if shown:
        lines += [
            "",
            f"Pose inference (the {sum(1 for r in results if r.get('inference'))} cases "
            f"measured): {total['frames_inferred']} of {shown} frames inferred "
            f"({100 * total['frames_inferred'] / shown:.0f} %), {total['frames_filled']} "
            "filled between still coarse frames (`sparse.py`); with `-- --dense` every frame "
            f"is inferred. Focus inferred {total['focus_crops']} frames again on crops that "
            "follow the jumper (`focus.py`; `-- --no-focus` skips it). Per case: the *frames* "
            "column (inferred / all, + frames inferred again on crops).",
        ]
    lines += [
        "",
        "## Cases",
        "",
        "| case | # | type kmo / truth | exit | takeoff | landing | flight (ms) | height (cm) "
        "| contact (ms) | other errors | jump | case | frames |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    main_keys = ("takeoff_s", "landing_s", "flight_time_s", "jump_height_m",
                 "ground_contact_time_s")  # fmt: skip
    for r in results:
        res = "PASS" if r["pass"] else "FAIL"
        inf = r.get("inference")
        frames = (
            f"{inf['frames_inferred']}/{inf['frames_inferred'] + inf['frames_filled']}"
            f" +{inf.get('focus_crops', 0)}"
            if inf
            else "–"
        )
        res_f = f"{res} | {frames}"
        if not r["rows"]:
            err = (r["error"] or "").replace("|", "/")[:80]
            lines.append(
                f"| {r['case']} | – | – / none | {r['exit_code']} | | | | | | {err} | | {res_f} |"
            )
        for row in r["rows"]:
            e = row["errors"]
            other = ", ".join(
                f"{k}={_fmt(v, 1 if unit_of(k)[0] else 3)}"
                for k, v in e.items()
                if k not in main_keys
            )
            if row["not_in_view"]:
                other = (
                    (other + "; " if other else "") + "not in view: " + ",".join(row["not_in_view"])
                )
            if row.get("not_measured"):
                other = (
                    (other + "; " if other else "")
                    + "kmo gave null: "
                    + ",".join(row["not_measured"])
                )
            if not row["checks"].get("found", True):
                other = "MISSED" + (f" ({(r['error'] or '')[:60]})" if r["error"] else "")
            failed = [k for k, v in row["checks"].items() if v is False]
            lines.append(
                f"| {r['case']} | {row['truth_index']} | {row['kmo_type'] or '–'} / "
                f"{row['truth_type']} | {r['exit_code']} | {_fmt(e.get('takeoff_s'))} "
                f"| {_fmt(e.get('landing_s'))} | {_fmt(e.get('flight_time_s'))} "
                f"| {_fmt(e.get('jump_height_m'))} | {_fmt(e.get('ground_contact_time_s'))} "
                f"| {other.replace('|', '/')} "
                f"| {'ok' if not failed else 'FAIL: ' + ','.join(failed)} | {res_f} |"
            )
        for x in r["extra"]:
            lines.append(
                f"| {r['case']} | extra {x['kmo_index']} | {x['kmo_type']} / – | {r['exit_code']} "
                f"| takeoff {x['takeoff_s']} | | | | | extra jump | FAIL | {res_f} |"
            )
    lines.append("")
    return "\n".join(lines)


# ---- rendering and running --------------------------------------------------------------------
def generator_hash() -> str:
    """Hash of the generator code and assets: a change re-renders every case."""
    h = hashlib.sha256()
    for p in sorted([*GT.glob("*.py"), *(GT.parent / "assets").glob("*")]):
        if p.name in ("accuracy.py", "cases.py", "__main__.py", "posecheck.py", "replay.py"):
            continue
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def case_key(kwargs: dict, gen: str) -> str:
    blob = json.dumps(kwargs, sort_keys=True, default=list) + gen
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _render_one(args: tuple[str, str]) -> tuple[str, float]:
    name, path = args
    from .cases import case_spec
    from .render import render

    out = Path(path)
    if out.exists() and out.with_name(out.stem + ".truth.json").exists():
        return name, 0.0
    t0 = time.time()
    tmp = out.with_name(out.stem + ".part.mp4")
    render(case_spec(name), tmp)
    tmp.with_name(tmp.stem + ".truth.json").replace(out.with_name(out.stem + ".truth.json"))
    tmp.replace(out)
    return name, time.time() - t0


def render_cases(names: list[str], cache: Path, jobs: int = 2) -> tuple[dict, float]:
    """Render (or reuse) every case; return {name: video path} and the wall time."""
    from .cases import case_kwargs

    cache.mkdir(parents=True, exist_ok=True)
    gen = generator_hash()
    paths = {n: cache / f"{n}-{case_key(case_kwargs(n), gen)}.mp4" for n in names}
    t0 = time.time()
    todo = [(n, str(p)) for n, p in paths.items()]
    if jobs > 1:
        with Pool(jobs) as pool:
            for name, dt in pool.imap_unordered(_render_one, todo):
                print(f"rendered {name} ({dt:.1f} s)", file=sys.stderr, flush=True)
    else:
        for a in todo:
            name, dt = _render_one(a)
            print(f"rendered {name} ({dt:.1f} s)", file=sys.stderr, flush=True)
    return paths, time.time() - t0


def run_kmo(video: Path, extra: list[str], kmo_root: Path = ROOT) -> tuple[dict | None, int, float]:
    """Run `python -m kinemotion_cli analyze VIDEO --json` in kmo_root (the checkout whose
    kmo is measured); return (parsed JSON, exit code, seconds)."""
    t0 = time.time()
    p = subprocess.run(
        [sys.executable, "-m", "kinemotion_cli", "analyze", str(video.resolve()), "--json", *extra],
        capture_output=True,
        text=True,
        cwd=kmo_root,
    )
    res = None
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            res = json.loads(line)
            break
        except json.JSONDecodeError:
            continue
    return res, p.returncode, time.time() - t0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(prog="python -m tests.groundtruth.accuracy", description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "accuracy.md")
    ap.add_argument("--json", type=Path, default=None, help="also write the data as JSON")
    ap.add_argument("--cases", default=None, help="comma-separated case names")
    ap.add_argument(
        "--set",
        default="main",
        choices=["main", "holdout", "holdout2", "holdout3"],
        help="the named cases, or one of three held-out sets drawn at random (cases.holdout_cases)",
    )
    ap.add_argument("--tags", default=None, help="only cases with this tag (comma: any of)")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "accuracy-cache")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument(
        "--kmo-root",
        type=Path,
        default=ROOT,
        help="checkout whose kinemotion_cli is run (default: this one)",
    )
    args = ap.parse_args(argv)
    from .cases import CASE_SETS, case_tags

    cases = CASE_SETS[args.set]
    names = list(cases)
    if args.cases:
        want = args.cases.split(",")
        bad = [n for n in want if n not in cases]
        if bad:
            ap.error(f"unknown cases: {bad}")
        names = want
    if args.tags:
        want_t = set(args.tags.split(","))
        names = [n for n in names if want_t & set(case_tags(n) + [m for m in cases[n][1]])]
        # mechanism tags live in the truth: filter again after rendering
    paths, render_s = render_cases(names, args.cache, args.jobs)
    print(f"rendered {len(paths)} cases in {render_s:.1f} s", file=sys.stderr)
    truths = {
        n: json.loads(p.with_name(p.stem + ".truth.json").read_text()) for n, p in paths.items()
    }
    if args.tags:  # a tag may be a mechanism seen only in the truth file
        names = [n for n in names if set(args.tags.split(",")) & set(case_tags(n, truths[n]))]
    if args.render_only:
        return 0
    t0 = time.time()
    runs = {}
    with ThreadPoolExecutor(max(1, args.jobs)) as ex:
        futs = {ex.submit(run_kmo, paths[n], extra, args.kmo_root.resolve()): n for n in names}
        for f in as_completed(futs):
            runs[futs[f]] = f.result()
            res, rc, dt = runs[futs[f]]
            print(f"kmo {futs[f]}: exit {rc} ({dt:.1f} s)", file=sys.stderr, flush=True)
    kmo_s = time.time() - t0
    results, version = [], None
    for n in names:
        res, rc, dt = runs[n]
        kmo = normalize_kmo(res, rc)
        version = version or kmo.get("kmo_version")
        r = evaluate_case(n, case_tags(n, truths[n]), truths[n], kmo)
        r["kmo_s"] = round(dt, 2)
        r["video"] = str(paths[n])
        results.append(r)
        print(f"{n}: {'PASS' if r['pass'] else 'FAIL'}", file=sys.stderr)
    summary = summarize(results)
    cmd = "python -m tests.groundtruth.accuracy " + " ".join(
        shlex.quote(a) for a in (argv + (["--", *extra] if extra else []))
    )
    rev = subprocess.run(
        ["git", "-C", str(args.kmo_root), "log", "-1", "--format=%h %cs"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    meta = {
        "command": cmd.strip(),
        "kmo_version": f"{version} ({rev})" if rev else version,
        "kmo_root": str(args.kmo_root.resolve()),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "render_s": render_s,
        "kmo_s": kmo_s,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_markdown(results, summary, meta))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"meta": meta, "summary": summary, "cases": results}, indent=1) + "\n"
        )
    o = summary["overall"]
    print(
        f"{o['cases_passed']}/{o['cases']} cases passed; jumps found {o['found']}/{o['jumps']}, "
        f"typed right {o['typed_right']}/{o['jumps']}; report {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
