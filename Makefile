.PHONY: test lint format bench judge

test:
	python -m pytest

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

judge:
	python evals/judge/train_judge.py
	python evals/judge/validate_judge.py
