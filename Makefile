# kmo developer commands. `make run` and `make test` are the README's two set-up commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE ?= sample_videos/cmj_60fps.mp4
PEER_VENV ?= build/peer-venv
PEER_VERSION ?= 0.82.0
BENCH_REPEATS ?= 5

.PHONY: setup run test test-fast test-ray lint format bench bench-peer bench-ray accuracy accuracy-holdout accuracy-holdout2 accuracy-holdout3 accuracy-dense accuracy-litert accuracy-max-side robustness samples fake-models clean

$(BIN)/kmo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	touch $(BIN)/kmo

setup: $(BIN)/kmo  ## create .venv and install kmo with its test tools and the Ray extra

run: setup  ## install, then measure a sample video
	$(BIN)/kmo analyze $(SAMPLE)

test: setup  ## the whole test suite (unit + end-to-end on generated video)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: setup  ## unit tests only
	$(BIN)/python -m pytest -m "not e2e"

test-ray: setup  ## the Ray engine's tests only (a local Ray with 2 CPUs)
	$(BIN)/python -m pytest tests/test_ray.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup bench-peer  ## speed and memory figures, measured side by side in one run
	$(BIN)/python -m kinemotion_cli.bench

$(PEER_VENV)/bin/kinemotion:
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet "kinemotion==$(PEER_VERSION)"

bench-peer: setup $(PEER_VENV)/bin/kinemotion  ## kmo vs the peer CLI (kinemotion, PyPI) on the 1080x1920 clip: interleaved medians, wall ratio, peak memory, kmo's breakdown, sparse vs dense, 1 vs N threads, with and without focus, MediaPipe's graph vs LiteRT
	$(BIN)/python benchmarks/peer.py --peer $(PEER_VENV)/bin/kinemotion --repeats $(BENCH_REPEATS) --modes default,nofocus,litert,dense,one

bench-ray: setup  ## batch throughput: local pool vs Ray, 1 and 2 workers, the three samples
	$(BIN)/python -m kinemotion_cli.bench_ray

accuracy: setup  ## render the ground-truth cases, run kmo on each, write docs/accuracy.md
	$(BIN)/python -m tests.groundtruth.accuracy --cache build/accuracy --out docs/accuracy.md --json docs/accuracy.json --jobs 2

accuracy-holdout: setup  ## held-out cases drawn at random from the generator's options (some since looked into): docs/accuracy_holdout.md
	$(BIN)/python -m tests.groundtruth.accuracy --set holdout --cache build/accuracy --out docs/accuracy_holdout.md --json docs/accuracy_holdout.json --jobs 2

accuracy-holdout2: setup  ## a second held-out set (another seed; looked into since its first run): docs/accuracy_holdout2.md
	$(BIN)/python -m tests.groundtruth.accuracy --set holdout2 --cache build/accuracy --out docs/accuracy_holdout2.md --json docs/accuracy_holdout2.json --jobs 2

accuracy-holdout3: setup  ## a third held-out set (another seed; its signals never read): docs/accuracy_holdout3.md
	$(BIN)/python -m tests.groundtruth.accuracy --set holdout3 --cache build/accuracy --out docs/accuracy_holdout3.md --json docs/accuracy_holdout3.json --jobs 2

accuracy-dense: setup  ## the same cases with every frame inferred (--dense), docs/accuracy_dense.md
	$(BIN)/python -m tests.groundtruth.accuracy --cache build/accuracy --out docs/accuracy_dense.md --json docs/accuracy_dense.json --jobs 2 -- --dense

accuracy-litert: setup  ## the same cases with MediaPipe's models on LiteRT (KMO_MEDIAPIPE_RUNTIME=litert), docs/accuracy_litert.md
	KMO_MEDIAPIPE_RUNTIME=litert $(BIN)/python -m tests.groundtruth.accuracy --cache build/accuracy --out docs/accuracy_litert.md --json docs/accuracy_litert.json --jobs 2

accuracy-max-side: setup  ## the full-HD cases with the frames shrunk to 1280 px for the model (--max-side 1280): docs/accuracy_max_side_1280.md
	$(BIN)/python -m tests.groundtruth.accuracy --cache build/accuracy --tags full_hd --out docs/accuracy_max_side_1280.md --json docs/accuracy_max_side_1280.json --jobs 2 -- --max-side 1280

robustness: setup  ## how much sub-pixel landmark noise moves the accuracy cases (needs make accuracy's videos): docs/robustness.md
	$(BIN)/python -m tests.groundtruth.replay --dump --keep --jobs 2
	printf '# Robustness of the event logic\n\nWritten by `make robustness` (`tests/groundtruth/replay.py`): the pose output of every `make accuracy` case, measured again after adding seeded Gaussian noise to every landmark (a copied landmark stays a copy).\n\n' > docs/robustness.md
	$(BIN)/python -m tests.groundtruth.replay --jobs 2 --out docs/robustness.md > /dev/null
	for j in 0.3 1; do $(BIN)/python -m tests.groundtruth.replay --jobs 2 --jitter $$j --seeds 3 --out docs/robustness.md > /dev/null || exit 1; done

fake-models: setup  ## stand-in RTMPose/RTMO models (test only, marked kmo_standin) tracking the sample videos, in build/fake-models
	$(BIN)/python -m tests.onnx_fakes --out build/fake-models

samples: setup  ## regenerate the committed sample videos from tests/assets
	$(BIN)/python -m tests.groundtruth samples --out sample_videos

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
