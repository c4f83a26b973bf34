"""``kmo doctor``: what this environment has, what really works, and how to fix what does not.

Sections: versions of kmo and its libraries; onnxruntime's execution providers, each tried
with a tiny one-node model (listed is not the same as loads: a CUDA provider whose CUDA or
cuDNN libraries are missing silently runs on the CPU); the CUDA/cuDNN libraries the system
and the ``nvidia-*`` pip packages provide; every model file kmo would find, with its SHA-256
and whether it is real, a test stand-in or unknown; and the video decoder's handling of a
display rotation and irregular timestamps, on a 12-frame clip written here with PyAV.

Problems are findings, each with a one-line fix; the command exits 0 whenever it ran.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import importlib
import os
import platform
import re
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from kinemotion_cli import __version__
from kinemotion_cli.backends import ort as ortk

SCHEMA = "kmo.doctor/1"
CUDA_LIBS = ("cudart", "cublas", "cublasLt", "cufft", "curand", "cudnn")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: The decoder check's clip: stored size (landscape), display rotation (ffprobe convention,
#: -90 = a phone's portrait video), and presentation times in ms: a start offset, an
#: uneven 29.97 fps cadence and one frame missing (a 2-interval gap).
CLIP_STORED = (64, 48)  # width, height as stored
CLIP_ROTATION = -90
CLIP_PTS_MS = (500, 533, 567, 600, 634, 667, 701, 768, 801, 834, 868, 901)
UPGRADE_AV = "pip install --upgrade av"


def _problem(section: str, problem: str, fix: str) -> dict:
    return {"section": section, "problem": problem, "fix": fix}


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Keep native libraries' prints off stdout (``--json`` owns it), at the fd level."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:
        yield
        return
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.contextmanager
def _native_stderr() -> Iterator[dict]:
    """Capture what native code writes on fd 2 (onnxruntime's load errors); ``["text"]``."""
    out: dict = {"text": ""}
    with tempfile.TemporaryFile() as buf:
        try:
            saved = os.dup(2)
            os.dup2(buf.fileno(), 2)
        except OSError:
            yield out
            return
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            buf.seek(0)
            out["text"] = _ANSI.sub("", buf.read().decode("utf-8", errors="replace"))


def _first_error(text: str) -> str | None:
    """The most telling line of onnxruntime's log: an error, else a failure warning."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for test in (
        lambda ln: "cannot open shared object" in ln or "with error" in ln,
        lambda ln: "[E:" in ln,
        lambda ln: "Failed" in ln or "failed" in ln or "error" in ln.lower(),
    ):
        hit = next((ln for ln in lines if test(ln)), None)
        if hit:
            return hit.split("] ", 1)[-1][:300]
    return None


# --------------------------------------------------------------------------- versions


def _dist_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _try_import(module: str) -> tuple[object | None, str | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module), None
    except Exception as exc:  # noqa: BLE001 - a broken install raises anything
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def versions() -> tuple[dict, list[dict]]:
    """Versions (and import errors) of kmo's libraries, and the problems found."""
    problems: list[dict] = []
    out: dict = {
        "kmo": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "platform": platform.platform(),
    }
    specs = [
        ("mediapipe", "mediapipe", ("mediapipe",)),
        ("litert", "ai_edge_litert", ("ai-edge-litert",)),
        ("onnxruntime", "onnxruntime", ortk.ONNXRUNTIME_DISTS),
        ("rtmlib", "rtmlib", ("rtmlib",)),
        (
            "opencv",
            "cv2",
            (
                "opencv-python",
                "opencv-python-headless",
                "opencv-contrib-python",
                "opencv-contrib-python-headless",
            ),
        ),
        ("pyav", "av", ("av",)),
        ("numpy", "numpy", ("numpy",)),
        ("onnx", "onnx", ("onnx",)),
    ]
    for key, module, dists in specs:
        installed = {d: v for d in dists if (v := _dist_version(d)) is not None}
        mod, err = _try_import(module)
        entry = {
            "version": getattr(mod, "__version__", None) if mod else None,
            "packages": installed,
            "import_error": err,
        }
        if key == "pyav" and mod is not None:
            lib = getattr(mod, "library_versions", {}).get("libavcodec")
            entry["ffmpeg_libavcodec"] = ".".join(map(str, lib)) if lib else None
        out[key] = entry
        first = next(iter(installed), None)
        if key in ("onnx", "litert"):
            # optional: onnx only writes stand-in models (a note, below); without LiteRT the
            # mediapipe backend runs on MediaPipe's own graph (slower, the same models)
            continue
        if err and key != "onnxruntime":
            fix = f"pip install --force-reinstall {first or dists[0]}"
            problems.append(_problem("versions", f"{module} cannot be imported ({err})", fix))
        if key == "opencv" and len(set(installed.values())) > 1:
            # opencv-python and opencv-contrib-python (mediapipe and rtmlib need it) both
            # install cv2; at the same version that is harmless, at different ones cv2 is a mix.
            # The fix is the older of the two: the newer one may not exist for the other
            # package yet (contrib 5.1.0.95 came out before opencv-python 5.1).
            top = min(
                installed.values(), key=lambda x: tuple(int(p) for p in re.findall(r"\d+", x))
            )
            problems.append(
                _problem(
                    "versions",
                    "OpenCV packages at different versions share the cv2 module ("
                    + ", ".join(f"{d} {ver}" for d, ver in installed.items())
                    + ")",
                    "pip install --force-reinstall " + " ".join(f"{d}=={top}" for d in installed),
                )
            )
    return out, problems


# --------------------------------------------------------------------------- providers


def tiny_model() -> tuple[bytes, str]:
    """A one-node ONNX model (y = Relu(x), float [1, 4]) and how it was built."""
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        from kinemotion_cli.models.onnxmeta import tiny_model as encoded

        return encoded(), "onnx is not installed: written by kmo's built-in ONNX encoder"
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "kmo_tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString(), f"built with onnx {onnx.__version__}"


def _loaded_cuda_libs() -> list[str]:
    """CUDA/cuDNN libraries mapped into this process (Linux), by path."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return []
    names = re.compile(r"lib(cudart|cublas|cublasLt|cufft|curand|cudnn)[^/]*\.so[.\d]*$")
    found = {ln.split()[-1] for ln in maps.splitlines() if ln.split() and names.search(ln)}
    return sorted(found)


def preload() -> dict:
    """Run ``onnxruntime.preload_dlls`` as kmo does before CUDA sessions; what it loaded."""
    ort, _ = _try_import("onnxruntime")
    out: dict = {"present": bool(ort is not None and hasattr(ort, "preload_dlls"))}
    if not out["present"]:
        return out
    before = set(_loaded_cuda_libs())
    import io

    text = io.StringIO()
    try:
        with contextlib.redirect_stdout(text), _native_stderr() as native:
            ort.preload_dlls()
        out["error"] = None
    except Exception as exc:  # noqa: BLE001
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
        native = {"text": ""}
    out["said"] = " ".join((text.getvalue() + native["text"]).split())[:400] or None
    out["loaded"] = sorted(set(_loaded_cuda_libs()) - before)
    return out


def providers(model: bytes) -> dict:
    """onnxruntime's listed providers, and for each whether a session really uses it."""
    ort, err = _try_import("onnxruntime")
    if ort is None:
        return {"import_error": err, "listed": [], "tested": []}
    listed = list(ort.get_available_providers())
    tested = []
    x = np.array([[-1.0, 2.0, -3.0, 4.0]], np.float32)
    for p in listed:
        chain = [p] if p == ortk.CPU else [p, ortk.CPU]
        entry: dict = {"provider": p, "used_by_kmo": p in ortk.PROVIDER_DEVICE}
        t0 = time.perf_counter()
        with _native_stderr() as native, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                session = ort.InferenceSession(model, providers=chain)
                active = session.get_providers()
                y = session.run(None, {"x": x})[0]
                entry["session_providers"] = active
                entry["loads"] = bool(active) and active[0] == p
                entry["runs"] = bool(np.allclose(y, np.maximum(x, 0.0)))
                entry["error"] = None
            except Exception as exc:  # noqa: BLE001 - pybind11 error types
                entry.update(loads=False, runs=False, session_providers=[])
                entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:250]}"
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        if not entry["loads"] and entry["error"] is None:
            said = native["text"] + "\n".join(str(w.message) for w in caught)
            entry["error"] = _first_error(said) or f"{p} was dropped; the session runs on the CPU"
        tested.append(entry)
    return {"listed": listed, "tested": tested}


# --------------------------------------------------------------------------- CUDA libraries


def nvidia_pip_libs() -> list[dict]:
    """CUDA/cuDNN libraries shipped by the ``nvidia-*`` pip packages (their lib folders)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return []
    out = []
    for root in spec.submodule_search_locations:
        for lib in sorted(Path(root).glob("*/lib")):
            files = sorted(
                f.name
                for f in lib.iterdir()
                if f.name.startswith(tuple(f"lib{n}" for n in CUDA_LIBS))
                and (".so" in f.name or f.suffix == ".dll")
            )
            if files:
                out.append({"dir": str(lib), "libraries": files})
    return out


def gpu() -> dict | None:
    """NVIDIA GPUs and driver from nvidia-smi (None when it is absent)."""
    try:
        q = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if q.returncode != 0:
        return {"gpus": [], "error": (q.stderr or q.stdout).strip()[:200]}
    gpus = [
        dict(zip(("name", "driver"), (p.strip() for p in ln.split(","))))
        for ln in q.stdout.splitlines()
        if ln.strip()
    ]
    return {"gpus": gpus, "error": None}


def cuda_section(pre: dict) -> dict:
    ort, _ = _try_import("onnxruntime")
    build = {}
    if ort is not None:
        info = getattr(getattr(ort, "capi", None), "build_and_package_info", None)
        for k in ("package_name", "cuda_version", "cudnn_version"):
            if info is not None and getattr(info, k, None):
                build[k] = getattr(info, k)
    return {
        "onnxruntime_build": build,
        "find_library": {n: ctypes.util.find_library(n) for n in CUDA_LIBS},
        "nvidia_pip": nvidia_pip_libs(),
        "preload_dlls": pre,
        "loaded_after_checks": _loaded_cuda_libs(),
        "env": {
            k: os.environ[k]
            for k in ("LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH")
            if k in os.environ
        },
    }


def provider_problems(prov: dict, gpu_info: dict | None, dists: list[str]) -> list[dict]:
    """Problems with the onnxruntime install or its GPU providers, each with its fix."""
    out = []
    if prov.get("import_error"):
        return [
            _problem(
                "providers",
                f"onnxruntime cannot be imported ({prov['import_error']})",
                f"{ortk.GPU_FIX} (GPU), or pip install --force-reinstall onnxruntime (CPU)",
            )
        ]
    listed = prov["listed"]
    if "onnxruntime-gpu" in dists and "onnxruntime" in dists:
        out.append(
            _problem(
                "providers",
                "onnxruntime and onnxruntime-gpu are both installed: they share files and the "
                "one installed last wins (rtmlib pulls in onnxruntime)",
                ortk.GPU_FIX,
            )
        )
    elif "onnxruntime-gpu" in dists and ortk.CUDA not in listed:
        out.append(
            _problem(
                "providers", "onnxruntime-gpu is installed but lists no CUDA provider", ortk.GPU_FIX
            )
        )
    has_gpu = bool(gpu_info and gpu_info.get("gpus"))
    if has_gpu and ortk.CUDA not in listed and "onnxruntime-gpu" not in dists:
        out.append(
            _problem(
                "providers",
                "an NVIDIA GPU is present but onnxruntime has no CUDA provider (the CPU-only "
                "onnxruntime package is installed), so rtmpose/rtmo run on the CPU",
                f'pip install "kinemotion-cli[gpu]" && {ortk.GPU_FIX}',
            )
        )
    for t in prov["tested"]:
        if t["loads"] or not t["used_by_kmo"]:
            continue
        what = f"{t['provider']} is listed but does not load ({t['error']})"
        if t["provider"] == ortk.CUDA:
            if gpu_info is None:
                what += "; nvidia-smi was not found (no NVIDIA driver?)"
                fix = f"install the NVIDIA driver, then: {ortk.GPU_FIX}; or use --device cpu"
            else:
                fix = ortk.GPU_FIX
            what += ": rtmpose/rtmo on --device cuda would silently run on the CPU"
        elif t["provider"] == ortk.COREML:
            fix = "pip install --force-reinstall onnxruntime (a macOS arm64 wheel)"
        else:
            fix = "pip install --force-reinstall onnxruntime"
        out.append(_problem("providers", what, fix))
    return out


# --------------------------------------------------------------------------- model files


def model_dirs(model_dir: str | None) -> list[dict]:
    """Every folder kmo looks in for model files, in lookup order."""
    from kinemotion_cli.models import MODEL_DIR_ENV, PACKAGE_DIR, cache_dir
    from kinemotion_cli.models.rtmlib_models import rtmlib_cache_dir

    dirs = []
    env = os.environ.get(MODEL_DIR_ENV)
    if model_dir and model_dir != env:
        dirs.append(("--model-dir", Path(model_dir)))
    elif model_dir or env:  # the CLI passes $KMO_MODEL_DIR as its --model-dir
        dirs.append((f"${MODEL_DIR_ENV}", Path(model_dir or env)))
    dirs += [
        ("package", PACKAGE_DIR),
        ("kmo cache", cache_dir()),
        ("rtmlib cache", rtmlib_cache_dir()),
    ]
    return [{"source": s, "dir": str(d), "exists": d.is_dir()} for s, d in dirs]


def _known_models() -> dict[str, tuple[str, object]]:
    """File name -> (what kmo uses it as, its ModelFile/RtmModel)."""
    from kinemotion_cli.models import MEDIAPIPE_MODELS
    from kinemotion_cli.models.rtmlib_models import RTMO_MODES, RTMPOSE_MODES

    known: dict[str, tuple[str, object]] = {}
    for variant, m in MEDIAPIPE_MODELS.items():
        known[m.filename] = (f"mediapipe --model {variant}", m)
    for mode, (det, pose) in RTMPOSE_MODES.items():
        for m in (det, pose):
            known[m.filename] = (f"rtmpose --mode {mode} ({m.name})", m)
            known[m.zip_name] = (f"rtmpose --mode {mode} ({m.name}, upstream zip)", m)
    for mode, m in RTMO_MODES.items():
        known[m.filename] = (f"rtmo --mode {mode} ({m.name})", m)
        known[m.zip_name] = (f"rtmo --mode {mode} ({m.name}, upstream zip)", m)
    return known


def model_files(dirs: list[dict]) -> tuple[list[dict], list[dict]]:
    """Model files in ``dirs`` with SHA-256 and kind; and the problems found."""
    from kinemotion_cli.models import check_onnx_file, check_task_file, sha256_of

    known = _known_models()
    files, problems = [], []
    for d in dirs:
        if not d["exists"]:
            continue
        for f in sorted(Path(d["dir"]).iterdir()):
            if not f.is_file() or f.suffix not in (".task", ".onnx", ".zip"):
                continue
            use, model = known.get(f.name, (None, None))
            if f.suffix == ".task":
                check = check_task_file(f, model if use else None)
            elif f.suffix == ".onnx":
                check = check_onnx_file(f, getattr(model, "sha256", None))
            else:
                from kinemotion_cli.models import ModelCheck

                check = ModelCheck("unknown", f"{f.name}: a zip; kmo extracts end2end.onnx")
            entry = {
                "source": d["source"],
                "path": str(f),
                "size_bytes": f.stat().st_size,
                "sha256": sha256_of(f),
                "kind": check.kind,
                "detail": check.detail,
                "used_as": use,
            }
            files.append(entry)
            if "mismatch" in check.detail:
                problems.append(
                    _problem(
                        "models",
                        f"{f} does not match the upstream SHA-256: kmo refuses it (exit 2)",
                        f'rm "{f}"  (kmo downloads a good copy, or put one in --model-dir)',
                    )
                )
        standin = [
            m
            for m in files
            if m["source"] == d["source"] and m["kind"] == "stand-in" and m["used_as"]
        ]
        if standin and d["source"] != "package":
            uses = sorted({m["used_as"].split(" (")[0] for m in standin})
            problem = _problem(
                "models",
                f"{len(standin)} stand-in model(s) (test only) under real model names in "
                f"{d['dir']} ({d['source']}): {'; '.join(uses)} would use them and measure "
                "nothing real",
                f"delete those files from {d['dir']}"
                + (
                    f" (or stop pointing {d['source']} at it)"
                    if d["source"].startswith(("--", "$"))
                    else ""
                )
                + " for real measurements",
            )
            problems.append({**problem, "files": [m["path"] for m in standin]})
    return files, problems


# --------------------------------------------------------------------------- decoder


def _set_rotation_matrix(path: Path, rotation: int) -> None:
    """Write the display matrix of ``rotation`` (degrees, ffprobe convention: -90 = shown
    turned 90 degrees clockwise) into the video track header (tkhd) of an MP4 file."""
    data = bytearray(path.read_bytes())
    turns = (rotation // 90) % 4  # counter-clockwise quarter turns
    cos, sin = ((1, 0), (0, 1), (-1, 0), (0, -1))[turns]
    # {a, b, u, c, d, v, x, y, w}: a, b, c, d, x, y in 16.16 fixed point, u, v, w in 2.30
    matrix = struct.pack(">9i", cos << 16, -sin << 16, 0, sin << 16, cos << 16, 0, 0, 0, 1 << 30)

    def children(start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
        pos = start
        while pos + 8 <= end:
            size, kind = struct.unpack(">I4s", data[pos : pos + 8])
            header = 8
            if size == 1:
                size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
            elif size == 0:
                size = end - pos
            if size < header:
                return
            yield kind, pos + header, pos + size
            pos += size

    patched = 0
    for kind, body, end in children(0, len(data)):
        if kind != b"moov":
            continue
        for kind2, body2, end2 in children(body, end):
            if kind2 != b"trak":
                continue
            for kind3, body3, _ in children(body2, end2):
                if kind3 == b"tkhd":
                    offset = body3 + (52 if data[body3] == 1 else 40)
                    data[offset : offset + 36] = matrix
                    patched += 1
    if patched != 1:
        raise RuntimeError(f"expected one video track header, found {patched}")
    path.write_bytes(bytes(data))


def clip_frames() -> list[np.ndarray]:
    """The upright (portrait) pictures of the test clip: grey, a white block top-left, and a
    bar whose length counts the frame."""
    w, h = CLIP_STORED[1], CLIP_STORED[0]  # upright = stored turned a quarter
    out = []
    for k in range(len(CLIP_PTS_MS)):
        img = np.full((h, w, 3), 96, np.uint8)
        img[:16, :16] = 255
        img[-8:, : 4 * (k + 1)] = 0
        out.append(img)
    return out


def write_clip(path: Path) -> str:
    """Write the test clip (rotation and odd timestamps); returns the codec used."""
    import av

    opts = {"video_track_timescale": "1000"}
    stored = [
        np.ascontiguousarray(np.rot90(im, k=(-CLIP_ROTATION // 90) % 4)) for im in clip_frames()
    ]
    last_error = None
    for codec in ("libx264", "mpeg4"):
        try:
            with av.open(str(path), "w", format="mp4", options=opts) as out:
                st = out.add_stream(codec, rate=30)
                st.width, st.height = CLIP_STORED
                st.pix_fmt = "yuv420p"
                st.time_base = Fraction(1, 1000)
                st.codec_context.time_base = Fraction(1, 1000)
                for img, pts in zip(stored, CLIP_PTS_MS):
                    frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                    frame.pts = pts
                    frame.time_base = Fraction(1, 1000)
                    for pkt in st.encode(frame):
                        out.mux(pkt)
                for pkt in st.encode():
                    out.mux(pkt)
            _set_rotation_matrix(path, CLIP_ROTATION)
            return codec
        except Exception as exc:  # noqa: BLE001 - an encoder missing from this FFmpeg
            last_error = exc
    raise RuntimeError(f"cannot write the test clip: {last_error}")


def decoder() -> tuple[dict, list[dict]]:
    """Decode the test clip with kmo's decoder; check rotation and timestamps."""
    from kinemotion_cli.errors import KmoError
    from kinemotion_cli.video import decode, probe

    expected_t = [(p - CLIP_PTS_MS[0]) / 1000.0 for p in CLIP_PTS_MS]
    out: dict = {
        "clip": {
            "stored": f"{CLIP_STORED[0]}x{CLIP_STORED[1]}",
            "rotation": CLIP_ROTATION,
            "pts_ms": list(CLIP_PTS_MS),
        }
    }
    problems: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="kmo-doctor-") as tmp:
        path = Path(tmp) / "rotated_vfr.mp4"
        try:
            out["clip"]["codec"] = write_clip(path)
        except Exception as exc:  # noqa: BLE001
            out["error"] = f"could not write the test clip ({exc}); decoder not checked"
            return out, problems
        try:
            info = probe(str(path))
            stream = decode(str(path), info)
            frames = [f.image for f in stream]
            report = stream.report
        except KmoError as exc:
            out["error"] = f"kmo could not decode the test clip: {exc.message}"
            problems.append(_problem("decoder", out["error"], UPGRADE_AV))
            return out, problems
    want = clip_frames()
    upright = info.width == want[0].shape[1] and info.height == want[0].shape[0]
    shapes_ok = all(f.shape == want[0].shape for f in frames)
    picture_ok = shapes_ok and all(
        float(np.abs(f.astype(float) - w.astype(float)).mean()) < 12 for f, w in zip(frames, want)
    )
    times = np.asarray(report.times, float)
    n_ok = len(times) == len(expected_t)
    err_ms = float(np.max(np.abs(times - expected_t)) * 1000) if n_ok else None
    out.update(
        {
            "rotation_read": info.rotation_deg,
            "upright_size": f"{info.width}x{info.height}",
            "rotation_applied": bool(upright and picture_ok),
            "frames": len(frames),
            "times_s": [round(float(t), 4) for t in times],
            "expected_s": expected_t,
            "max_time_error_ms": None if err_ms is None else round(err_ms, 3),
            "timestamps_ok": bool(n_ok and err_ms is not None and err_ms < 1.0),
            "dropped_frames_found": report.dropped_frames,
            "gap_found": report.dropped_frames == 1,
            "measured_fps": round(report.measured_fps, 3),
        }
    )
    av_version = _dist_version("av")
    if not out["rotation_applied"]:
        problems.append(
            _problem(
                "decoder",
                f"the display rotation ({CLIP_ROTATION}) was not applied (read "
                f"{info.rotation_deg}, upright {info.width}x{info.height}; PyAV {av_version}): "
                "phone videos would be analysed sideways",
                UPGRADE_AV,
            )
        )
    if not out["timestamps_ok"] or not out["gap_found"]:
        problems.append(
            _problem(
                "decoder",
                f"frame times differ from the file's timestamps (max error {err_ms} ms, "
                f"{len(times)} of {len(expected_t)} frames, {report.dropped_frames} dropped "
                f"found, 1 expected; PyAV {av_version}): jump timing would be wrong",
                UPGRADE_AV,
            )
        )
    return out, problems


# --------------------------------------------------------------------------- the report


def collect(model_dir: str | None = None) -> dict:
    """Everything ``kmo doctor`` reports, as a JSON-ready dict (``problems`` last)."""
    with _stdout_to_stderr():
        vers, problems = versions()
        pre = preload()
        model, how = tiny_model()
        prov = providers(model)
        prov["tiny_model"] = how
        gpu_info = gpu()
        cuda = cuda_section(pre)
        dists = list(vers["onnxruntime"]["packages"])
        problems += provider_problems(prov, gpu_info, dists)
        dirs = model_dirs(model_dir)
        files, model_problems = model_files(dirs)
        problems += model_problems
        dec, dec_problems = decoder()
        problems += dec_problems
    notes = []
    if vers["onnx"]["import_error"]:
        notes.append(
            "onnx is not installed: stand-in models cannot be written, so kmo bench skips "
            "rtmpose/rtmo without --model-dir (pip install onnx to write them)"
        )
    notes.append(
        "no checksum is known for the rtmlib ONNX models: kmo reports them as 'unknown' unless "
        "they carry the stand-in marker (MediaPipe lite/full are checked against SHA-256)"
    )
    return {
        "schema": SCHEMA,
        "versions": vers,
        "providers": prov,
        "gpu": gpu_info,
        "cuda": cuda,
        "model_dirs": dirs,
        "models": files,
        "decoder": dec,
        "notes": notes,
        "problems": problems,
    }


def _ver(v: dict) -> str:
    from rich.markup import escape

    pk = v.get("packages") or {}
    if v.get("import_error"):
        if not pk:
            return "not installed"
        return f"[red]import fails[/] ({escape(v['import_error'][:60])})"
    text = v.get("version") or next(iter(pk.values()), None) or "not installed"
    if len(pk) > 1 or (pk and next(iter(pk)) not in ("mediapipe", "rtmlib", "av", "numpy", "onnx")):
        text += " (" + ", ".join(pk) + ")"
    return text


def render(doc: dict) -> object:
    """The report as a rich renderable (one screen)."""
    from rich.console import Group
    from rich.markup import escape as e
    from rich.table import Table
    from rich.text import Text

    v = doc["versions"]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row(
        "kmo", e(f"{v['kmo']} — {v['python']} ({v['python_executable']}) — {v['platform']}")
    )
    grid.add_row(
        "versions",
        " · ".join(
            f"{label} {_ver(v[key])}"
            for label, key in (
                ("mediapipe", "mediapipe"),
                ("LiteRT (runs the mediapipe models)", "litert"),
                ("onnxruntime", "onnxruntime"),
                ("rtmlib", "rtmlib"),
                ("OpenCV", "opencv"),
                ("PyAV", "pyav"),
                ("numpy", "numpy"),
                ("onnx (optional, writes stand-ins)", "onnx"),
            )
        )
        + (
            f" (FFmpeg libavcodec {v['pyav'].get('ffmpeg_libavcodec')})"
            if v["pyav"].get("ffmpeg_libavcodec")
            else ""
        ),
    )
    p = doc["providers"]
    if p.get("import_error"):
        grid.add_row("providers", f"[red]onnxruntime cannot be imported[/]: {e(p['import_error'])}")
    else:
        tested = []
        for t in p["tested"]:
            name = t["provider"].replace("ExecutionProvider", "")
            if t["loads"] and t["runs"]:
                tested.append(f"[green]{name} loads[/]")
            else:
                tested.append(f"[red]{name} does not load[/] ({e(str(t['error']))})")
        grid.add_row("providers", "; ".join(tested) + f" [dim](tiny model {e(p['tiny_model'])})[/]")
    g = doc["gpu"]
    grid.add_row(
        "GPU",
        "none found (no nvidia-smi)"
        if g is None
        else e(
            ", ".join(f"{x['name']} (driver {x['driver']})" for x in g["gpus"])
            or f"nvidia-smi: {g['error']}"
        ),
    )
    c = doc["cuda"]
    found = [n for n, path in c["find_library"].items() if path]
    pip_dirs = c["nvidia_pip"]
    pre = c["preload_dlls"]
    pre_txt = (
        "absent"
        if not pre["present"]
        else f"loaded {len(pre.get('loaded', []))} libraries"
        + (f" ({e(pre['error'])})" if pre.get("error") else "")
    )
    build = c["onnxruntime_build"]
    grid.add_row(
        "CUDA libs",
        f"system: {', '.join(found) or 'none'}; nvidia pip packages: "
        f"{', '.join(Path(d['dir']).parent.name for d in pip_dirs) or 'none'}; "
        f"onnxruntime.preload_dlls: {pre_txt}"
        + (
            f"; onnxruntime built for CUDA {build['cuda_version']}"
            if build.get("cuda_version")
            else ""
        ),
    )
    models = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    for d in doc["model_dirs"]:
        here = [m for m in doc["models"] if m["source"] == d["source"]]
        if not d["exists"]:
            models.add_row(e(d["source"]), e(d["dir"]), "[dim](no such folder)[/]", "", "")
        elif not here:
            models.add_row(e(d["source"]), e(d["dir"]), "[dim](no model files)[/]", "", "")
        for m in here:
            colour = {"real": "green", "stand-in": "yellow"}.get(m["kind"], "white")
            label = "stand-in model (test only)" if m["kind"] == "stand-in" else m["kind"]
            models.add_row(
                e(d["source"]),
                e(m["path"]),
                f"[{colour}]{label}[/]",
                m["sha256"][:12],
                f"{m['size_bytes'] / 1e6:.1f} MB",
            )
    grid.add_row("models", models)
    dec = doc["decoder"]
    if dec.get("error"):
        grid.add_row("decoder", f"[red]{e(dec['error'])}[/]")
    else:
        rot = "[green]applied[/]" if dec["rotation_applied"] else "[red]NOT applied[/]"
        ts = "[green]match[/]" if dec["timestamps_ok"] and dec["gap_found"] else "[red]WRONG[/]"
        grid.add_row(
            "decoder",
            f"rotation {dec['clip']['rotation']} {rot} ({dec['clip']['stored']} stored -> "
            f"{dec['upright_size']}); timestamps {ts} ({dec['frames']} frames, start offset, "
            f"uneven cadence and a gap; max error {dec['max_time_error_ms']} ms)",
        )
    parts: list = [grid]
    for n in doc["notes"]:
        parts.append(Text(f"note: {n}", style="dim"))
    if doc["problems"]:
        parts.append(Text(f"{len(doc['problems'])} problem(s):", style="bold red"))
        for i, pr in enumerate(doc["problems"], 1):
            parts.append(Text(f"{i}. [{pr['section']}] {pr['problem']}"))
            parts.append(Text(f"   fix: {pr['fix']}", style="cyan"))
    else:
        parts.append(Text("no problems found", style="bold green"))
    return Group(*parts)
