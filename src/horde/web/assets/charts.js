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
    { title: "Users", series: [{ label: "Users", key: "user_count", stroke: "#455a64" }] },
  ];

  function columns(rows, spec) {
    const data = [rows.map((r) => r.timestamp)];
    for (const s of spec.series) {
      data.push(rows.map((r) => (r.requests === 0 && s.key.startsWith("p") ? null : r[s.key])));
    }
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
          spec.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: false }))
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

  window.hordeCharts = { create };
})();
