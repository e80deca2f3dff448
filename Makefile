# Two commands do all set-up on a fresh Debian machine:
#   make run   — install, prepare, and start the chat UI + API on http://127.0.0.1:7860
#   make test  — install, then run the whole test suite
.PHONY: run test setup bench

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false
export OMP_WAIT_POLICY := PASSIVE

run:
	scripts/setup.sh run
	.venv/bin/tunesmith index build
	.venv/bin/tunesmith serve

test:
	scripts/setup.sh test
	.venv/bin/python -m pytest -q

bench:
	scripts/setup.sh run
	for script in bench/*.py; do .venv/bin/python $$script || exit 1; done
