"""Data files shipped with kmo (see README.md here): the benchmark's default clip."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
#: 90 frames (540x960, 60 fps) of the CMJ sample: ``kmo bench``'s default source video.
BENCH_CLIP = DATA_DIR / "cmj_60fps_90f.mp4"
