"""Fuzz corpus: broken and hostile inputs generated from the sample video, fed to the real CLI.

Every case must end with a documented exit code, one line on stderr for an error (or the
one "low confidence" note for a damaged video that was still measured, exit 7), no
traceback, and exactly one JSON object on stdout (``--json``). The corpus is generated in a
temporary folder on every run (truncations, byte flips in header and payload, non-videos,
special videos rendered with PyAV). Cases that fail before pose estimation cost about 3 s (the
CLI start); the others run MediaPipe, so they are kept short (a 30-frame clip for most byte
flips) and run in a process pool. The outcome table is printed (``pytest -s``) and written to
``fuzz_summary.json`` in the corpus folder.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from kinemotion_cli.errors import ExitCode
from tests.conftest import ROOT, SAMPLES, readme_exit_codes

SRC = SAMPLES / "cmj_60fps.mp4"
DOCUMENTED = {int(c) for c in ExitCode}
# A single video analysed with --jump auto can only end in these (1 = internal error = a bug;
# 7 = measured, with a low-confidence verdict, e.g. frames lost or concealed).
ALLOWED = {int(ExitCode.OK), int(ExitCode.BAD_INPUT), int(ExitCode.NO_JUMP)}
ALLOWED |= {int(ExitCode.NOT_MEASURABLE), int(ExitCode.LOW_CONFIDENCE)}
BAD, NO_JUMP, NOT_MEASURABLE = (
    int(ExitCode.BAD_INPUT),
    int(ExitCode.NO_JUMP),
    int(ExitCode.NOT_MEASURABLE),
)


def _boxes(data: bytes) -> dict[bytes, tuple[int, int]]:
    """Top-level MP4 boxes: type -> (offset, size)."""
    out, i = {}, 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i : i + 4], "big")
        out[data[i + 4 : i + 8]] = (i, size)
        if size < 8:
            break
        i += size
    return out


def _encode(path: Path, images: list[np.ndarray], fps: int) -> None:
    """Write RGB images as an H.264 MP4 with PyAV."""
    import av

    with av.open(str(path), "w", format="mp4") as out:
        st = out.add_stream("libx264", rate=fps)
        st.height, st.width = images[0].shape[:2]
        st.pix_fmt = "yuv420p"
        for img in images:
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)


def _first_frames(n: int) -> list[np.ndarray]:
    import av

    with av.open(str(SRC)) as c:
        frames = []
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24"))
            if len(frames) == n:
                break
    return frames


def _faststart(dst: Path) -> None:
    """Remux the sample with the index (moov) first, so truncations still decode."""
    import av

    with (
        av.open(str(SRC)) as src,
        av.open(str(dst), "w", format="mp4", options={"movflags": "faststart"}) as o,
    ):
        ins = src.streams.video[0]
        outs = o.add_stream_from_template(ins)
        for pkt in src.demux(ins):
            if pkt.dts is None:
                continue
            pkt.stream = outs
            o.mux(pkt)


def _audio_only(dst: Path) -> None:
    import av

    with av.open(str(dst), "w") as out:
        st = out.add_stream("aac", rate=44100)
        t = np.arange(44100) / 44100
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 44100
        for pkt in st.encode(frame):
            out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)


def _zero_frames(dst: Path) -> None:
    """A Matroska file with a video track header but no frames."""
    import av

    with av.open(str(dst), "w", format="matroska") as out:
        st = out.add_stream("libx264", rate=60)
        st.width, st.height, st.pix_fmt = 64, 64, "yuv420p"
        out.start_encoding()


def _patch_timescale(data: bytes, value: int) -> bytes:
    """Set the video track's mdhd timescale (absurd frame-rate metadata)."""
    b = bytearray(data)
    i = b.find(b"mdhd", _boxes(data)[b"moov"][0])
    b[i + 16 : i + 20] = value.to_bytes(4, "big")  # version/flags, ctime, mtime, timescale
    return bytes(b)


def build_corpus(root: Path) -> list[tuple[str, list[str], set[int]]]:
    """Write the corpus into ``root``: (case name, CLI arguments, expected exit codes)."""
    rng = random.Random(5)
    data = SRC.read_bytes()
    boxes = _boxes(data)
    moov_at, moov_size = boxes[b"moov"]
    mdat_at, mdat_size = boxes[b"mdat"]
    cases: list[tuple[str, list[str], set[int]]] = []

    def add(name: str, payload: bytes | None, expect: set[int], suffix: str = ".mp4") -> None:
        path = root / f"{name}{suffix}"
        if payload is not None:
            path.write_bytes(payload)
        cases.append((name, [str(path)], expect))

    # Paths and non-videos.
    add("missing_path", None, {BAD})
    (root / "a_directory.mp4").mkdir()
    cases.append(("directory", [str(root / "a_directory.mp4")], {BAD}))
    add("zero_length", b"", {BAD})
    add("text_file", b"this is not a video\n" * 50, {BAD})
    add("png_renamed", (ROOT / "tests/assets/front_sprite.png").read_bytes(), {BAD})
    add("jpeg_renamed", (ROOT / "tests/assets/front_background.jpg").read_bytes(), {BAD})
    add("random_bytes", bytes(rng.getrandbits(8) for _ in range(65536)), {BAD})
    add(
        "mp4_header_then_garbage", data[:40] + bytes(rng.getrandbits(8) for _ in range(4096)), {BAD}
    )
    # Truncations of the sample (index at the end: every cut loses it).
    for k in range(20):
        cut = 16 + (len(data) - 17) * k // 19
        # Only a cut in the last bytes of the index may leave a playable file.
        add(f"truncate_{cut:06d}", data[:cut], {BAD} if cut < moov_at + 64 else ALLOWED)
    # Truncations of a faststart copy (index first: the frames before the cut still decode).
    fast = root / "_faststart.bin"
    _faststart(fast)
    fdata = fast.read_bytes()
    fmdat = _boxes(fdata)[b"mdat"]
    for frac in (0.03, 0.12, 0.3, 0.6):
        cut = fmdat[0] + int(frac * fmdat[1])
        add(f"truncate_faststart_{int(100 * frac):02d}pct", fdata[:cut], ALLOWED)
    # Byte flips: a 30-frame clip of the sample (cheap to run through the pose model) ...
    clip = root / "_clip.bin"
    _encode(clip, _first_frames(30), 60)
    cdata = clip.read_bytes()
    cboxes = _boxes(cdata)
    regions = {
        "ftyp": (0, cboxes[b"ftyp"][1]),
        "moov": cboxes[b"moov"],
        "mdat": (cboxes[b"mdat"][0] + 8, cboxes[b"mdat"][1] - 8),
    }
    for region, count in (("ftyp", 3), ("moov", 9), ("mdat", 8)):
        at, size = regions[region]
        for _ in range(count):
            b = bytearray(cdata)
            pos = at + rng.randrange(size)
            for j in range(pos, min(pos + rng.choice((1, 4, 16)), len(b))):
                b[j] ^= rng.randrange(1, 256)
            add(f"flip_clip_{region}_{pos:06d}", bytes(b), ALLOWED)
    # ... and a few on the full sample, header and payload.
    for region, (at, size) in (("moov", (moov_at, moov_size)), ("mdat", (mdat_at + 8, 20000))):
        b = bytearray(data)
        pos = at + rng.randrange(size)
        for j in range(pos, pos + 8):
            b[j] ^= 0xFF
        add(f"flip_full_{region}_{pos:06d}", bytes(b), ALLOWED)
    # Container metadata and special videos.
    add("absurd_fps_timescale_1", _patch_timescale(data, 1), {BAD})
    add("absurd_fps_timescale_1e6", _patch_timescale(data, 1_000_000), {BAD})
    i = data.find(b"avc1", data.find(b"stsd"))
    add("unsupported_codec", data[:i] + b"zzzz" + data[i + 4 :], {BAD})
    _audio_only(root / "audio_only.mp4")
    cases.append(("audio_only", [str(root / "audio_only.mp4")], {BAD}))
    _zero_frames(root / "zero_frames.mkv")
    cases.append(("zero_frames", [str(root / "zero_frames.mkv")], {BAD}))
    _encode(root / "too_short.mp4", _first_frames(5), 60)
    cases.append(("too_short_5_frames", [str(root / "too_short.mp4")], {NO_JUMP}))
    import cv2

    bg = cv2.imread(str(ROOT / "tests/assets/front_background.jpg"))[:, :, ::-1]
    bg = cv2.resize(bg, (540, 960)).astype(np.int16)
    noise = np.random.default_rng(0)
    frames = [
        np.clip(bg + noise.integers(-3, 4, (960, 540, 1)), 0, 255).astype(np.uint8)
        for _ in range(60)
    ]
    _encode(root / "no_person.mp4", frames, 30)
    cases.append(("no_person", [str(root / "no_person.mp4")], {NOT_MEASURABLE}))
    return cases


def _size(path: str) -> int:
    p = Path(path)
    return p.stat().st_size if p.is_file() else 0


def _run(args: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "kinemotion_cli", "analyze", *args, "--json"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)


def check_outcome(proc: subprocess.CompletedProcess, video: str) -> str | None:
    """What is wrong with one CLI run's outcome (None when it keeps the contract)."""
    rc, out, err = proc.returncode, proc.stdout, proc.stderr
    if rc not in DOCUMENTED:
        return f"undocumented exit code {rc}"
    if "Traceback" in err or "Traceback" in out:
        return "traceback shown"
    err_lines = [line for line in err.splitlines() if line.strip()]
    measured = rc in (0, int(ExitCode.LOW_CONFIDENCE))
    if rc == 0 and err_lines:
        return f"stderr not empty on success: {err_lines!r}"
    if rc == ExitCode.LOW_CONFIDENCE and (
        len(err_lines) != 1 or not err_lines[0].startswith(f"kmo: low confidence: {video}")
    ):
        return f"stderr is not the one low-confidence note: {err_lines!r}"
    if not measured and (len(err_lines) != 1 or not err_lines[0].startswith("kmo: error: ")):
        return f"stderr is not one error line: {err_lines!r}"
    out_lines = out.splitlines()
    if len(out_lines) != 1:
        return f"stdout has {len(out_lines)} lines, expected one JSON object"
    try:
        obj = json.loads(out_lines[0])
    except ValueError:
        return "stdout is not JSON"
    if not isinstance(obj, dict) or obj.get("video") not in (video, None):
        return "stdout JSON is not the object for this video"
    if measured and obj.get("status") != "ok":
        return f"exit {rc} without status ok"
    verdict = (obj.get("quality") or {}).get("verdict")
    if measured and (verdict == "ok") != (rc == 0):
        return f"exit {rc} with the quality verdict {verdict!r}"
    if not measured and (obj.get("status") != "error" or obj.get("exit_code") != rc):
        return "error JSON does not carry the exit code"
    return None


@pytest.mark.e2e
def test_fuzz_corpus(tmp_path: Path) -> None:
    cases = build_corpus(tmp_path)
    # The pose model runs on the larger files: start them first so the pool packs well.
    order = sorted(range(len(cases)), key=lambda i: -_size(cases[i][1][0]))
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(order, pool.map(lambda i: _run(cases[i][1]), order)))
    procs = [done[i] for i in range(len(cases))]
    rows, problems = [], []
    for (name, args, expect), proc in zip(cases, procs):
        err = proc.stderr.strip().splitlines()
        rows.append({"case": name, "exit_code": proc.returncode, "stderr": err[-1] if err else ""})
        why = check_outcome(proc, args[0])
        if why is None and proc.returncode not in expect:
            why = f"exit {proc.returncode}, expected one of {sorted(expect)}"
        if why:
            problems.append(f"{name}: {why}\n{proc.stderr[-2000:]}")
    counts = Counter(r["exit_code"] for r in rows)
    summary = {"cases": len(rows), "exit_codes": dict(sorted(counts.items())), "rows": rows}
    (tmp_path / "fuzz_summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nfuzz: {len(rows)} cases, exit codes {dict(sorted(counts.items()))}")
    for r in rows:
        print(f"  {r['case']:<36} {r['exit_code']:>3}  {r['stderr'][:110]}")
    assert len(rows) >= 60
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rc", sorted(ALLOWED))
def test_allowed_codes_are_documented(rc: int) -> None:
    """Every code the corpus may end with is a real exit code, not a bug, and is in every
    exit-code table of the README (parsed, not restated here)."""
    assert rc in DOCUMENTED and rc != ExitCode.INTERNAL
    tables = readme_exit_codes()
    assert tables and all(rc in t for t in tables), tables


def test_check_outcome_catches_violations() -> None:
    """The contract checker itself rejects tracebacks, multi-line errors and bad JSON."""

    def proc(rc: int, out: str, err: str) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess([], rc, out, err)

    ok_err = '{"video":"v","status":"error","exit_code":2}\n'
    assert check_outcome(proc(2, ok_err, "kmo: error: bad\n"), "v") is None
    low = '{"video":"v","status":"ok","quality":{"verdict":"low confidence"}}\n'
    note = "kmo: low confidence: v (see quality.reasons; --accept-low-confidence exits 0)\n"
    assert check_outcome(proc(7, low, note), "v") is None
    assert check_outcome(proc(0, low, ""), "v")  # low confidence must not exit 0
    assert check_outcome(proc(7, low, ""), "v")  # ... nor without its note
    assert check_outcome(proc(7, ok_err, note), "v")  # exit 7 is a measured video
    good = '{"video":"v","status":"ok","quality":{"verdict":"ok"}}\n'
    assert check_outcome(proc(0, good, ""), "v") is None
    assert check_outcome(proc(0, good, "kmo: note\n"), "v")
    assert check_outcome(proc(2, ok_err, "Traceback (most recent call last):\n"), "v")
    assert check_outcome(proc(2, ok_err, "kmo: error: a\nkmo: error: b\n"), "v")
    assert check_outcome(proc(2, "not json\n", "kmo: error: bad\n"), "v")
    assert check_outcome(proc(3, ok_err, "kmo: error: bad\n"), "v")  # code mismatch
    assert check_outcome(proc(9, ok_err, "kmo: error: bad\n"), "v")  # undocumented
