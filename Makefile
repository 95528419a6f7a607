.PHONY: test test-fast lint format bench judge eval

test:
	python -m pytest

test-fast:  # logic tests with the shared fakes; no real model, no server
	python -m pytest -m "not slow and not server" -q

lint:
	ruff check assistant tests evals benchmarks
	ruff format --check assistant tests

format:
	ruff format assistant tests
	ruff check --fix assistant tests

bench:
	python benchmarks/retrieval_scifact.py
	python benchmarks/ingest_speed.py
	python benchmarks/search_latency.py
	python benchmarks/outline_stages.py

eval:
	review eval --report eval.md --json-file eval.json

judge:
	python evals/judge/train_judge.py
	python evals/judge/validate_judge.py
