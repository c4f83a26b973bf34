"""``kmo analyze --engine ray``: same outputs as the local engine, retries, resume, Ctrl-C.

Every Ray run is a real ``kmo`` process that starts its own local Ray (2 CPUs here) and shuts
it down when it ends; the tests never start Ray themselves. They need the Ray extra
(``pip install -e ".[dev,ray]"``, which ``make setup`` does) and are skipped only without it.
Worker crashes are made with the engine's test-only hook (``KMO_RAY_TEST_HOOKS``, see
:mod:`kinemotion_cli.engines.ray_worker`). All Ray tests run in one xdist group, one at a time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import KMO, ROOT, SAMPLES, sigint_default
from tests.ray_helpers import (
    HOOKS_ENV,
    NAMES,
    files_of,
    hooks,
    kmo_env,
    partial_files,
    run_kmo_env,
    video_folder,
    worker_processes,
)

pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture(scope="module")
def needs_ray() -> None:
    pytest.importorskip("ray")


# ---------------------------------------------------------------- without Ray


def test_missing_extra_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """With Ray not importable, --engine ray (or --ray-address) says how to install it."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "ray.py").write_text("raise ImportError(\"No module named 'ray' (test shadow)\")\n")
    env = kmo_env(PYTHONPATH=str(shadow))
    out = tmp_path / "out"
    for extra in (["--engine", "ray"], ["--ray-address", "127.0.0.1:6379"]):
        r = run_kmo_env("analyze", str(SAMPLES), *extra, "--out", str(out), env=env, timeout=120)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert 'pip install "kinemotion-cli[ray]"' in lines[0]
        assert lines[0].startswith("kmo: error: ")
        assert not out.exists()  # refused before any output was planned


def test_core_imports_do_not_import_ray() -> None:
    code = (
        "import sys, kinemotion_cli.cli, kinemotion_cli.batch, kinemotion_cli.engines, "
        "kinemotion_cli.engines.local, kinemotion_cli.engines.ray_worker; "
        "print('ray' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_engine_options_are_checked_before_work(tmp_path: Path) -> None:
    r = run_kmo_env("analyze", str(SAMPLES), "--engine", "local", "--ray-address", "x:1")
    assert r.returncode == 2 and "--ray-address needs --engine ray" in r.stderr
    r = run_kmo_env("analyze", str(SAMPLES), "--ray-send-videos")
    assert r.returncode == 2 and "need --engine ray" in r.stderr


class _FakeBackend:
    def __init__(self, name: str, mode: str = "image", reset: bool = False) -> None:
        self.name = name
        self.info = {"backend": name, "running_mode": mode, "load_s": 1.5}
        self.closed = self.resets = 0
        if reset:
            self.reset = self._reset

    def _reset(self) -> None:
        self.resets += 1

    def infer(self, image, t_s):  # noqa: ANN001, ANN201
        return []

    def close(self) -> None:
        self.closed += 1


def test_backend_cache_keeps_only_stateless_backends() -> None:
    from kinemotion_cli.backends import BackendOptions
    from kinemotion_cli.engines.ray_worker import BackendCache

    cache = BackendCache()
    made: list[_FakeBackend] = []

    def fake(name: str, options: BackendOptions):  # noqa: ANN202
        made.append(_FakeBackend(name, "image", reset=name == "resettable"))
        return made[-1], None

    cache._create = fake
    image = BackendOptions()
    first, _ = cache.create("mediapipe", image)
    first.close()
    again, _ = cache.create("mediapipe", image)
    assert len(made) == 1 and cache.loads == 1 and made[0].closed == 0  # kept, not closed
    assert first.info["load_s"] == 1.5 and again.info["load_s"] == 0.0
    assert again.infer(None, 0.0) == []
    for _ in range(2):  # a stateful backend without reset(): a fresh one per video
        b, _ = cache.create("stateful", image)
        b.close()
    assert len(made) == 3 and made[1].closed == 1 and made[2].closed == 1
    cache.create("resettable", image)
    cache.create("resettable", image)
    assert len(made) == 4 and made[3].resets == 1
    cache.clear()
    assert made[0].closed == 1 and made[3].closed == 1


def test_worker_measures_sent_bytes_as_the_given_path(tmp_path: Path) -> None:
    """A video sent as bytes reads, in its result, as the path the user gave."""
    from kinemotion_cli.batch import Job, Settings, process
    from kinemotion_cli.engines.ray_worker import VideoWorker

    text = tmp_path / "clip.mp4"
    text.write_text("not a video\n")
    job = Job(3, text)
    local = process(job, Settings())
    worker = VideoWorker(Settings())
    try:
        hidden = worker.run(job, "/nonexistent/clip.mp4", text.stat().st_size)
        assert hidden.outcome is None  # cannot see it: asks for the bytes
        sent = worker.run(job, "/nonexistent/clip.mp4", text.stat().st_size, text.read_bytes())
    finally:
        worker.close()
    assert sent.outcome.obj == local.obj and sent.outcome.code == local.code == 2
    assert sent.outcome.index == 3 and str(text) in sent.outcome.trace


def test_gpu_workers_follow_backend_and_device() -> None:
    """Each Ray worker asks for a GPU only for a GPU backend that may use one."""
    from kinemotion_cli.backends import BackendOptions
    from kinemotion_cli.batch import Config, Settings
    from kinemotion_cli.console import ProgressBar
    from kinemotion_cli.engines.ray_engine import RayExecutor
    from kinemotion_cli.errors import KmoError

    def gpus(backend: str, device: str, cluster: float, ask: float | None = None) -> float:
        settings = Settings(backend, BackendOptions(device=device))
        cfg = Config(inputs=[], settings=settings, engine="ray", ray_gpus=ask)
        fake = SimpleNamespace(cluster_resources=lambda: {"CPU": 2.0, "GPU": cluster})
        return RayExecutor(cfg, ProgressBar(False, "videos"))._gpus(fake)

    assert gpus("mediapipe", "auto", 4) == 0
    assert gpus("rtmpose", "auto", 4) == 1 and gpus("rtmpose", "auto", 0) == 0
    assert gpus("rtmo", "cuda", 1) == 1 and gpus("auto", "cpu", 1) == 0
    assert gpus("rtmpose", "cuda", 1, ask=0.25) == 0.25
    with pytest.raises(KmoError, match="no GPU"):
        gpus("rtmpose", "cuda", 0)


# ---------------------------------------------------------------- on a local Ray


@pytest.fixture(scope="module")
def batch(needs_ray, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:  # noqa: ANN001
    """The same folder (3 samples + a text file named .mp4) through both engines.

    The Ray run has one worker killed (``os._exit``) on its first try of the CMJ video and a
    task that raises on its first try of the squat jump: both must be retried.
    """
    root = tmp_path_factory.mktemp("ray-batch")
    videos = video_folder(root / "videos")
    marks = hooks(root / "hooks", cmj_60fps__crash=1, squat_jump_60fps__raise=1)
    common = ("--json", "--workers", "2")
    local_out, ray_out = root / "local", root / "ray"
    local = run_kmo_env(
        "analyze", str(videos), *common, "--out", str(local_out),
        "--csv-file", str(local_out / "summary.csv"),
    )  # fmt: skip
    ray = run_kmo_env(
        "analyze", str(videos), *common, "--engine", "ray", "--out", str(ray_out),
        "--csv-file", str(ray_out / "summary.csv"),
        env=kmo_env(**{HOOKS_ENV: str(marks)}),
    )  # fmt: skip
    return SimpleNamespace(
        root=root, videos=videos, hooks=marks, local=local, ray=ray,
        local_out=local_out, ray_out=ray_out,
    )  # fmt: skip


def test_ray_writes_the_same_files_byte_for_byte(batch: SimpleNamespace) -> None:
    assert batch.local.returncode == 6, batch.local.stderr
    assert batch.ray.returncode == 6, batch.ray.stderr
    local, ray = files_of(batch.local_out), files_of(batch.ray_out)
    expected = {f"{n}.json" for n in (*NAMES, "broken")} | {"summary.csv"}
    assert set(local) == expected and set(ray) == expected
    for name in sorted(expected):
        assert ray[name] == local[name], name
    assert batch.ray.stdout == batch.local.stdout  # JSON lines, in input order
    for n in NAMES:
        assert json.loads(ray[f"{n}.json"])["status"] == "ok"
    assert "timing" not in json.loads(ray["cmj_60fps.json"])


def test_killed_worker_and_raising_task_are_retried_once(batch: SimpleNamespace) -> None:
    err = batch.ray.stderr
    cmj = batch.videos / "cmj_60fps.mp4"
    squat = batch.videos / "squat_jump_60fps.mp4"
    assert f"kmo: ray: retrying {cmj} (ActorDiedError" in err, err
    assert f"kmo: ray: retrying {squat} (RuntimeError: test hook" in err, err
    assert "2 retried" in err
    left = sorted(p.name for p in batch.hooks.iterdir())
    assert left == sorted(f"{n}.mp4.started" for n in (*NAMES, "broken"))  # markers used up
    assert "(raylet)" not in batch.ray.stdout + err  # Ray's own chatter stays out


def test_broken_video_is_reported_and_the_others_measured(batch: SimpleNamespace) -> None:
    broken = json.loads((batch.ray_out / "broken.json").read_text())
    assert broken["status"] == "error" and broken["exit_code"] == 2
    assert "not a video" in broken["error"]
    assert f"kmo: error: {batch.videos / 'broken.mp4'}:" in batch.ray.stderr
    assert "kmo: 1 of 4 videos failed:" in batch.ray.stderr
    assert not partial_files(batch.ray_out)


def test_resume_with_skip_existing(batch: SimpleNamespace, tmp_path: Path) -> None:
    """An interrupted Ray run resumes: only the missing (or failed) videos are redone.

    One worker measures both redone videos (its pose model is loaded once and reused) and they
    travel as bytes (``--ray-send-videos``): the files still match the local engine's.
    """
    out = tmp_path / "out"
    out.mkdir()
    for name, data in files_of(batch.ray_out).items():
        if name not in ("drop_jump_60fps.json", "squat_jump_60fps.json", "summary.csv"):
            (out / name).write_bytes(data)
    kept = (out / "cmj_60fps.json").stat().st_mtime_ns
    args = ("analyze", str(batch.videos), "--engine", "ray", "--out", str(out))
    args += ("--csv-file", str(out / "summary.csv"))
    refused = run_kmo_env(*args)  # existing outputs: refused before Ray starts
    assert refused.returncode == 2 and "already exists" in refused.stderr
    r = run_kmo_env(*args, "--skip-existing", "--workers", "1", "--ray-send-videos", "--json")
    assert r.returncode == 6, r.stderr
    assert "skipped 1 video(s)" in r.stderr
    assert "pose models loaded 1 time(s) in 1 worker process(es)" in r.stderr, r.stderr
    assert "3 video(s) sent as bytes" in r.stderr
    assert (out / "cmj_60fps.json").stat().st_mtime_ns == kept
    assert files_of(out) == files_of(batch.local_out)
    assert r.stdout == batch.local.stdout


def test_video_whose_worker_dies_twice_is_reported_failed(needs_ray, tmp_path: Path) -> None:  # noqa: ANN001
    videos = video_folder(tmp_path / "videos", names=("cmj_60fps",), broken=False)
    marks = hooks(tmp_path / "hooks", cmj_60fps__crash=2)
    out = tmp_path / "out"
    r = run_kmo_env(
        "analyze", str(videos), "--engine", "ray", "--out", str(out),
        env=kmo_env(**{HOOKS_ENV: str(marks)}),
    )  # fmt: skip
    assert r.returncode == 1, r.stderr  # every video failed: the first failure's code
    obj = json.loads((out / "cmj_60fps.json").read_text())
    assert obj["status"] == "error" and obj["exit_code"] == 1
    assert obj["error"].startswith("failed on Ray 2 times (retried once): ActorDiedError: ")
    assert not (marks / "cmj_60fps.mp4.crash").exists()
    assert not partial_files(out)


def test_ctrl_c_cancels_the_tasks_and_exits_130(needs_ray, tmp_path: Path) -> None:  # noqa: ANN001
    videos = video_folder(tmp_path / "videos", broken=False)
    marks = hooks(tmp_path / "hooks")
    out = tmp_path / "out"
    cmd = [*KMO, "analyze", str(videos), "--engine", "ray", "--workers", "2", "--out", str(out)]
    cmd += ["--csv-file", str(out / "summary.csv")]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=kmo_env(**{HOOKS_ENV: str(marks)}),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_default,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not list(marks.glob("*.started")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no video started on Ray"
            time.sleep(0.2)
        ours = f"{HOOKS_ENV}={marks}"  # this test's workers carry its hooks folder
        assert worker_processes(ours), "Ray workers should be running"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "kmo: interrupted"
    assert not partial_files(out)
    assert not (out / "summary.csv").exists()
    for p in out.glob("*.json"):  # a video that finished before Ctrl-C is complete
        assert json.loads(p.read_text())["status"] == "ok"
    deadline = time.monotonic() + 30
    while worker_processes(ours) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not worker_processes(ours), "Ray workers left running after Ctrl-C"
