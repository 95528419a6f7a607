// review: the little JavaScript the pages need (no framework, no build step, works offline).
"use strict";

function $(sel, root) { return (root || document).querySelector(sel); }

// Ask: stream the draft as the model writes it, then show the checked answer.
async function streamAnswer(box) {
  const q = box.dataset.q;
  if (!q || box.children.length) return;
  const status = $("#ask-status"), draft = $("#draft");
  status.hidden = false;
  const params = new URLSearchParams({ q: q });
  if (box.dataset.mode) params.set("mode", box.dataset.mode);
  try {
    const response = await fetch("/ask/stream?" + params.toString());
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let at;
      while ((at = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        if (line.trim()) handle(JSON.parse(line));
      }
    }
  } catch (err) {
    handle({ event: "error", error: "the server did not answer: " + err });
  }
  function handle(ev) {
    if (ev.event === "status") {
      $(".text", status).textContent = ev.text === "rendering" ? "checking citations done; rendering" : ev.text;
    } else if (ev.event === "draft") {
      draft.hidden = false;
      draft.textContent += ev.text;
      $(".text", status).textContent = "the model is writing; every statement is checked before it is shown";
    } else if (ev.event === "answer") {
      status.hidden = true;
      draft.hidden = true;
      box.innerHTML = ev.html;
    } else if (ev.event === "error") {
      status.hidden = true;
      const p = document.createElement("p");
      p.className = "error";
      p.id = "error-line";
      p.textContent = "error: " + ev.error;
      box.replaceChildren(p);
    }
  }
}

// Ingest: send the file as the request body, then poll the job for progress.
function setupIngest(form) {
  const bar = $("#ingest-progress"), state = $("#ingest-state"), error = $("#ingest-error"), skipped = $("#ingest-skipped");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("#ingest-file").files[0];
    if (!file) return;
    error.hidden = true;
    skipped.replaceChildren();
    bar.hidden = false;
    bar.removeAttribute("value");
    state.hidden = false;
    state.textContent = "uploading " + file.name;
    const params = new URLSearchParams({ filename: file.name, strict: String(!$("#ingest-skip").checked) });
    let job;
    try {
      const response = await fetch("/api/ingest?" + params.toString(), { method: "POST", body: file });
      job = await response.json();
      if (!response.ok && !job.id) throw new Error(job.error || response.statusText);
    } catch (err) {
      show({ state: "error", error: String(err.message || err) });
      return;
    }
    while (job.state !== "done" && job.state !== "error") {
      show(job);
      await new Promise((r) => setTimeout(r, 400));
      job = await (await fetch("/api/ingest/" + job.id)).json();
    }
    show(job);
  });
  function show(job) {
    if (job.state === "error") {
      bar.hidden = true;
      state.hidden = true;
      error.hidden = false;
      error.textContent = "error: " + job.error;
      return;
    }
    if (job.total) { bar.max = job.total; bar.value = job.done; }
    for (const line of job.skipped || []) {
      if (skipped.children.length < job.skipped.length) {
        const li = document.createElement("li");
        li.textContent = "skipped " + line;
        skipped.append(li);
      }
    }
    if (job.state === "done") {
      const r = job.report;
      bar.max = 1; bar.value = 1;
      state.textContent = `${job.filename}: ${r.papers_seen} papers: ${r.added} added, ${r.updated} updated, ${r.unchanged} unchanged; ${r.chunks_embedded} chunks embedded in ${r.seconds.toFixed(1)}s`;
      state.id = "ingest-state";
      state.classList.add("done");
    } else {
      state.textContent = `${job.filename}: ${job.state}` + (job.total ? ` ${job.done}/${job.total}` : "");
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const answer = $("#answer");
  if (answer) streamAnswer(answer);
  const ingest = $("#ingest-form");
  if (ingest) setupIngest(ingest);
  const outlineForm = $("#outline-form");
  if (outlineForm) outlineForm.addEventListener("submit", () => { $("#outline-status").hidden = false; });
  const collapse = $("#collapse-all"), expand = $("#expand-all");
  if (collapse) collapse.addEventListener("click", () => document.querySelectorAll("details.category").forEach((d) => { d.open = false; }));
  if (expand) expand.addEventListener("click", () => document.querySelectorAll("details.category").forEach((d) => { d.open = true; }));
  const bib = $("#bibtex[data-src]");
  if (bib) {
    fetch(bib.dataset.src).then((r) => r.text().then((t) => { bib.textContent = r.ok ? t : "BibTeX unavailable: " + t; }));
  }
});
