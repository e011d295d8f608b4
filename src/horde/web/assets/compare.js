// Two runs on the same charts: each run's per-second history against the seconds since its own
// start, the baseline dashed, the candidate solid. Shared by the web UI's comparison view and
// the offline comparison report. Needs uPlot (window.uPlot).
(function () {
  "use strict";

  const CHARTS = [
    { id: "p95", title: "p95 of each second", unit: "ms", get: (r) => (r.requests ? r.p95 : null) },
    { id: "p50", title: "Median of each second", unit: "ms", get: (r) => (r.requests ? r.p50 : null) },
    { id: "p99", title: "p99 of each second", unit: "ms", get: (r) => (r.requests ? r.p99 : null) },
    { id: "rps", title: "Throughput", unit: "req/s", get: (r) => r.rps },
  ];
  const live = new Set();
  // Whole seconds and up on the time axis (rows are seconds).
  const SECOND_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

  function colours() {
    const css = getComputedStyle(document.documentElement);
    const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    return {
      axis: read("--chart-axis", "#4b5563"),
      grid: read("--chart-grid", "#e5e7eb"),
      baseline: read("--series-planned", "#90a4ae"),
      candidate: read("--series-p95", "#ef6c00"),
    };
  }

  function number(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "-";
    const a = Math.abs(v);
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: a >= 100 ? 0 : a >= 10 ? 1 : 2 });
  }

  // The union of both runs' seconds since start; each run's values where it has a row.
  function columns(baseline, candidate, chart) {
    const points = new Map();
    const put = (rows, start, slot) => {
      for (const r of rows) {
        const t = Math.round((r.timestamp - start) * 10) / 10;
        if (!points.has(t)) points.set(t, [null, null]);
        points.get(t)[slot] = chart.get(r);
      }
    };
    put(baseline.rows, baseline.start, 0);
    put(candidate.rows, candidate.start, 1);
    const xs = Array.from(points.keys()).sort((a, b) => a - b);
    return [xs, xs.map((t) => points.get(t)[0]), xs.map((t) => points.get(t)[1])];
  }

  // baseline/candidate: {label, start, rows}. Returns {resize(width), destroy()}.
  function overlay(container, baseline, candidate, width) {
    const c = colours();
    const axis = { stroke: c.axis, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } };
    const w = width || Math.max(320, container.clientWidth - 20);
    const plots = CHARTS.map((chart) => {
      const box = document.createElement("div");
      box.className = "chart";
      box.dataset.chart = "compare-" + chart.id;
      const title = document.createElement("h2");
      title.textContent = chart.title + " (" + chart.unit + "), by seconds since each run's start";
      box.appendChild(title);
      container.appendChild(box);
      const series = [
        { label: "Seconds", value: (u, v) => (v === null ? "-" : number(v) + " s") },
        { label: baseline.label, stroke: c.baseline, width: 2, dash: [6, 4], spanGaps: true,
          points: { show: false }, value: (u, v) => (v === null ? "-" : number(v) + " " + chart.unit) },
        { label: candidate.label, stroke: c.candidate, width: 2, spanGaps: true,
          points: { show: false }, value: (u, v) => (v === null ? "-" : number(v) + " " + chart.unit) },
      ];
      const options = {
        width: w, height: 220, series,
        scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] } },
        axes: [
          { ...axis, label: "s since start", labelSize: 18, incrs: SECOND_INCRS },
          { ...axis, label: chart.unit, size: 64, labelSize: 18, values: (u, t) => t.map(number) },
        ],
        legend: { live: true },
      };
      const plot = new uPlot(options, columns(baseline, candidate, chart), box);
      live.add(plot);
      return plot;
    });
    return {
      resize(width2) { for (const p of plots) p.setSize({ width: Math.max(320, width2), height: 220 }); },
      destroy() { for (const p of plots) { live.delete(p); p.destroy(); } container.replaceChildren(); },
    };
  }

  window.hordeCompare = { overlay, plots: () => Array.from(live) };
})();
