"""Shared fixtures: generated ground-truth videos (rendered once per test session)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
KMO = [sys.executable, "-m", "kinemotion_cli"]


def run_kmo(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real kmo CLI in a subprocess."""
    return subprocess.run([*KMO, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def truth_of(video: Path) -> dict:
    """The ground-truth file written next to a generated video."""
    return json.loads(video.with_name(video.stem + ".truth.json").read_text())


@pytest.fixture(scope="session")
def gt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("groundtruth")


def render_once(gt_dir: Path, name: str, **spec) -> Path:
    """Render a ground-truth video into the session dir unless it is there already."""
    from tests.groundtruth import Spec, render

    out = gt_dir / f"{name}.mp4"
    if not out.exists():
        render(Spec(**spec), out)
    return out
