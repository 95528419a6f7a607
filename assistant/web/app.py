"""The FastAPI app: server-rendered pages and the JSON API under /api/, over one warm Assistant."""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..errors import QueryError, ReviewError
from ..models import Answer, IndexStats, Outline, Paper, SearchResult
from .state import Warm, error_line
from .views import answer_blocks, highlight_terms, hit_year, paper_year, supporting_sentences

if TYPE_CHECKING:
    from ..api import Assistant

__all__ = ["create_app"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MAX_UPLOAD = 50 * 1024 * 1024  # bytes; a corpus of abstracts this size is ~50,000 papers
_SVG_LINK = re.compile(r'(xlink:href|href)="#([^"]+)"')


def create_app(assistant: Assistant | None = None) -> FastAPI:
    """The web app over ``assistant`` (default: one on the resolved settings), kept warm."""
    if assistant is None:
        from ..api import Assistant

        assistant = Assistant()
    warm = Warm(assistant)
    app = FastAPI(
        title="review",
        summary="A local literature-review assistant: search, cited answers, outlines.",
        description="The JSON API mirrors the CLI's `--json` outputs. All routes are local and offline.",
        version="0.1.0",
        docs_url=None,  # Swagger UI loads from a CDN; /docs is rendered here from /openapi.json instead
        redoc_url=None,
    )
    app.state.warm = warm
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    @app.exception_handler(ReviewError)
    async def review_error(request: Request, exc: ReviewError) -> Response:
        status = 404 if isinstance(exc, QueryError) and "no paper with id" in str(exc) else 400
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": error_line(exc)}, status_code=status)
        return page(request, "error.html", status_code=status, error=error_line(exc))

    # -- JSON API -------------------------------------------------------------------------

    def _search(q: str, k: int, rerank: bool | None, year_from: int | None, year_to: int | None) -> SearchResult:
        filtered = year_from is not None or year_to is not None
        with warm.rw.read():
            result = assistant.search(q, max(k * 5, 50) if filtered else k, rerank=rerank)
        if filtered:
            lo, hi = year_from or 0, year_to or 9999
            result.hits = [h for h in result.hits if (y := hit_year(h)) is not None and lo <= y <= hi][:k]
        return result

    @app.get("/api/search", response_model=SearchResult, tags=["api"])
    def api_search(
        q: Annotated[str, Query(description="What to look for, in your own words.")],
        k: Annotated[int, Query(ge=1, le=200, description="Number of papers.")] = 10,
        rerank: Annotated[bool | None, Query(description="Rescore with the relevance model.")] = None,
        year_from: Annotated[int | None, Query(description="Only papers dated this year or later.")] = None,
        year_to: Annotated[int | None, Query(description="Only papers dated this year or earlier.")] = None,
    ) -> SearchResult:
        """Rank papers for a query (`review search --json`)."""
        return _search(q, k, rerank, year_from, year_to)

    def _ask(q: str, k: int | None, mode: str | None, on_text=None) -> Answer:
        with warm.rw.read(), warm.llm_lock:
            return assistant.ask(q, k=k, mode=mode, on_text=on_text)

    @app.get("/api/ask", response_model=Answer, tags=["api"])
    def api_ask(
        q: Annotated[str, Query(description="The question.")],
        k: Annotated[int | None, Query(ge=1, le=50, description="Papers given as sources.")] = None,
        mode: Annotated[str | None, Query(description="auto | generative | extractive")] = None,
    ) -> Answer:
        """A cited answer, each citation checked by the support judge (`review ask --json`)."""
        return _ask(q, k, mode)

    def _outline(topic: str, depth: int | None, mode: str | None) -> Outline:
        if mode is not None and mode not in ("auto", "generative", "extractive"):
            raise QueryError(f"unknown mode {mode!r}: use auto or extractive")
        with warm.rw.read():
            return warm.outline(topic, depth, mode)

    @app.get("/api/outline", response_model=Outline, tags=["api"])
    def api_outline(
        topic: Annotated[str, Query(description="The review topic, e.g. 'model merging'.")],
        depth: Annotated[int | None, Query(ge=1, le=4)] = None,
        mode: Annotated[str | None, Query(description="auto | extractive")] = None,
    ) -> Outline:
        """A hierarchical related-work outline (`review outline --format json`)."""
        return _outline(topic, depth, mode)

    @app.get("/api/outline.svg", tags=["api"], response_class=Response)
    def api_outline_svg(
        topic: str, depth: Annotated[int | None, Query(ge=1, le=4)] = None, mode: str | None = None
    ) -> Response:
        """The outline drawn by Graphviz (`review outline --format svg`)."""
        return Response(_outline(topic, depth, mode).to_svg(), media_type="image/svg+xml")

    @app.get("/api/paper/{paper_id}", response_model=Paper, tags=["api"])
    def api_paper(paper_id: str) -> Paper:
        """One paper (`review show --json`)."""
        with warm.rw.read():
            return assistant.paper(paper_id)

    def _similar(paper_id: str, n: int = 5) -> list[dict]:
        from .corpusmap import similar

        with warm.rw.read():
            ids, matrix = warm.paper_vectors()
            near = similar(ids, matrix, paper_id, n)
            papers = {p.id: p for p in assistant.index.papers([pid for pid, _ in near])}
        return [
            {"paper_id": pid, "title": papers[pid].title, "date": papers[pid].when, "similarity": round(s, 4)}
            for pid, s in near
            if pid in papers
        ]

    @app.get("/api/paper/{paper_id}/similar", tags=["api"])
    def api_similar(paper_id: str, n: Annotated[int, Query(ge=1, le=50)] = 5) -> list[dict]:
        """The papers nearest to this one by embedding cosine."""
        api_paper(paper_id)  # an unknown id is a 404
        return _similar(paper_id, n)

    @app.get("/api/stats", response_model=IndexStats, tags=["api"])
    def api_stats() -> IndexStats:
        """What the index holds (`review stats --json`)."""
        with warm.rw.read():
            return assistant.stats()

    @app.get("/api/map", tags=["api"])
    def api_map() -> dict:
        """The corpus map: 2-D PCA coordinates, k-means cluster and cluster names."""
        with warm.rw.read():
            cmap = warm.corpus_map()
        return {"clusters": cmap.names, "points": cmap.points()}

    @app.get("/api/bibtex", tags=["api"], response_class=PlainTextResponse)
    def api_bibtex(
        ids: Annotated[str, Query(description="Comma-separated paper ids.")],
        download: Annotated[bool, Query(description="Send as a file download.")] = False,
    ) -> Response:
        """BibTeX entries of these papers, keyed by their ids (`review export`)."""
        try:
            from ..export import papers_to_bibtex
        except ImportError:  # pragma: no cover - the export module ships with review
            return JSONResponse({"error": "BibTeX export is not available in this version"}, status_code=501)
        wanted = [i for i in (x.strip() for x in ids.split(",")) if i]
        with warm.rw.read():
            papers = assistant.index.papers(wanted)
        missing = sorted(set(wanted) - {p.id for p in papers})
        if missing:
            raise QueryError(f"no paper with id {missing[0]!r} in the index: `review search` shows ids")
        order = {pid: i for i, pid in enumerate(wanted)}
        text = papers_to_bibtex(sorted(papers, key=lambda p: order[p.id]))
        headers = {"Content-Disposition": 'attachment; filename="references.bib"'} if download else {}
        return PlainTextResponse(text, media_type="application/x-bibtex; charset=utf-8", headers=headers)

    @app.post("/api/ingest", tags=["api"], status_code=202)
    async def api_ingest(
        request: Request,
        filename: Annotated[str, Query(description="The file's name; its extension picks the format.")],
        strict: Annotated[bool, Query(description="Refuse the file when any record is bad (as --strict).")] = True,
        wait: Annotated[bool, Query(description="Answer when the ingest is done instead of at once.")] = False,
    ) -> Response:
        """Ingest a JSONL/BibTeX/Daily Papers file sent as the request body (`review ingest`).

        Answers 202 with a job to poll at /api/ingest/{job}; with ``wait``, 200 with the finished job
        or 400 with ``{"error": <the CLI's one line>}``."""
        from starlette.concurrency import run_in_threadpool

        data = await request.body()
        if len(data) > MAX_UPLOAD:
            return JSONResponse({"error": f"the file is larger than {MAX_UPLOAD // 2**20} MB"}, status_code=413)
        path = await run_in_threadpool(warm.save_upload, filename, data)
        if wait:
            from .state import IngestJob

            job = IngestJob(id="sync", filename=path.name)
            await run_in_threadpool(warm.run_ingest, job, path, strict)
            return JSONResponse(job.view(), status_code=400 if job.error else 200)
        job = warm.start_ingest(path, strict=strict)
        return JSONResponse(job.view(), status_code=202)

    @app.get("/api/ingest/{job_id}", tags=["api"])
    def api_ingest_job(job_id: str) -> dict:
        """Progress of an upload: state, done/total papers, the report or the error line."""
        job = warm.jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no ingest job {job_id!r}"}, status_code=404)
        return job.view()

    # -- pages ----------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/search")

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
        q: str = "",
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        year_from: str = "",
        year_to: str = "",
    ) -> HTMLResponse:
        years = [int(y) if y.strip().isdigit() else None for y in (year_from, year_to)]
        result = _search(q, k, None, years[0], years[1]) if q.strip() else None
        return page(
            request,
            "search.html",
            active="search",
            q=q,
            k=k,
            year_from=year_from,
            year_to=year_to,
            result=result,
            hit_year=hit_year,
            highlight=highlight_terms,
        )

    @app.get("/ask", response_class=HTMLResponse, include_in_schema=False)
    def ask_page(request: Request, q: str = "", mode: str = "", sync: bool = False) -> HTMLResponse:
        answer_html = _answer_html(q, None, mode or None) if q.strip() and sync else None
        return page(request, "ask.html", active="ask", q=q, mode=mode, answer_html=answer_html)

    def _answer_html(q: str, k: int | None, mode: str | None, answer: Answer | None = None) -> str:
        answer = answer or _ask(q, k, mode)
        ids = [r.paper_id for r in answer.references]
        with warm.rw.read():
            papers = {p.id: p for p in assistant.index.papers(ids)} if ids else {}
        return templates.get_template("_answer.html").render(
            answer=answer, blocks=answer_blocks(answer, papers), ids=",".join(ids)
        )

    @app.get("/ask/stream", include_in_schema=False)
    def ask_stream(q: str, k: int | None = None, mode: str | None = None) -> StreamingResponse:
        """NDJSON events: ``draft`` pieces as the model writes, then ``answer`` (HTML and JSON) or ``error``."""
        events: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                answer = _ask(q, k, mode or None, on_text=lambda piece: events.put({"event": "draft", "text": piece}))
                events.put({"event": "status", "text": "rendering"})
                html = _answer_html(q, k, mode, answer)
                events.put({"event": "answer", "html": html, "answer": answer.model_dump(mode="json", by_alias=True)})
            except Exception as exc:
                log.debug("ask failed", exc_info=True)
                events.put({"event": "error", "error": error_line(exc)})
            events.put(None)

        def stream() -> Iterator[str]:
            yield json.dumps({"event": "status", "text": "retrieving and checking"}) + "\n"
            threading.Thread(target=work, daemon=True, name="ask").start()
            while (event := events.get()) is not None:
                yield json.dumps(event, ensure_ascii=False) + "\n"

        return StreamingResponse(stream(), media_type="application/x-ndjson")

    @app.get("/outline", response_class=HTMLResponse, include_in_schema=False)
    def outline_page(request: Request, topic: str = "", depth: str = "", mode: str = "") -> HTMLResponse:
        result = svg = None
        if topic.strip():
            result = _outline(topic, int(depth) if depth.isdigit() else None, mode or None)
            svg = _outline_svg(result)
        studies = {s.paper_id: s for s in result.studies} if result else {}
        papers: dict[str, Paper] = {}
        if result:
            with warm.rw.read():
                papers = {p.id: p for p in assistant.index.papers(list(studies))}
        ids = ",".join(r.paper_id for r in result.references) if result else ""
        return page(
            request,
            "outline.html",
            active="outline",
            topic=topic,
            depth=depth,
            mode=mode,
            outline=result,
            svg=svg,
            studies=studies,
            papers=papers,
            ids=ids,
        )

    def _outline_svg(result: Outline) -> str | None:
        from markupsafe import Markup

        svg = result._repr_svg_()
        if svg is None:
            return None
        # Graphviz links studies to "#<id>": on this site a study's page is /paper/<id>.
        return Markup(_SVG_LINK.sub(lambda m: f'{m.group(1)}="/paper/{m.group(2)}"', svg))

    @app.get("/paper/{paper_id}", response_class=HTMLResponse, include_in_schema=False)
    def paper_page(request: Request, paper_id: str, claim: str = "", n: str = "") -> HTMLResponse:
        with warm.rw.read():
            paper = assistant.paper(paper_id)
        from ..text import split_sentences

        sentences = split_sentences(paper.abstract)
        marked = set(supporting_sentences(paper.abstract, claim)) if claim.strip() else set()
        score = None
        if claim.strip():
            with warm.rw.read():
                score = warm.support(paper.abstract, claim)
        return page(
            request,
            "paper.html",
            active="",
            paper=paper,
            year=paper_year(paper),
            sentences=sentences,
            marked=marked,
            claim=claim,
            n=n,
            score=score,
            threshold=assistant.settings.judge.threshold,
            similar=_similar(paper.id),
        )

    @app.get("/map", response_class=HTMLResponse, include_in_schema=False)
    def map_page(request: Request) -> HTMLResponse:
        from markupsafe import Markup

        from .corpusmap import PALETTE, to_svg

        with warm.rw.read():
            cmap = warm.corpus_map()
        counts = [int((cmap.clusters == j).sum()) for j in range(len(cmap.names))]
        legend = [(PALETTE[j % len(PALETTE)], name, counts[j]) for j, name in enumerate(cmap.names)]
        return page(request, "map.html", active="map", svg=Markup(to_svg(cmap)), legend=legend, n=len(cmap.papers))

    @app.get("/ingest", response_class=HTMLResponse, include_in_schema=False)
    def ingest_page(request: Request) -> HTMLResponse:
        with warm.rw.read():
            stats = assistant.stats()
        return page(request, "ingest.html", active="ingest", stats=stats)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs_page(request: Request) -> HTMLResponse:
        spec = app.openapi()
        routes = [
            (path, method.upper(), op)
            for path, methods in spec.get("paths", {}).items()
            for method, op in methods.items()
        ]
        return page(request, "docs.html", active="docs", routes=routes)

    return app
