// The History tab: saved runs (newest first), one run as it was (read-only), and two runs
// compared. Reads /history/runs, /history/runs/{id} and /history/compare; changes nothing.
(function () {
  "use strict";

  const $ = (sel) => document.querySelector(sel);
  const VIEWS = ["#history-list-view", "#history-run-view", "#history-compare-view"];
  const METRICS = [["p50", "median"], ["p95", "p95"], ["p99", "p99"], ["rps", "throughput"], ["fail_ratio", "failure ratio"]];
  let runs = [];
  const selected = new Set();
  let runCharts = null;
  let compareCharts = null;

  const fmt = (v, digits) => (v === null || v === undefined ? "-" :
    Number(v).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 0 : digits }));
  const ms = (v) => (v === null || v === undefined ? "-" : v >= 10 ? fmt(v) : fmt(v, 1));
  const pct = (v) => (v === null || v === undefined ? "-" : fmt(100 * v, 2) + "%");
  const pad = (n) => String(n).padStart(2, "0");
  function when(seconds) {
    const d = new Date(seconds * 1000);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  const verdictClass = (v) => "verdict-" + String(v || "").replace(/ /g, "-");

  // Text only (never HTML): names, hosts and tags come from scenarios and targets.
  function cell(text, cls, title) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) td.className = cls;
    if (title) td.title = title;
    return td;
  }

  async function getJson(path) {
    const response = await fetch(path);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || path + ": " + response.status);
    return body;
  }

  function showView(id) {
    for (const view of VIEWS) $(view).classList.toggle("hidden", view !== id);
  }

  function showError(message) {
    const box = $("#history-error");
    box.textContent = message || "";
    box.classList.toggle("hidden", !message);
  }

  // The list ----------------------------------------------------------------------------------
  async function loadList() {
    showError("");
    try {
      const data = await getJson("/history/runs");
      runs = data.runs;
      $("#history-location").textContent = "History: " + data.location;
      $("#history-empty").textContent = data.message || "No runs saved yet: a test is saved here when it ends.";
    } catch (error) {
      runs = [];
      showError("Cannot read the history: " + error.message);
    }
    for (const id of Array.from(selected)) if (!runs.some((r) => r.id === id)) selected.delete(id);
    renderList();
  }

  function matches(run, filter) {
    if (!filter) return true;
    const text = [run.scenario, run.host, run.load, run.verdict, (run.tags || []).join(" "), "#" + run.id]
      .join(" ").toLowerCase();
    return filter.toLowerCase().split(/\s+/).every((word) => text.includes(word));
  }

  function renderList() {
    const filter = $("#history-filter").value.trim();
    const rows = runs.filter((r) => matches(r, filter)).map((run) => {
      const tr = document.createElement("tr");
      tr.dataset.id = run.id;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = selected.has(run.id);
      box.title = "Select two runs to compare them";
      box.addEventListener("click", (event) => {
        event.stopPropagation();
        if (box.checked) selected.add(run.id); else selected.delete(run.id);
        while (selected.size > 2) selected.delete(selected.values().next().value);
        renderList();
      });
      const pick = document.createElement("td");
      pick.className = "select";
      pick.appendChild(box);
      tr.appendChild(pick);
      tr.append(
        cell("#" + run.id, "num"), cell(when(run.started_at), "time"), cell(run.scenario),
        cell(run.host), cell(run.load), cell(fmt(run.requests), "num"), cell(pct(run.fail_ratio), "num"),
        cell(ms(run.p95), "num"), cell(run.verdict || "-"), cell((run.tags || []).join(", ")),
      );
      tr.addEventListener("click", () => openRun(run.id));
      return tr;
    });
    $("#history-table tbody").replaceChildren(...rows);
    $("#history-empty").classList.toggle("hidden", rows.length > 0);
    const button = $("#history-compare-button");
    button.disabled = selected.size !== 2;
    button.textContent = selected.size === 2 ? "Compare the two selected" : "Select two runs to compare";
  }

  // One run, as it was ----------------------------------------------------------------------
  function fact(label, value) {
    const div = document.createElement("div");
    const span = document.createElement("span");
    span.textContent = label;
    const b = document.createElement("b");
    b.textContent = value;
    div.append(span, b);
    return div;
  }

  function statsRow(row) {
    const p = row.percentiles || {};
    const tr = document.createElement("tr");
    tr.append(cell(row.method), cell(row.name), cell(fmt(row.num_requests), "num"),
      cell(fmt(row.num_failures), "num"), cell(ms(row.median_response_time), "num"),
      cell(ms(row.avg_response_time), "num"), cell(ms(row.min_response_time), "num"),
      cell(ms(row.max_response_time), "num"), cell(ms(p["90"]), "num"), cell(ms(p["95"]), "num"),
      cell(ms(p["99"]), "num"), cell(fmt(row.total_rps, 1), "num"));
    return tr;
  }

  async function openRun(id) {
    showError("");
    let data;
    try {
      data = await getJson("/history/runs/" + encodeURIComponent(id));
    } catch (error) {
      showError(error.message);
      return;
    }
    const run = data.run;
    const doc = data.document || {};
    const meta = doc.meta || {};
    $("#run-title").textContent = "Run #" + run.id + (run.tags.length ? " (" + run.tags.join(", ") + ")" : "") +
      ": " + run.scenario + " on " + (run.host || "-");
    const commit = run.git_commit ? run.git_commit.slice(0, 10) + (run.git_dirty ? " (uncommitted changes)" : "") : "-";
    $("#run-facts").replaceChildren(
      fact("Start", when(run.started_at)), fact("Duration", fmt(run.duration) + " s"),
      fact("Load", run.load), fact("Mode", run.mode), fact("Generator", run.machine),
      fact("Git", commit), fact("Ended because", meta.stop_reason || "-"), fact("Verdict", run.verdict || "-"),
    );
    const rows = (doc.stats || []).map(statsRow);
    $("#run-stats tbody").replaceChildren(...rows);
    $("#run-stats tfoot").replaceChildren(doc.total ? statsRow(doc.total) : "");
    showView("#history-run-view");
    if (runCharts) runCharts.destroy();
    const box = $("#run-charts");
    runCharts = window.hordeCharts.create(box, doc.history || [], {
      openModel: Boolean(meta.open_model), markers: [], width: Math.max(320, box.clientWidth - 20),
    });
  }

  // Two runs compared -------------------------------------------------------------------------
  function changeText(change) {
    if (change.change === null || change.low === null) return ["-", "-"];
    if (change.unit === "ratio") {
      return [(change.change >= 0 ? "+" : "") + fmt(100 * change.change, 1) + "%",
        fmt(100 * change.low, 1) + "% to " + fmt(100 * change.high, 1) + "%"];
    }
    return [(change.change >= 0 ? "+" : "") + fmt(100 * change.change, 2) + " pp",
      fmt(100 * change.low, 2) + " to " + fmt(100 * change.high, 2) + " pp"];
  }

  function valueText(metric, v) {
    if (v === null || v === undefined) return "-";
    if (metric === "rps") return fmt(v, 1) + "/s";
    if (metric === "fail_ratio") return pct(v);
    return ms(v) + " ms";
  }

  async function openComparison(baseline, candidate) {
    showError("");
    const query = "baseline=" + encodeURIComponent(baseline) + "&candidate=" + encodeURIComponent(candidate);
    let data;
    try {
      data = await getJson("/history/compare?" + query);
    } catch (error) {
      showError(error.message);
      return;
    }
    const banner = $("#compare-verdict");
    banner.textContent = data.headline;
    banner.className = "verdict-banner " + verdictClass(data.verdict);
    $("#compare-warnings").replaceChildren(...data.warnings.map((w) => {
      const li = document.createElement("li");
      li.textContent = w;
      return li;
    }));
    const rows = [];
    for (const row of data.rows) {
      const head = document.createElement("tr");
      head.className = "group";
      const td = cell((row.method + " " + row.name).trim() + ": ");
      td.colSpan = 6;
      const verdict = document.createElement("span");
      verdict.className = verdictClass(row.verdict);
      verdict.textContent = row.verdict;
      const counts = document.createElement("span");
      counts.className = "muted";
      counts.textContent = " (" + fmt(row.baseline_requests) + " and " + fmt(row.candidate_requests) +
        " requests)" + (row.note ? " (" + row.note + ")" : "");
      td.append(verdict, counts);
      head.appendChild(td);
      rows.push(head);
      for (const [metric, label] of METRICS) {
        const change = row.metrics[metric];
        const [shown, interval] = changeText(change);
        const tr = document.createElement("tr");
        const text = change.verdict === "not enough data" && change.reason ? change.verdict + ": " + change.reason : change.verdict;
        tr.append(cell(label), cell(valueText(metric, change.baseline), "num"),
          cell(valueText(metric, change.candidate), "num"), cell(shown, "num " + verdictClass(change.verdict)),
          cell(interval, "num interval", change.confidence ? fmt(100 * change.confidence, 2) + "% confidence" : ""),
          cell(text, verdictClass(change.verdict)));
        rows.push(tr);
      }
    }
    $("#compare-table tbody").replaceChildren(...rows);
    $("#compare-report").href = "/history/compare/report?download=1&" + query;
    const note = data.rows[data.rows.length - 1].metrics.p95.detectable;
    $("#compare-note").textContent = (note !== null ? "These two runs would catch a change of the aggregate p95 of " +
      fmt(100 * note, 1) + "% or more nine times in ten. " : "") + "Tolerance " + fmt(100 * data.tolerance) +
      "%; intervals from a block bootstrap over each run's seconds, Holm's correction across names and figures.";
    showView("#history-compare-view");
    if (compareCharts) compareCharts.destroy();
    const box = $("#history-compare-charts");
    compareCharts = window.hordeCompare.overlay(box, data.charts.baseline, data.charts.candidate,
      Math.max(320, box.clientWidth - 20));
  }

  // Wiring ------------------------------------------------------------------------------------
  $("#history-filter").addEventListener("input", renderList);
  $("#history-refresh").addEventListener("click", loadList);
  $("#history-compare-button").addEventListener("click", () => {
    const ids = Array.from(selected).sort((a, b) => a - b);  // the older run is the baseline
    if (ids.length === 2) openComparison(ids[0], ids[1]);
  });
  for (const back of document.querySelectorAll(".history-back")) {
    back.addEventListener("click", () => { showView("#history-list-view"); loadList(); });
  }
  // The start form stays out of the way while the History tab is open, and comes back after.
  let startWasShown = null;
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => {
      const start = $("#start-panel");
      if (tab.dataset.tab === "history") {
        if (startWasShown === null) startWasShown = !start.classList.contains("hidden");
        start.classList.add("hidden");
        showView("#history-list-view");
        loadList();
      } else if (startWasShown !== null) {
        if (startWasShown && $("#status-state").textContent === "ready") start.classList.remove("hidden");
        startWasShown = null;
      }
    });
  }
  window.addEventListener("resize", () => {
    if (runCharts) runCharts.resize($("#run-charts").clientWidth - 20);
    if (compareCharts) compareCharts.resize($("#history-compare-charts").clientWidth - 20);
  });
  window.hordeHistory = { loadList, openRun, openComparison };
})();
