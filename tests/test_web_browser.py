"""`review serve` in a real browser: the server as a subprocess on a free loopback port over the
real bundled index (a copy, so uploads do not touch the checkout's store), driven by Playwright
with the system chromium. Screenshots of every page land in tests/artifacts/ (gitignored)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 600_000  # how long a page may take on 2 shared cores; a wait, never an assertion on time

pytestmark = [pytest.mark.server, pytest.mark.slow]

if not CHROMIUM.exists():
    pytest.skip(
        "no /usr/bin/chromium: apt-get install -y chromium fonts-dejavu-core (the README's install line does)",
        allow_module_level=True,
    )
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    pytest.skip("playwright is not installed: pip install -e '.[dev]'", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`review serve` on a free port, over a copy of the checkout's index (built from the bundled corpus if absent)."""
    import httpx

    base = tmp_path_factory.mktemp("serve")
    store = base / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_")}
    env["REVIEW_CONFIG"] = str(base / "absent.toml")
    if (ROOT / "store" / "chroma.sqlite3").exists():
        shutil.copytree(ROOT / "store", store, ignore=shutil.ignore_patterns("uploads", "*.lock"))
    else:  # a checkout without an index: build one from the bundled corpus first
        subprocess.run(
            [sys.executable, "-m", "assistant", "--store", str(store), "ingest"], cwd=ROOT, env=env, check=True
        )
    port = free_port()
    log = (base / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--store", str(store), "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:  # the index is opened (or built) before the port opens
            if proc.poll() is not None:
                pytest.fail(f"review serve exited with {proc.returncode}:\n{(base / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{url}/api/stats", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    yield pg
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_search_finds_model_breadcrumbs(server, page):
    page.goto(f"{server}/search")
    page.fill("input[name=q]", "merging fine-tuned models with sparse masks")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("#results .hit")
    titles = page.locator("#results .hit .title").all_inner_texts()
    assert any("Model Breadcrumbs" in t for t in titles), titles
    assert page.locator("#results .passage mark").count() > 0
    shot(page, "search")


def test_ask_citation_opens_the_paper_with_the_sentence_highlighted(server, page):
    import httpx

    page.goto(f"{server}/ask")
    page.fill("input[name=q]", "how does RL affect knowledge recall?")
    page.press("input[name=q]", "Enter")
    cite = page.locator('#answer a.cite[data-n="1"]').first
    cite.wait_for()
    paper_id = cite.get_attribute("data-paper")
    sentence = cite.get_attribute("data-sentence")
    cite.hover()
    shot(page, "ask")
    cite.click()
    page.wait_for_url(f"**/paper/{paper_id}?**")
    marked = page.locator("#abstract mark.support")
    marked.first.wait_for()
    abstract = httpx.get(f"{server}/api/paper/{paper_id}", timeout=60).json()["abstract"]
    texts = marked.all_inner_texts()
    assert texts and all(" ".join(t.split()) in " ".join(abstract.split()) for t in texts)
    assert " ".join(texts) == sentence
    score = float(page.inner_text("#judge-score"))
    assert 0.0 <= score <= 1.0
    shot(page, "paper")


def test_outline_category_collapses_and_expands(server, page):
    page.goto(f"{server}/outline")
    page.fill("input[name=topic]", "model merging")
    page.press("input[name=topic]", "Enter")
    category = page.locator("#outline-tree > details.category").first
    category.wait_for()
    assert category.evaluate("d => d.open")
    summary = category.locator("> summary")
    summary.click()
    assert not category.evaluate("d => d.open")
    summary.click()
    assert category.evaluate("d => d.open")
    study = category.locator("details.study").first
    study.locator("> summary").click()
    assert study.locator(".claim").is_visible()
    assert page.locator("#outline-svg svg").count() == 1
    shot(page, "outline")


def test_corpus_map_point_opens_its_paper(server, page):
    page.goto(f"{server}/map")
    point = page.locator("#corpus-map a.point").first
    point.wait_for()
    paper_id = point.get_attribute("data-id")
    assert page.locator("#corpus-map a.point").count() >= 200
    shot(page, "map")
    point.locator("circle").click()
    page.wait_for_url(f"**/paper/{paper_id}")
    assert page.inner_text("#paper-title")


def test_bad_upload_shows_the_cli_one_line_error(server, page):
    page.goto(f"{server}/ingest")
    page.set_input_files(
        "#ingest-file",
        files=[{"name": "bad.jsonl", "mimeType": "application/jsonl", "buffer": b'{"title": "no abstract here"}\n'}],
    )
    page.click("#ingest-form button[type=submit]")
    error = page.locator("#ingest-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "error: bad.jsonl:1: 'abstract' must be a non-empty string (missing)"
    shot(page, "ingest")


def test_bibtex_downloads_parse_with_the_paper_ids_as_keys(server, page):
    import bibtexparser
    import httpx

    page.goto(f"{server}/paper/breadcrumbs-2023")
    page.click("#cite > summary")
    page.wait_for_function("document.querySelector('#bibtex').textContent.includes('@')")
    with page.expect_download() as info:
        page.click("#bibtex-button")
    lib = bibtexparser.parse_string(Path(info.value.path()).read_text(encoding="utf-8"))
    assert [e.key for e in lib.entries] == ["breadcrumbs-2023"]
    assert "Model Breadcrumbs" in lib.entries[0]["title"]

    page.goto(f"{server}/outline?topic=model+merging")
    with page.expect_download() as info:
        page.click("#bibtex-button")
    keys = [e.key for e in bibtexparser.parse_string(Path(info.value.path()).read_text(encoding="utf-8")).entries]
    outline = httpx.get(f"{server}/api/outline", params={"topic": "model merging"}, timeout=WAIT_MS / 1000).json()
    assert keys == [r["paper_id"] for r in outline["references"]]


def test_parallel_searches_while_an_upload_is_ingested(server):
    import httpx

    query = {"q": "weight averaging of fine-tuned models", "k": 5}
    before = httpx.get(f"{server}/api/search", params=query, timeout=WAIT_MS / 1000).json()["hits"]
    record = {
        "title": "Concurrent Ingest Probe: Protein Folding with Lattice Models",
        "abstract": "We fold proteins on a cubic lattice. The probe checks that uploads and searches do not interfere.",
    }

    def search(_):
        r = httpx.get(f"{server}/api/search", params=query, timeout=WAIT_MS / 1000)
        return r.status_code, r.json()

    def upload():
        return httpx.post(
            f"{server}/api/ingest",
            params={"filename": "probe.jsonl", "wait": True},
            content=json.dumps(record).encode() + b"\n",
            timeout=WAIT_MS / 1000,
        )

    with ThreadPoolExecutor(21) as pool:
        ingest = pool.submit(upload)
        results = list(pool.map(search, range(20)))
    assert ingest.result().status_code == 200, ingest.result().text
    assert ingest.result().json()["report"]["added"] == 1
    after = httpx.get(f"{server}/api/search", params=query, timeout=WAIT_MS / 1000).json()["hits"]
    assert [code for code, _ in results] == [200] * 20
    assert all(data["hits"] in (before, after) for _, data in results)
    probe = httpx.get(f"{server}/api/search", params={"q": "protein folding cubic lattice", "k": 1}).json()
    assert probe["hits"][0]["title"] == record["title"]


def test_good_upload_shows_progress_then_the_report(server, page):
    record = {
        "title": "Browser Upload Probe: Retrieval for Tide Tables",
        "abstract": "We index tide tables for retrieval. The probe checks the upload page end to end.",
    }
    page.goto(f"{server}/ingest")
    page.set_input_files(
        "#ingest-file",
        files=[{"name": "probe2.jsonl", "mimeType": "application/jsonl", "buffer": json.dumps(record).encode()}],
    )
    page.click("#ingest-form button[type=submit]")
    page.wait_for_selector("#ingest-state.done")
    assert "1 added" in page.inner_text("#ingest-state")
    assert page.locator("#ingest-error").is_hidden()
    page.goto(f"{server}/search?q=tide+tables+retrieval&k=3")
    assert "Browser Upload Probe" in page.locator("#results .hit .title").first.inner_text()
