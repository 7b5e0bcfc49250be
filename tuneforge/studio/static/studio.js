// tuneforge studio: live charts, actions and job logs. Plain DOM, no libraries: the studio works offline.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let reloading = false;

function reloadOnce() {
  // The run's poller and a job's poller may both see the same ending: one reload is enough.
  if (!reloading) { reloading = true; location.reload(); }
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body || {}),
  });
  const payload = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw payload;
  return payload;
}

function showProblem(target, problem) {
  // The CLI's message as the page shows it: title, problems, fix.
  target.innerHTML = "";
  const box = document.createElement("section");
  box.className = "problem";
  box.setAttribute("role", "alert");
  const title = document.createElement("h1");
  title.textContent = problem.error || (problem.detail ? "The request was not understood" : "Failed");
  box.appendChild(title);
  const lines = problem.problems || (Array.isArray(problem.detail) ? problem.detail.map((d) => `${d.loc.join(".")}: ${d.msg}`) : []);
  if (lines.length) {
    const list = document.createElement("ul");
    for (const line of lines) { const item = document.createElement("li"); item.textContent = line; list.appendChild(item); }
    box.appendChild(list);
  }
  if (problem.fix) { const fix = document.createElement("p"); fix.className = "fix"; fix.textContent = "Fix: " + problem.fix; box.appendChild(fix); }
  target.appendChild(box);
}

// ---- charts -------------------------------------------------------------------------------------------
const CHARTS = [
  { title: "loss", series: [["loss", "#2f6fdb"], ["eval_loss", "#e07b00"]] },
  { title: "learning rate", series: [["learning_rate", "#7a4fd6"]] },
  { title: "grad norm", series: [["grad_norm", "#1f8a4c"]] },
  { title: "reward", match: (key) => key === "reward" || key.startsWith("rewards/") },
];

function seriesOf(chart, records) {
  let series = chart.series;
  if (chart.match) {
    const keys = new Set();
    records.forEach((r) => Object.keys(r).forEach((k) => chart.match(k) && !k.endsWith("/std") && keys.add(k)));
    const colours = ["#c23a2b", "#2f6fdb", "#1f8a4c", "#e07b00", "#7a4fd6"];
    series = [...keys].map((k, i) => [k, colours[i % colours.length]]);
  }
  return series
    .map(([key, colour]) => [key, colour, records.filter((r) => typeof r[key] === "number").map((r) => [r.step, r[key]])])
    .filter(([, , points]) => points.length);
}

function drawChart(chart, records) {
  const found = seriesOf(chart, records);
  if (!found.length) return null;
  const width = 420, height = 220, left = 52, bottom = 28, top = 22, right = 10;
  const all = found.flatMap(([, , points]) => points);
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1e-12);
  const sx = (x) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const sy = (y) => height - bottom - ((y - y0) / (y1 - y0 || 1)) * (height - top - bottom);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("class", "chart");
  svg.dataset.chart = chart.title;
  const text = (x, y, content, anchor) => {
    const t = document.createElementNS(SVG, "text");
    t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("text-anchor", anchor || "start");
    t.textContent = content; svg.appendChild(t);
  };
  text(left, 14, chart.title);
  text(left - 4, sy(y1) + 4, y1.toPrecision(3), "end");
  text(left - 4, sy(y0) + 4, y0.toPrecision(3), "end");
  text(sx(x0), height - 8, `step ${x0}`);
  text(width - right, height - 8, `${x1}`, "end");
  const axis = document.createElementNS(SVG, "path");
  axis.setAttribute("d", `M${left},${top} V${height - bottom} H${width - right}`);
  axis.setAttribute("stroke", "#b8c0cc"); axis.setAttribute("fill", "none");
  svg.appendChild(axis);
  found.forEach(([key, colour, points], index) => {
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", colour); line.setAttribute("stroke-width", "1.8");
    line.dataset.series = key; line.dataset.points = points.length;
    svg.appendChild(line);
    if (points.length < 40) points.forEach(([x, y]) => {  // a run's first points are visible before they join up
      const dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("cx", sx(x).toFixed(1)); dot.setAttribute("cy", sy(y).toFixed(1)); dot.setAttribute("r", "2.5");
      dot.setAttribute("fill", colour);
      svg.appendChild(dot);
    });
    text(width - right - 4, top + 12 * index, `${key} (${points[points.length - 1][1].toPrecision(4)})`, "end");
    svg.lastChild.setAttribute("fill", colour);
  });
  return svg;
}

function formatSeconds(s) {
  if (s == null) return "—";
  const m = Math.floor(s / 60);
  return m ? `${m} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`;
}

function startLiveRun(live) {
  const records = [];
  let next = 0;
  const initialStatus = live.dataset.status;
  async function poll() {
    let payload;
    try {
      const response = await fetch(`${live.dataset.metrics}?after=${next}`, { headers: { accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      payload = await response.json();
    } catch (error) {  // a busy or restarting studio: try again, the run goes on without us
      setTimeout(poll, 2000);
      return;
    }
    records.push(...payload.records);
    next = payload.next;
    show(payload);
    if (payload.status !== initialStatus && initialStatus === "running") { reloadOnce(); return; }
    if (payload.status === "running") setTimeout(poll, 1000);
  }
  function show(payload) {
    const charts = document.getElementById("charts");
    charts.replaceChildren(...CHARTS.map((c) => drawChart(c, records)).filter(Boolean));
    charts.dataset.records = records.length;
    const p = payload.progress;
    document.getElementById("progress-step").textContent = p.total ? `${p.step} / ${p.total}` : `${p.step}`;
    document.getElementById("progress-eta").textContent = payload.status === "running" ? formatSeconds(p.eta_s) : "—";
    if (typeof p.tokens_per_s === "number") document.getElementById("progress-tps").textContent = p.tokens_per_s.toPrecision(3);
    const status = document.getElementById("run-status");
    status.textContent = payload.status; status.className = `status-${payload.status}`;
  }
  poll();
}

// ---- actions and jobs -----------------------------------------------------------------------------------
function formBody(form) {
  const data = new FormData(form);
  return {
    formats: data.getAll("formats"),
    quants: (data.get("quants") || "").split(",").map((q) => q.trim()).filter(Boolean),
    evaluate: data.get("evaluate") === "on",
  };
}

function wireActions() {
  const result = document.getElementById("action-result");
  document.querySelectorAll("button[data-post]").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try { await postJSON(button.dataset.post); location.reload(); } catch (problem) { showProblem(result, problem); button.disabled = false; }
    });
  });
  const exportForm = document.getElementById("export-form");
  if (exportForm) exportForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await postJSON(exportForm.dataset.post, formBody(exportForm)); location.reload(); } catch (problem) { showProblem(result, problem); }
  });
}

function followJobs() {
  document.querySelectorAll("details.job").forEach((details) => {
    const log = details.querySelector(".job-log");
    async function poll() {
      const response = await fetch(`/api/jobs/${details.dataset.job}`, { headers: { accept: "application/json" } });
      if (!response.ok) return;
      const payload = await response.json();
      log.textContent = payload.log;
      log.scrollTop = log.scrollHeight;
      details.querySelector(".job-state").textContent = payload.job.state;
      if (payload.job.alive) setTimeout(poll, 1500);
      else if (details.dataset.wasAlive) reloadOnce();
      details.dataset.wasAlive = payload.job.alive ? "1" : "";
    }
    poll();
  });
}

function wireTraining() {
  const form = document.getElementById("train-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      recipe: form.dataset.recipe,
      profile: data.get("profile") || null,
      overrides: (data.get("overrides") || "").split("\n").map((l) => l.trim()).filter(Boolean),
      devices: data.get("devices") ? Number(data.get("devices")) : null,
    };
    try { const started = await postJSON("/api/train", body); location.href = started.run_url; }
    catch (problem) { showProblem(document.getElementById("train-result"), problem); }
  });
}

function wireCompare() {
  const form = document.getElementById("compare-form");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = [...form.querySelectorAll("input[name=pick]:checked")].map((box) => box.value);
    if (picked.length !== 2) { alert("Pick two runs to compare."); return; }
    location.href = `/compare?a=${encodeURIComponent(picked[0])}&b=${encodeURIComponent(picked[1])}`;
  });
}

function wireCopyButtons() {
  document.querySelectorAll("button.copy").forEach((button) => {
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(document.getElementById(button.dataset.copy).textContent);
      button.textContent = "Copied";
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  wireCopyButtons();
  const live = document.getElementById("live");
  if (live) startLiveRun(live);
  wireActions();
  followJobs();
  wireTraining();
  wireCompare();
});
