// Charts of a run over time, shared by the live dashboard and the offline HTML report.
// Rows come from the stats history: one per second, {timestamp, rps, fail_per_sec, p50, p95,
// p99, user_count}. Needs uPlot (window.uPlot), installed from npm by `make web-assets`.
(function () {
  "use strict";

  const SERIES = [
    {
      title: "Requests per second (all names)",
      series: [
        { label: "RPS", key: "rps", stroke: "#2f6fed" },
        { label: "Failures/s", key: "fail_per_sec", stroke: "#c62828" },
      ],
    },
    {
      title: "Response times (ms, requests of each second)",
      series: [
        { label: "p50", key: "p50", stroke: "#2e7d32" },
        { label: "p95", key: "p95", stroke: "#ef6c00" },
        { label: "p99", key: "p99", stroke: "#6a1b9a" },
      ],
    },
    {
      title: "Load: achieved and planned (users; iterations/s in the open model)",
      series: [
        { label: "Achieved", key: "achieved", fallback: "user_count", stroke: "#455a64" },
        { label: "Planned", key: "target", stroke: "#90a4ae", dash: [6, 4] },
      ],
    },
  ];

  function value(row, s) {
    if (row.requests === 0 && s.key.startsWith("p")) return null;
    const v = row[s.key] !== undefined ? row[s.key] : s.fallback ? row[s.fallback] : undefined;
    return v === undefined ? null : v;
  }

  function columns(rows, spec) {
    const data = [rows.map((r) => r.timestamp)];
    for (const s of spec.series) data.push(rows.map((r) => value(r, s)));
    return data;
  }

  function create(container, rows, width) {
    const charts = SERIES.map((spec) => {
      const box = document.createElement("div");
      box.className = "chart";
      const title = document.createElement("h2");
      title.textContent = spec.title;
      box.appendChild(title);
      container.appendChild(box);
      const options = {
        width: width || Math.max(400, container.clientWidth - 20),
        height: 220,
        series: [{}].concat(
          spec.series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 2,
            dash: s.dash,
            spanGaps: false,
          }))
        ),
        axes: [{}, { size: 60 }],
        scales: { x: { time: true } },
      };
      return { spec, plot: new uPlot(options, columns(rows, spec), box) };
    });
    return {
      rows,
      update(newRows) {
        this.rows = newRows;
        for (const c of charts) c.plot.setData(columns(newRows, c.spec));
      },
      resize(w) {
        for (const c of charts) c.plot.setSize({ width: w, height: 220 });
      },
    };
  }

  // The capacity search: throughput and p95 against load (one point per step), with the
  // capacity found marked by a vertical line. steps: [{load, rps, p95, passed}], sorted here.
  function capacity(container, steps, best, unit, width) {
    const sorted = steps.slice().sort((a, b) => a.load - b.load);
    const box = document.createElement("div");
    box.className = "chart";
    const title = document.createElement("h2");
    title.textContent = "Throughput and p95 against load (" + unit + "); the line marks the capacity";
    box.appendChild(title);
    container.appendChild(box);
    const markCapacity = {
      hooks: {
        draw: [
          (u) => {
            if (best === null || best === undefined) return;
            const x = u.valToPos(best, "x", true);
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = "#2e7d32";
            ctx.setLineDash([6, 4]);
            ctx.lineWidth = 2;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    const options = {
      width: width || Math.max(400, container.clientWidth - 20),
      height: 260,
      scales: { x: { time: false }, ms: {} },
      series: [
        { label: "Load" },
        { label: "req/s", stroke: "#2f6fed", width: 2, points: { show: true, size: 6 } },
        { label: "p95 ms", stroke: "#ef6c00", width: 2, scale: "ms", points: { show: true } },
        {
          label: "SLO broken",
          stroke: "#c62828",
          width: 0,
          scale: "ms",
          points: { show: true, size: 9, fill: "#c62828" },
        },
      ],
      axes: [{ label: unit }, { size: 60, label: "req/s" }, { side: 1, scale: "ms", size: 60 }],
      plugins: [markCapacity],
    };
    const data = [
      sorted.map((s) => s.load),
      sorted.map((s) => s.rps),
      sorted.map((s) => s.p95),
      sorted.map((s) => (s.passed ? null : s.p95)),
    ];
    return new uPlot(options, data, box);
  }

  window.hordeCharts = { create, capacity };
})();
