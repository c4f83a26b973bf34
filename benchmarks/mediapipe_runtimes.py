"""The mediapipe backend's two runtimes on the same frames: LiteRT against MediaPipe's graph.

Runs MediaPipe's own PoseLandmarker (IMAGE mode) and kmo's LiteRT runtime
(``kinemotion_cli/backends/blazepose.py``) on every frame of a video, one after the other on
one thread, and prints how far apart their 33 landmarks are (pixels of the video: median,
95th percentile, largest), how far apart the visibilities are, frames where they found a
different number of people, and the milliseconds per frame of each (interleaved frame by
frame, so both see the same machine load).

This is a benchmark, not a test (``tests/test_blazepose.py`` holds the bound that is
tested). It is not imported by the package.

    python benchmarks/mediapipe_runtimes.py [VIDEO] [--model full|lite]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?", default=str(ROOT / "sample_videos" / "cmj_60fps.mp4"))
    ap.add_argument("--model", default="full", choices=("full", "lite"))
    args = ap.parse_args()

    import av

    from kinemotion_cli.backends.blazepose import BlazePose
    from kinemotion_cli.backends.mediapipe import tasks_landmarker, tasks_poses

    task = ROOT / "kinemotion_cli" / "models" / f"pose_landmarker_{args.model}.task"
    graph = tasks_landmarker(task, 2)
    litert = BlazePose(task)
    dist, vis, differ, t_graph, t_litert, n = [], [], 0, 0.0, 0.0, 0
    with av.open(args.video) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="rgb24")
            h, w = image.shape[:2]
            t0 = time.perf_counter()
            theirs = tasks_poses(graph, image)
            t1 = time.perf_counter()
            ours = litert.infer(image, 2)
            t2 = time.perf_counter()
            t_graph, t_litert, n = t_graph + t1 - t0, t_litert + t2 - t1, n + 1
            if len(ours) != len(theirs):
                differ += 1
                continue
            for ref, mine in zip(theirs, ours):
                dist.append(np.hypot(*(ref[:, :2] - mine[:, :2]).T))
                vis.append(np.abs(ref[:, 2] - mine[:, 2]))
    graph.close()
    d, v = np.concatenate(dist), np.concatenate(vis)
    print(f"{args.video}: {n} frames ({w}x{h}), model {args.model}")
    print(
        f"landmarks LiteRT - MediaPipe graph: median {np.median(d):.2f} px, "
        f"95th percentile {np.percentile(d, 95):.2f} px, largest {d.max():.2f} px; "
        f"visibility largest difference {v.max():.3f}; frames with another number of "
        f"people: {differ}"
    )
    print(
        f"ms per frame (one thread): MediaPipe graph {1000 * t_graph / n:.1f}, "
        f"LiteRT {1000 * t_litert / n:.1f} ({t_graph / t_litert:.2f}x)"
    )


if __name__ == "__main__":
    main()
