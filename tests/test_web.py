"""The web app through FastAPI's TestClient over the shared fakes: pages, the JSON API, ingest."""

from __future__ import annotations

import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from assistant.models import Paper  # noqa: E402

PAPERS = [
    Paper(
        id="breadcrumbs-2023",
        title="Model Breadcrumbs: Scaling Multi-Task Model Merging with Sparse Masks",
        abstract="Breadcrumbs merges fine-tuned models with sparse masks. It improves multi-task performance. No tuning is needed.",
        date="2023-12-11",
    ),
    Paper(
        id="tangent-2023",
        title="Task Arithmetic in the Tangent Space",
        abstract="Task arithmetic adds task vectors to edit models. Linearized fine-tuning improves task arithmetic. Weight disentanglement explains it.",
        date="2023-05-22",
    ),
    Paper(
        id="recall-2025",
        title="RL and Knowledge Recall",
        abstract="Reinforcement learning improves knowledge recall. RL models outperform SFT models on recall tasks.",
        date="2025-03-01",
    ),
    Paper(
        id="evil-2024",
        title="Merging <script>alert(1)</script> Evil",
        abstract="We study merging fine-tuned models. <img src=x onerror=alert(1)> Merging works well.",
    ),
]


@pytest.fixture
def client(make_assistant):
    from assistant.web import create_app

    a = make_assistant(PAPERS, ask={"min_relevance": 0.05})
    with TestClient(create_app(a)) as c:
        c.assistant = a
        yield c


def test_api_search_mirrors_the_cli_json(client):
    got = client.get("/api/search", params={"q": "merging fine-tuned models", "k": 3})
    assert got.status_code == 200
    data = got.json()
    assert set(data) == {"query", "hits"}
    expected = client.assistant.search("merging fine-tuned models", 3).model_dump(mode="json", by_alias=True)
    assert data == expected


def test_search_year_filter_keeps_only_dated_papers_in_range(client):
    data = client.get("/api/search", params={"q": "models", "year_from": 2024, "year_to": 2025}).json()
    assert [h["paper_id"] for h in data["hits"]] == ["recall-2025"]


def test_search_page_lists_hits_with_the_passage_marked_and_corpus_text_escaped(client):
    html = client.get("/search", params={"q": "merging"}).text
    assert 'href="/paper/breadcrumbs-2023"' in html
    assert "<mark>merges</mark>" in html or "<mark>Merging</mark>" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html


def test_empty_query_is_the_cli_error_line(client):
    got = client.get("/api/search", params={"q": " "})
    assert got.status_code == 400
    assert got.json()["error"].startswith("the query is empty")


def test_paper_api_and_unknown_id(client):
    assert client.get("/api/paper/tangent-2023").json()["title"] == "Task Arithmetic in the Tangent Space"
    missing = client.get("/api/paper/nope")
    assert missing.status_code == 404
    assert "no paper with id 'nope'" in missing.json()["error"]
    assert "no paper with id" in client.get("/paper/nope").text


def test_paper_page_highlights_the_claimed_sentence_and_shows_the_judge_score(client):
    html = client.get(
        "/paper/recall-2025", params={"claim": "Reinforcement learning improves knowledge recall.", "n": 1}
    ).text
    assert '<mark class="support">Reinforcement learning improves knowledge recall.</mark>' in html
    assert re.search(r'id="judge-score">1\.00<', html)
    similar = client.get("/api/paper/recall-2025/similar").json()
    assert len(similar) == 3 and "recall-2025" not in {s["paper_id"] for s in similar}


def test_ask_api_and_page_link_each_citation_to_its_sentence(client):
    a = client.get("/api/ask", params={"q": "does reinforcement learning improve knowledge recall?"}).json()
    assert not a["refused"], a
    html = client.get("/ask", params={"q": "does reinforcement learning improve knowledge recall?", "sync": 1}).text
    cite = re.search(
        r'<a class="cite" href="/paper/([^"?]+)\?claim=[^"]+" data-n="1"[^>]*data-sentence="([^"]*)"', html
    )
    assert cite, html
    paper = client.get(f"/api/paper/{cite.group(1)}").json()
    assert cite.group(2) and cite.group(2) in paper["abstract"]


def test_ask_stream_sends_events_then_the_answer(client):
    with client.stream("GET", "/ask/stream", params={"q": "does reinforcement learning improve recall?"}) as r:
        events = [json.loads(line) for line in r.iter_lines() if line.strip()]
    assert events[0]["event"] == "status"
    assert events[-1]["event"] == "answer"
    assert 'class="answer' in events[-1]["html"]


def test_refusal_shows_the_closest_papers(make_assistant):
    from assistant.web import create_app

    a = make_assistant(PAPERS, ask={"min_answerability": 0.99, "min_relevance": 0.99})
    with TestClient(create_app(a)) as c:
        html = c.get("/ask", params={"q": "what is the boiling point of water on Mars?", "sync": 1}).text
    assert 'id="closest"' in html


def test_outline_page_has_a_collapsible_tree_and_api_json(client):
    html = client.get("/outline", params={"topic": "model merging", "mode": "extractive"}).text
    assert '<details class="category" open' in html or "Related work" in html
    if shutil.which("dot"):  # the Graphviz picture links each study to its page
        assert 'id="outline-svg"' in html and 'href="/paper/' in html and 'href="#' not in html
    data = client.get("/api/outline", params={"topic": "model merging", "mode": "extractive"}).json()
    assert data["topic"] == "model merging"
    assert client.get("/api/outline", params={"topic": "x", "mode": "bogus"}).status_code == 400


def test_map_page_and_api(client):
    data = client.get("/api/map").json()
    assert {p["paper_id"] for p in data["points"]} == {p.id for p in PAPERS}
    html = client.get("/map").text
    assert html.count('class="point"') == len(PAPERS)
    assert "<script>alert" not in html


def test_stats_and_docs_are_offline(client):
    assert client.get("/api/stats").json()["papers"] == len(PAPERS)
    html = client.get("/docs").text
    assert "/api/search" in html and "cdn" not in html.lower()
    assert client.get("/openapi.json").json()["paths"]["/api/ask"]


def test_bibtex_endpoint_keys_are_the_ids(client):
    bibtexparser = pytest.importorskip("bibtexparser")
    got = client.get("/api/bibtex", params={"ids": "tangent-2023,breadcrumbs-2023", "download": True})
    assert got.status_code == 200
    assert "attachment" in got.headers["content-disposition"]
    lib = bibtexparser.parse_string(got.text)
    assert [e.key for e in lib.entries] == ["tangent-2023", "breadcrumbs-2023"]
    assert client.get("/api/bibtex", params={"ids": "nope"}).status_code == 404


def test_bad_upload_is_the_cli_one_line_error(client, tmp_path):
    bad = b'{"title": "no abstract"}\n'
    got = client.post("/api/ingest", params={"filename": "bad.jsonl", "wait": True}, content=bad)
    assert got.status_code == 400
    assert got.json()["error"] == "bad.jsonl:1: 'abstract' must be a non-empty string (missing)"
    unsupported = client.post("/api/ingest", params={"filename": "refs.docx", "wait": True}, content=b"x")
    assert "unsupported file type '.docx'" in unsupported.json()["error"]


def test_upload_is_ingested_and_searchable(client):
    line = {
        "title": "Sparse Upcycling of Dense Checkpoints",
        "abstract": "Upcycling turns dense checkpoints into mixtures of experts.",
    }
    got = client.post(
        "/api/ingest", params={"filename": "new.jsonl", "wait": True}, content=json.dumps(line).encode() + b"\n"
    )
    assert got.status_code == 200, got.json()
    assert got.json()["report"]["added"] == 1
    hits = client.get("/api/search", params={"q": "upcycling dense checkpoints", "k": 1}).json()["hits"]
    assert hits[0]["title"] == line["title"]
    assert client.get("/api/stats").json()["papers"] == len(PAPERS) + 1


def test_background_upload_reports_progress_until_done(client):
    line = {"title": "Mixture of Depths", "abstract": "Tokens skip layers dynamically to save compute."}
    job = client.post("/api/ingest", params={"filename": "bg.jsonl"}, content=json.dumps(line).encode()).json()
    for _ in range(1000):
        state = client.get(f"/api/ingest/{job['id']}").json()
        if state["state"] in ("done", "error"):
            break
        time.sleep(0.05)
    assert state["state"] == "done", state
    assert client.get("/api/ingest/unknown").status_code == 404


def test_parallel_searches_during_an_ingest_agree(client):
    query = {"q": "merging fine-tuned models", "k": 3}
    before = client.get("/api/search", params=query).json()
    line = {"title": "Unrelated Protein Folding", "abstract": "Protein structures are predicted from sequences."}

    def search(_):
        r = client.get("/api/search", params=query)
        return r.status_code, r.json()

    with ThreadPoolExecutor(8) as pool:
        upload = pool.submit(
            client.post, "/api/ingest", params={"filename": "p.jsonl", "wait": True}, content=json.dumps(line).encode()
        )
        results = list(pool.map(search, range(20)))
    assert upload.result().status_code == 200
    after = client.get("/api/search", params=query).json()
    assert all(code == 200 for code, _ in results)
    # each search saw the index before the ingest or after it, never half of it
    assert all(data["hits"] in (before["hits"], after["hits"]) for _, data in results)


def test_non_loopback_host_needs_allow_remote():
    from assistant.errors import ConfigError
    from assistant.web.server import check_host, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(ConfigError, match="--allow-remote"):
        check_host("0.0.0.0", False)
    warnings: list[str] = []
    check_host("0.0.0.0", True, warnings.append)
    assert "no login" in warnings[0]


def test_cli_serve_refuses_a_remote_host_in_one_line():
    from typer.testing import CliRunner

    from assistant.cli import app

    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "needs --allow-remote" in result.output


@pytest.mark.server
def test_assistant_serve_runs_in_the_background_on_loopback(make_assistant):
    import httpx
    from conftest import free_port

    a = make_assistant(PAPERS)
    port = free_port()
    server = a.serve(port=port)
    try:
        for _ in range(6000):  # uvicorn sets it once the socket listens
            if server.started:
                break
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=30).json()["papers"] == len(PAPERS)
    finally:
        server.should_exit = True
