"""Model files: packaged ones, a user cache, an offline model dir, and a checked download.

Lookup order for a model file: ``--model-dir`` / ``$KMO_MODEL_DIR``, the files shipped inside
this package, the user cache (``$KMO_CACHE_DIR`` or the platform cache dir), then a download
into the cache (with a message on stderr and, where known, a SHA-256 check).

What a model file is (``model_kind``): ``"real"`` when its SHA-256 matches a known upstream
checksum (the MediaPipe ``.task`` files below), ``"stand-in"`` when it is one of kmo's test
stand-ins (an ONNX file carrying the :data:`STANDIN_KEY` metadata marker, whatever its name or
folder), ``"unknown"`` otherwise (no checksum known: the rtmlib ONNX models, MediaPipe heavy).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kinemotion_cli.errors import KmoError

PACKAGE_DIR = Path(__file__).resolve().parent
MODEL_DIR_ENV = "KMO_MODEL_DIR"
CACHE_DIR_ENV = "KMO_CACHE_DIR"

#: ONNX ``metadata_props`` key every stand-in model carries (see ``kinemotion_cli.testing``).
STANDIN_KEY = "kmo_standin"
STANDIN_LABEL = "stand-in model (test only)"
#: Graph names of the stand-ins: today's (marked too) and older unmarked ones.
STANDIN_GRAPHS = (
    "kmo_standin_yolox",
    "kmo_standin_rtmpose_halpe26",
    "kmo_standin_rtmo",
    "fake_yolox",
    "fake_rtmpose_halpe26",
    "fake_rtmo",
)
MODEL_KINDS = ("real", "stand-in", "unknown")


@dataclass(frozen=True)
class ModelFile:
    """A model file kmo knows how to find or fetch."""

    filename: str
    url: str
    sha256: str | None = None


_MP_URL = (
    "https://storage.googleapis.com/mediapipe-models/pose_landmarker/pose_landmarker_{v}/"
    "float16/latest/pose_landmarker_{v}.task"
)
MEDIAPIPE_MODELS: dict[str, ModelFile] = {
    "lite": ModelFile(
        "pose_landmarker_lite.task",
        _MP_URL.format(v="lite"),
        "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a",
    ),
    "full": ModelFile(
        "pose_landmarker_full.task",
        _MP_URL.format(v="full"),
        "4eaa5eb7a98365221087693fcc286334cf0858e2eb6e15b506aa4a7ecdcec4ad",
    ),
    "heavy": ModelFile("pose_landmarker_heavy.task", _MP_URL.format(v="heavy")),
}


@dataclass(frozen=True)
class ModelCheck:
    """What a model file is: ``kind`` (one of :data:`MODEL_KINDS`) and a sentence why."""

    kind: str
    detail: str


def check_onnx_meta(
    metadata: Mapping[str, str], graph_name: str | None, name: str, sha256_known: bool = False
) -> ModelCheck:
    """Classify an ONNX model from its metadata and graph name (``name``: its file name).

    ``sha256_known``: the file was verified against a known upstream checksum.
    """
    if STANDIN_KEY in metadata:
        return ModelCheck("stand-in", f"{name}: {STANDIN_LABEL}: {metadata[STANDIN_KEY]}")
    if graph_name in STANDIN_GRAPHS:
        return ModelCheck("stand-in", f"{name}: {STANDIN_LABEL} (unmarked; graph {graph_name!r})")
    if sha256_known:
        return ModelCheck("real", f"{name}: SHA-256 matches the upstream file")
    return ModelCheck(
        "unknown",
        f"{name}: no checksum is known for it; kmo cannot confirm it is the upstream model",
    )


def check_onnx_file(path: Path, sha256: str | None = None) -> ModelCheck:
    """Classify an ONNX file on disk (reads its metadata, not its weights, unless ``sha256``)."""
    from kinemotion_cli.models.onnxmeta import OnnxFormatError, read_meta

    try:
        meta = read_meta(path)
    except (OnnxFormatError, OSError) as exc:
        return ModelCheck("unknown", f"{path.name}: not a readable ONNX file ({exc})")
    check = check_onnx_meta(meta.metadata, meta.graph_name, path.name)
    if check.kind == "unknown" and sha256:
        ok = sha256_of(path) == sha256
        if ok:
            return ModelCheck("real", f"{path.name}: SHA-256 matches the upstream file")
        return ModelCheck("unknown", f"{path.name}: SHA-256 does not match the upstream file")
    return check


def check_task_file(path: Path, model: ModelFile | None = None) -> ModelCheck:
    """Classify a MediaPipe ``.task`` file against the known checksums."""
    model = model or next((m for m in MEDIAPIPE_MODELS.values() if m.filename == path.name), None)
    if model is None or model.sha256 is None:
        return ModelCheck("unknown", f"{path.name}: no checksum is known for it")
    if sha256_of(path) == model.sha256:
        return ModelCheck("real", f"{path.name}: SHA-256 matches the upstream file")
    return ModelCheck(
        "unknown", f"{path.name}: SHA-256 mismatch (corrupt or not the upstream file)"
    )


def combine_kinds(kinds: Iterable[str]) -> str:
    """One kind for a backend using several files: any stand-in wins, then any unknown."""
    kinds = set(kinds)
    if "stand-in" in kinds:
        return "stand-in"
    if not kinds or "unknown" in kinds:
        return "unknown"
    return "real"


def cache_dir() -> Path:
    """The user cache directory for downloaded models."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kmo")) / "models"


def sha256_of(path: Path) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, model: ModelFile) -> Path:
    if model.sha256 and sha256_of(path) != model.sha256:
        raise KmoError(
            f"model file {path} is corrupt (SHA-256 mismatch); delete it and run again, "
            f"or put a good copy of {model.filename} there."
        )
    return path


def download(model: ModelFile, dest_dir: Path, quiet: bool = False) -> Path:
    """Download ``model`` into ``dest_dir`` atomically and verify its checksum."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / model.filename
    if not quiet:
        print(f"kmo: downloading {model.filename} from {model.url} to {dest}", file=sys.stderr)
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(model.url, timeout=30) as resp:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
        _verify(Path(tmp), model)
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise KmoError(
            f"cannot download {model.filename} ({exc}); offline? Put the file in a folder and "
            f"pass --model-dir FOLDER (or set {MODEL_DIR_ENV}=FOLDER)."
        ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def resolve(model: ModelFile, model_dir: str | None = None, quiet: bool = False) -> Path:
    """Find ``model`` locally (model dir, package, cache) or download it into the cache."""
    folder = model_dir or os.environ.get(MODEL_DIR_ENV)
    if folder:
        candidate = Path(folder) / model.filename
        if candidate.is_file():
            return _verify(candidate, model)
    for base in (PACKAGE_DIR, cache_dir()):
        candidate = base / model.filename
        if candidate.is_file():
            return _verify(candidate, model)
    return download(model, cache_dir(), quiet=quiet)
