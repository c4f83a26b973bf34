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


def truth_jumps(truth: dict) -> list[dict]:
    """Every truth jump of a generated video (old truth files hold one, at the top level)."""
    if truth.get("jumps"):
        return truth["jumps"]
    return [{"index": 1, "jump_type": truth["jump_type"], "events": truth["events"],
             "metrics": truth["metrics"]}]  # fmt: skip


def match_jumps(found: list[dict], truths: list[dict], within_s: float = 0.25) -> list:
    """Pairs (truth jump, kmo jump or None), matched by the nearest takeoff."""
    pairs = []
    for tj in truths:
        to = tj["events"].get("takeoff_s")
        best = min(
            (j for j in found if j["events"].get("takeoff_s") is not None and to is not None),
            key=lambda j: abs(j["events"]["takeoff_s"] - to),
            default=None,
        )
        if best is not None and abs(best["events"]["takeoff_s"] - to) > within_s:
            best = None
        pairs.append((tj, best))
    return pairs
