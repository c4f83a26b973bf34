"""The ONNX models rtmlib uses per mode, and how kmo finds or fetches them.

Upstream ships each model as a zip (``end2end.onnx`` inside). rtmlib caches it as
``<zip name without .zip>.onnx``; kmo uses the same file names, so a model is found in:
``--model-dir`` / ``$KMO_MODEL_DIR`` (the ``.onnx`` or the ``.zip``), kmo's user cache,
then rtmlib's own cache (``$TORCH_HOME/hub/checkpoints`` or ``~/.cache/rtmlib/hub/checkpoints``)
and only then downloaded (zip, with rtmlib's Hugging Face mirror as a fallback) into kmo's
cache. ``KMO_OFFLINE=1`` forbids downloading.

Integrity: no SHA-256 of these ONNX files is known to kmo (upstream publishes none for the
extracted ``end2end.onnx``; the 8 hex digits in each zip name identify the PyTorch checkpoint
it was exported from, not this file), so ``RtmModel.sha256`` is None for every model and a
file found is reported with ``model_kind`` "unknown", or "stand-in" when it carries the
stand-in marker. A checksum added to the table below is verified on every lookup.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kinemotion_cli.errors import KmoError
from kinemotion_cli.models import (
    MODEL_DIR_ENV,
    ModelCheck,
    ModelFile,
    cache_dir,
    check_onnx_meta,
    download,
    sha256_of,
)

OFFLINE_ENV = "KMO_OFFLINE"
_OMM = "https://download.openmmlab.com/mmpose/v1/projects/"
_MIRROR = "https://huggingface.co/Tau-J/RTMPose/resolve/main/"


@dataclass(frozen=True)
class RtmModel:
    """One upstream model zip: its URL and the input size rtmlib expects, as (width, height)."""

    name: str
    url: str
    input_size: tuple[int, int]
    sha256: str | None = None  # of the extracted .onnx; none is known (module docstring)

    @property
    def zip_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def filename(self) -> str:
        """The ``.onnx`` name rtmlib and kmo cache it under."""
        return self.zip_name.split(".")[0] + ".onnx"

    @property
    def mirror_url(self) -> str | None:
        return _MIRROR + self.url[len(_OMM) :] if self.url.startswith(_OMM) else None


def _m(name: str, path: str, size: tuple[int, int]) -> RtmModel:
    return RtmModel(name, _OMM + path, size)


_DET = "rtmposev1/onnx_sdk/"
#: rtmlib BodyWithFeet (Halpe-26): detector + pose model per mode.
RTMPOSE_MODES: dict[str, tuple[RtmModel, RtmModel]] = {
    "lightweight": (
        _m("YOLOX-tiny", _DET + "yolox_tiny_8xb8-300e_humanart-6f3252f9.zip", (416, 416)),
        _m(
            "RTMPose-s Halpe-26",
            _DET + "rtmpose-s_simcc-body7_pt-body7-halpe26_700e-256x192-7f134165_20230605.zip",
            (192, 256),
        ),
    ),
    "balanced": (
        _m("YOLOX-m", _DET + "yolox_m_8xb8-300e_humanart-c2c7a14a.zip", (640, 640)),
        _m(
            "RTMPose-m Halpe-26",
            _DET + "rtmpose-m_simcc-body7_pt-body7-halpe26_700e-256x192-4d3e73dd_20230605.zip",
            (192, 256),
        ),
    ),
    "performance": (
        _m("YOLOX-x", _DET + "yolox_x_8xb8-300e_humanart-a39d44ed.zip", (640, 640)),
        _m(
            "RTMPose-x Halpe-26",
            _DET + "rtmpose-x_simcc-body7_pt-body7-halpe26_700e-384x288-7fb6e239_20230606.zip",
            (288, 384),
        ),
    ),
}
#: rtmlib Body one-stage RTMO models (COCO-17) per mode.
RTMO_MODES: dict[str, RtmModel] = {
    "lightweight": _m(
        "RTMO-s", "rtmo/onnx_sdk/rtmo-s_8xb32-600e_body7-640x640-dac2bf74_20231211.zip", (640, 640)
    ),
    "balanced": _m(
        "RTMO-m", "rtmo/onnx_sdk/rtmo-m_16xb16-600e_body7-640x640-39e78cc4_20231211.zip", (640, 640)
    ),
    "performance": _m(
        "RTMO-l", "rtmo/onnx_sdk/rtmo-l_16xb16-600e_body7-640x640-b37118ce_20231211.zip", (640, 640)
    ),
}


def mode_help() -> str:
    """The modes for ``--help``: models and input sizes, ``;``-separated."""
    lines = []
    for mode, (det, pose) in RTMPOSE_MODES.items():
        rtmo = RTMO_MODES[mode]
        lines.append(
            f"{mode} = {det.name} {det.input_size[0]}x{det.input_size[1]} + "
            f"{pose.name} {pose.input_size[1]}x{pose.input_size[0]} "
            f"(rtmo: {rtmo.name} {rtmo.input_size[0]}x{rtmo.input_size[1]})"
        )
    return "; ".join(lines)


def rtmlib_cache_dir() -> Path:
    """Where rtmlib caches checkpoints (it can be pre-seeded with ``<zip name>.onnx``)."""
    home = os.getenv("TORCH_HOME") or os.path.join(
        os.getenv("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "rtmlib"
    )
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def _extract(zip_path: Path, dest: Path) -> Path:
    """Pull ``end2end.onnx`` out of an upstream zip into ``dest`` (atomically)."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            member = next((n for n in zf.namelist() if n.endswith("end2end.onnx")), None)
            if member is None:
                raise KmoError(f"{zip_path} has no end2end.onnx inside; is it the right zip?")
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as out, zf.open(member) as src:
                shutil.copyfileobj(src, out)
            os.replace(tmp, dest)
    except zipfile.BadZipFile:
        raise KmoError(f"{zip_path} is not a valid zip; delete it and run again.") from None
    return dest


def _verified(path: Path, model: RtmModel) -> Path:
    """``path``, after checking it against the model's checksum where one is known."""
    if model.sha256 and sha256_of(path) != model.sha256:
        raise KmoError(
            f"model file {path} is corrupt or not {model.name} (SHA-256 mismatch); delete it "
            "and run again, or put a good copy there."
        )
    return path


def find_local(model: RtmModel, model_dir: str | None = None) -> Path | None:
    """The model's ``.onnx`` if present locally (extracting a ``.zip`` from the model dir)."""
    folder = model_dir or os.environ.get(MODEL_DIR_ENV)
    dirs = [Path(folder)] if folder else []
    dirs += [cache_dir(), rtmlib_cache_dir()]
    for d in dirs:
        if (d / model.filename).is_file():
            return _verified(d / model.filename, model)
    if folder and (Path(folder) / model.zip_name).is_file():
        return _verified(
            _extract(Path(folder) / model.zip_name, cache_dir() / model.filename), model
        )
    return None


def check_session(session, path: Path, model: RtmModel) -> ModelCheck:  # noqa: ANN001
    """What a loaded model is (real / stand-in / unknown), from its onnxruntime session."""
    meta = session.get_modelmeta()
    return check_onnx_meta(
        dict(meta.custom_metadata_map), meta.graph_name, path.name, model.sha256 is not None
    )


def fetch(model: RtmModel, quiet: bool = False) -> Path:
    """Download the model zip into kmo's cache (mirror as fallback) and extract it."""
    dest = cache_dir()
    last: KmoError | None = None
    for url in (model.url, model.mirror_url):
        if url is None:
            continue
        try:
            zip_path = download(ModelFile(model.zip_name, url), dest, quiet=quiet)
        except KmoError as exc:
            last = exc
            continue
        try:
            return _extract(zip_path, dest / model.filename)
        finally:
            zip_path.unlink(missing_ok=True)
    raise last or KmoError(f"cannot download {model.zip_name}")


def resolve_models(
    models: list[RtmModel], model_dir: str | None = None, quiet: bool = False, what: str = ""
) -> list[Path]:
    """Local paths of ``models``, downloading the missing ones; one-line error when impossible."""
    paths = [find_local(m, model_dir) for m in models]
    missing = [m for m, p in zip(models, paths) if p is None]
    if not missing:
        return [p for p in paths if p is not None]
    reason = f"{OFFLINE_ENV} is set"
    if not os.environ.get(OFFLINE_ENV):
        for m in missing:
            if not quiet:
                print(f"kmo: {m.name} ({m.filename}) is not cached", file=sys.stderr)
            try:
                paths[models.index(m)] = fetch(m, quiet=quiet)
            except KmoError as exc:
                reason = exc.message.split(";")[0]
                break
        else:
            return [p for p in paths if p is not None]
    still = [m for m, p in zip(models, paths) if p is None]
    where = model_dir or os.environ.get(MODEL_DIR_ENV) or "a folder"
    raise KmoError(
        f"missing model file(s) for {what or 'this backend'}: "
        f"{', '.join(m.filename for m in still)} ({reason}). Download "
        f"{' and '.join(m.url for m in still)}, then put the .zip or .onnx file(s) in {where} "
        f"and pass --model-dir (or set {MODEL_DIR_ENV}), or in {cache_dir()}."
    )
