"""Helpers for tests/test_ray.py: run kmo with an environment, build video folders, look at
what is left behind (partial files, worker processes)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import KMO, ROOT, SAMPLES

NAMES = ("cmj_60fps", "drop_jump_60fps", "squat_jump_60fps")
HOOKS_ENV = "KMO_RAY_TEST_HOOKS"  # kinemotion_cli.engines.ray_worker.TEST_HOOKS_ENV


def kmo_env(**extra: str) -> dict[str, str]:
    """This environment for a kmo subprocess, without a Ray address or hooks of our caller."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", HOOKS_ENV)}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env.update(extra)
    return env


def run_kmo_env(*args: str, env: dict[str, str] | None = None, timeout: float = 600):
    """Run the real kmo CLI in a subprocess with ``env`` (see :func:`kmo_env`)."""
    return subprocess.run(
        [*KMO, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env if env is not None else kmo_env(),
    )


def video_folder(folder: Path, names=NAMES, broken: bool = True) -> Path:  # noqa: ANN001
    """``folder`` with copies of sample videos and, if ``broken``, a text file named .mp4."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copyfile(SAMPLES / f"{n}.mp4", folder / f"{n}.mp4")
    if broken:
        (folder / "broken.mp4").write_text("this is a text file, not a video\n")
    return folder


def hooks(folder: Path, **markers: int) -> Path:
    """A test-hooks folder: ``name__kind=count`` makes ``<name>.mp4.<kind>`` hold ``count``."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, count in markers.items():
        name, kind = key.rsplit("__", 1)
        (folder / f"{name}.mp4.{kind}").write_text(str(count))
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (hidden ones too), by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def partial_files(folder: Path) -> list[str]:
    """Leftovers of interrupted atomic writes (``.<stem>.*.part.*``) in ``folder``."""
    return [p.name for p in folder.iterdir() if ".part" in p.name or p.name.startswith(".")]


def worker_processes(marker: str | None = None) -> list[int]:
    """Pids of live kmo Ray worker processes (actors named VideoWorker); with ``marker``,
    only those whose environment holds it (the workers of one test's own Ray, not those of
    another test run on the same machine)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            if b"VideoWorker" not in cmd:
                continue
            if marker is not None and marker.encode() not in (entry / "environ").read_bytes():
                continue
        except OSError:
            continue
        pids.append(int(entry.name))
    return pids
