// Charts of a run over time, shared by the live dashboard and the offline HTML report.
// Rows come from the stats history, one per second: {timestamp, rps, fail_per_sec, requests,
// failures, p50, p95, p99, user_count, target, achieved}. Markers: [{timestamp, kind, label}]
// (changes of load, resets, stops), drawn as dashed lines. Needs uPlot (window.uPlot).
(function () {
  "use strict";

  // Whole seconds and up: a tick between two seconds would label a time no row has.
  const SECOND_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    21600, 43200, 86400];
  const MARKER_COLOURS = { load: "#607d8b", reset: "#8e24aa", stop: "#c62828" };
  const live = new Set(); // the time charts on the page, for inspection (tests, the console)

  const failedPercent = (r) => (r.requests ? (100 * (r.failures || 0)) / r.requests : null);
  const latency = (key) => (r) => (r.requests === 0 ? null : r[key]);
  const field = (key, fallback) => (r) =>
    r[key] !== undefined && r[key] !== null ? r[key] : fallback ? r[fallback] : null;

  // horde's own health (horde.runner.health): its CPU (used, plus waited for while ready to run,
  // % of one core; the worst process) and its event loop's lag p99, per second, with the limits
  // that make a second "hot".
  const sampled = (key) => (r) => (r.generator_cpu === undefined || r.generator_cpu === null ? null : key);
  const GENERATOR = {
    id: "generator", title: "Load generator: horde's own CPU and event-loop lag", unit: "% CPU",
    atLeast: 100, rightUnit: "ms lag", rightAtLeast: 25,
    series: [
      { label: "CPU used + waited for", get: field("generator_cpu"), colour: "cpu", unit: "% of a core" },
      { label: "CPU limit", get: sampled(90), colour: "planned", dash: [4, 4], unit: "%" },
      { label: "Loop lag p99", get: field("loop_lag"), colour: "lag", right: true, unit: "ms" },
      { label: "Lag limit", get: sampled(20), colour: "lag", dash: [2, 5], right: true, unit: "ms" },
    ],
  };

  // What each chart draws; `right` series use the right-hand axis, with its own unit.
  function specs(openModel, generator) {
    const load = openModel
      ? {
          id: "load", title: "Load: iterations started per second, and in flight",
          unit: "it/s", rightUnit: "in flight", rightCount: true,
          series: [
            { label: "Achieved", get: field("achieved"), colour: "load" },
            { label: "Planned", get: field("target"), colour: "planned", dash: [6, 4] },
            { label: "In flight", get: field("in_flight", "user_count"), colour: "inflight", right: true },
          ],
        }
      : {
          id: "load", title: "Load: users running and planned", unit: "users", count: true,
          series: [
            { label: "Users", get: field("achieved", "user_count"), colour: "load" },
            { label: "Planned", get: field("target"), colour: "planned", dash: [6, 4] },
          ],
        };
    const charts = [
      {
        id: "throughput", title: "Throughput and failures", unit: "req/s", rightUnit: "% failed",
        rightAtLeast: 5, // no failures: 0-5 %, not a magnified 0-1
        series: [
          { label: "RPS", get: field("rps"), colour: "rps" },
          { label: "Failures/s", get: field("fail_per_sec"), colour: "fail", unit: "failures/s" },
          { label: "Failed", get: failedPercent, colour: "ratio", dash: [2, 3], right: true, unit: "%" },
        ],
      },
      {
        id: "latency", title: "Response times (requests of each second)", unit: "ms",
        series: [
          { label: "p50", get: latency("p50"), colour: "p50" },
          { label: "p95", get: latency("p95"), colour: "p95" },
          { label: "p99", get: latency("p99"), colour: "p99" },
        ],
      },
      load,
    ];
    if (generator) charts.push(GENERATOR);
    return charts;
  }

  // Colours come from the page's CSS (app.css), so that the dark theme has its own.
  const SERIES_COLOURS = { rps: "#2f6fed", fail: "#c62828", ratio: "#ef9a9a", p50: "#2e7d32",
    p95: "#ef6c00", p99: "#6a1b9a", load: "#455a64", planned: "#90a4ae", inflight: "#00897b",
    cpu: "#5d4037", lag: "#d81b60" };
  function theme() {
    const css = getComputedStyle(document.documentElement);
    const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    const series = {};
    for (const [key, fallback] of Object.entries(SERIES_COLOURS)) series[key] = read("--series-" + key, fallback);
    const markers = {};
    for (const [key, fallback] of Object.entries(MARKER_COLOURS)) markers[key] = read("--marker-" + key, fallback);
    return {
      axis: read("--chart-axis", "#4b5563"),
      grid: read("--chart-grid", "#e5e7eb"),
      panel: read("--panel", "#ffffff"),
      text: read("--fg", "#1d2430"),
      series,
      markers,
    };
  }

  const pad = (n) => String(n).padStart(2, "0");
  function clock(seconds) {
    const d = new Date(seconds * 1000);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  function number(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "-";
    const a = Math.abs(v);
    const digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits });
  }
  function unitText(v, unit) {
    if (v === null || v === undefined) return "-";
    return unit.startsWith("%") ? number(v) + unit : number(v) + " " + unit;
  }
  // Every y scale starts at zero, so that a small change does not look like a large one.
  const fromZero = (u, min, max) => [0, max > 0 ? max * 1.08 : 1];
  const fromZeroTo = (least) => (u, min, max) => [0, Math.max(least, max > 0 ? max * 1.08 : 0)];
  // Counts (users, iterations in flight) have whole-number ticks.
  const COUNT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 1e4,
    2e4, 2.5e4, 5e4, 1e5, 2e5, 2.5e5, 5e5, 1e6];

  function columns(rows, spec) {
    const data = [rows.map((r) => r.timestamp)];
    for (const s of spec.series) data.push(rows.map((r) => { const v = s.get(r); return v === undefined ? null : v; }));
    return data;
  }

  // Dashed vertical lines, labelled at the top, for each marker in view.
  function markerPlugin(state, colours) {
    return {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            const ratio = uPlot.pxRatio || 1;
            const [x0, x1] = [u.scales.x.min, u.scales.x.max];
            const rowEnds = [-Infinity, -Infinity, -Infinity]; // labels stack in 3 rows
            ctx.save();
            ctx.font = 11 * ratio + "px system-ui, sans-serif";
            ctx.textBaseline = "top";
            ctx.textAlign = "left"; // uPlot leaves whatever its last axis used
            for (const m of state.markers) {
              if (x0 === null || m.timestamp < x0 || m.timestamp > x1) continue;
              const x = Math.round(u.valToPos(m.timestamp, "x", true));
              const colour = colours.markers[m.kind] || colours.axis;
              ctx.strokeStyle = colour;
              ctx.setLineDash([5 * ratio, 4 * ratio]);
              ctx.lineWidth = 1.5 * ratio;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              const width = ctx.measureText(m.label).width;
              const left = Math.min(x + 3 * ratio, u.bbox.left + u.bbox.width - width);
              const row = rowEnds.findIndex((end) => left > end);
              if (row >= 0) {
                ctx.fillStyle = colour;
                ctx.fillText(m.label, left, u.bbox.top + (2 + 13 * row) * ratio);
                rowEnds[row] = left + width + 6 * ratio;
              }
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  // The legend shows each series' latest value unless the cursor is on the chart.
  function showLatest(u) {
    const n = u.data[0].length;
    if (n && (u.cursor.left === undefined || u.cursor.left < 0)) u.setLegend({ idx: n - 1 }, false);
  }

  function makePlot(box, spec, rows, state, width, colours) {
    const axisStyle = { stroke: colours.axis, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid, width: 1 } };
    const series = [{ label: "Time", value: (u, v) => (v === null ? "-" : clock(v)) }].concat(
      spec.series.map((s) => ({
        label: s.label,
        stroke: colours.series[s.colour],
        width: 2,
        dash: s.dash,
        scale: s.right ? "right" : "y",
        spanGaps: false,
        points: { show: false },
        value: (u, v) => unitText(v, s.unit || (s.right ? spec.rightUnit : spec.unit)),
      }))
    );
    const axes = [
      { ...axisStyle, space: 70, incrs: SECOND_INCRS, values: (u, ticks) => ticks.map(clock) },
      { ...axisStyle, label: spec.unit, size: 64, labelSize: 18, values: (u, ticks) => ticks.map(number),
        ...(spec.count ? { incrs: COUNT_INCRS } : {}) },
    ];
    // The x axis reaches back to a marker just before the first row (the start of a test).
    const xRange = (u, min, max) => {
      if (min === null || min === undefined) return [min, max];
      let low = min;
      for (const m of state.markers) if (m.timestamp < low && m.timestamp >= min - 5) low = m.timestamp;
      return [low, max];
    };
    const yRange = spec.count ? fromZeroTo(1) : spec.atLeast ? fromZeroTo(spec.atLeast) : fromZero;
    const scales = { x: { time: true, range: xRange }, y: { range: yRange } };
    if (spec.rightUnit) {
      scales.right = { range: fromZeroTo(spec.rightAtLeast || 1) };
      axes.push({ ...axisStyle, scale: "right", side: 1, label: spec.rightUnit, size: 64, labelSize: 18,
        grid: { show: false }, values: (u, ticks) => ticks.map(number),
        ...(spec.rightCount ? { incrs: COUNT_INCRS } : {}) });
    } else {
      // An empty right-hand axis, so that every chart's time axis lines up with the others'.
      axes.push({ scale: "y", side: 1, size: 64 + 18, grid: { show: false }, ticks: { show: false },
        values: (u, ticks) => ticks.map(() => "") });
    }
    const options = {
      width, height: 240, series, axes, scales,
      legend: { live: true },
      plugins: [markerPlugin(state, colours)],
      hooks: { setCursor: [(u) => { if (u.cursor.idx === null || u.cursor.idx === undefined) showLatest(u); }] },
    };
    const plot = new uPlot(options, columns(rows, spec), box);
    showLatest(plot);
    return plot;
  }

  // A PNG of one chart as it is shown: title, plot and the legend's current values.
  function savePng(chart, colours) {
    const u = chart.plot;
    const ratio = uPlot.pxRatio || 1;
    const plotCanvas = u.ctx.canvas;
    const head = 34 * ratio, foot = 30 * ratio;
    const canvas = document.createElement("canvas");
    canvas.width = plotCanvas.width;
    canvas.height = plotCanvas.height + head + foot;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = colours.panel;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = colours.text;
    ctx.font = "600 " + 15 * ratio + "px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.fillText(chart.spec.title, 10 * ratio, head / 2);
    ctx.drawImage(plotCanvas, 0, head);
    let x = 10 * ratio;
    const y = head + plotCanvas.height + foot / 2;
    ctx.font = 12 * ratio + "px system-ui, sans-serif";
    u.series.forEach((s, i) => {
      if (i === 0) return;
      const value = u.legend.values && u.legend.values[i] ? u.legend.values[i]._ : "-";
      const text = s.label + ": " + value;
      ctx.fillStyle = typeof s.stroke === "function" ? s.stroke(u, i) : s.stroke;
      ctx.fillRect(x, y - 2 * ratio, 14 * ratio, 4 * ratio);
      ctx.fillStyle = colours.text;
      ctx.fillText(text, x + 18 * ratio, y);
      x += ctx.measureText(text).width + 36 * ratio;
    });
    canvas.toBlob((blob) => {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      const d = new Date();
      link.download = "horde-" + chart.spec.id + "-" + d.getFullYear() + pad(d.getMonth() + 1) +
        pad(d.getDate()) + "-" + pad(d.getHours()) + pad(d.getMinutes()) + pad(d.getSeconds()) + ".png";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    }, "image/png");
  }

  // options: {openModel, markers, width, generator (default true: horde's own health chart)}.
  // Returns {update(rows, markers), resize(width), destroy(), openModel}.
  function create(container, rows, options) {
    const opts = options || {};
    const colours = theme();
    const state = { markers: opts.markers || [] };
    const width = opts.width || Math.max(320, container.clientWidth - 20);
    const charts = specs(Boolean(opts.openModel), opts.generator !== false).map((spec) => {
      const box = document.createElement("div");
      box.className = "chart";
      box.dataset.chart = spec.id;
      const head = document.createElement("div");
      head.className = "chart-head";
      const title = document.createElement("h2");
      title.textContent = spec.title;
      const save = document.createElement("button");
      save.type = "button";
      save.className = "save-png";
      save.textContent = "Save PNG";
      head.append(title, save);
      box.appendChild(head);
      container.appendChild(box);
      const chart = { spec, plot: makePlot(box, spec, rows, state, width, colours) };
      live.add(chart.plot);
      save.addEventListener("click", () => savePng(chart, colours));
      return chart;
    });
    return {
      openModel: Boolean(opts.openModel),
      update(newRows, markers) {
        if (markers) state.markers = markers;
        for (const c of charts) {
          c.plot.setData(columns(newRows, c.spec));
          showLatest(c.plot);
        }
      },
      resize(w) {
        for (const c of charts) c.plot.setSize({ width: Math.max(320, w), height: 240 });
      },
      destroy() {
        for (const c of charts) { live.delete(c.plot); c.plot.destroy(); }
        container.replaceChildren();
      },
    };
  }

  // The capacity search: throughput and p95 against load (one point per step), with the
  // capacity found marked by a vertical line. steps: [{load, rps, p95, passed}], sorted here.
  function capacity(container, steps, best, unit, width) {
    const colours = theme();
    const axisStyle = { stroke: colours.axis, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid, width: 1 } };
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
      width: width || Math.max(320, container.clientWidth - 20),
      height: 260,
      scales: { x: { time: false }, y: { range: fromZero }, ms: { range: fromZero } },
      series: [
        { label: "Load", value: (u, v) => unitText(v, unit) },
        { label: "req/s", stroke: "#2f6fed", width: 2, points: { show: true, size: 6 }, value: (u, v) => unitText(v, "req/s") },
        { label: "p95", stroke: "#ef6c00", width: 2, scale: "ms", points: { show: true }, value: (u, v) => unitText(v, "ms") },
        {
          label: "SLO broken",
          stroke: "#c62828",
          width: 0,
          scale: "ms",
          points: { show: true, size: 9, fill: "#c62828" },
          value: (u, v) => unitText(v, "ms"),
        },
      ],
      axes: [
        { ...axisStyle, label: unit },
        { ...axisStyle, size: 64, label: "req/s", values: (u, t) => t.map(number) },
        { ...axisStyle, side: 1, scale: "ms", size: 64, label: "p95 ms", grid: { show: false }, values: (u, t) => t.map(number) },
      ],
      plugins: [markCapacity],
      hooks: { setCursor: [(u) => { if (u.cursor.idx === null || u.cursor.idx === undefined) showLatest(u); }] },
    };
    const data = [
      sorted.map((s) => s.load),
      sorted.map((s) => s.rps),
      sorted.map((s) => s.p95),
      sorted.map((s) => (s.passed ? null : s.p95)),
    ];
    const plot = new uPlot(options, data, box);
    showLatest(plot);
    return plot;
  }

  // The Universal Scalability Law fitted to a capacity search: each step's throughput (successful
  // requests/s) against its concurrency N (users, or requests in flight by Little's law), the
  // fitted curve over them, and N*, where the fit peaks. fit: meta.capacity.usl.
  function usl(container, fit, steps, unit, width) {
    const colours = theme();
    const axisStyle = { stroke: colours.axis, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid, width: 1 } };
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.chart = "usl";
    const title = document.createElement("h2");
    title.textContent = "Scalability: throughput against " + unit + ", with the Universal Scalability Law fitted";
    box.appendChild(title);
    container.appendChild(box);
    const byN = new Map();
    const at = (n) => { if (!byN.has(n)) byN.set(n, { fit: null, measured: null, saturated: null }); return byN.get(n); };
    for (const [n, x] of fit.curve || []) at(n).fit = x;
    for (const s of steps) {
      if (!s.requests) continue;
      const row = at(Number(s.concurrency.toPrecision(6)));
      if (s.generator_limited) row.saturated = s.goodput; else row.measured = s.goodput;
    }
    const xs = Array.from(byN.keys()).sort((a, b) => a - b);
    const peak = fit.peak_load;
    const markPeak = {
      hooks: {
        draw: [
          (u) => {
            if (peak === null || peak === undefined || peak > u.scales.x.max) return;
            const x = u.valToPos(peak, "x", true);
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = colours.series.p50;
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
    const dots = (colour, size) => ({ show: true, size, fill: colour, stroke: colour });
    const options = {
      width: width || Math.max(320, container.clientWidth - 20),
      height: 260,
      scales: { x: { time: false }, y: { range: fromZero } },
      series: [
        { label: "N", value: (u, v) => unitText(v, unit) },
        { label: "USL fit", stroke: colours.series.rps, width: 2, spanGaps: true, points: { show: false },
          value: (u, v) => unitText(v, "req/s") },
        { label: "Measured", stroke: colours.series.p95, width: 0, paths: () => null,
          points: dots(colours.series.p95, 8), value: (u, v) => unitText(v, "req/s") },
        { label: "horde saturated (left out)", stroke: colours.series.fail, width: 0, paths: () => null,
          points: dots(colours.series.fail, 8), value: (u, v) => unitText(v, "req/s") },
      ],
      axes: [
        { ...axisStyle, label: unit },
        { ...axisStyle, size: 64, label: "successful req/s", values: (u, t) => t.map(number) },
      ],
      plugins: [markPeak],
      hooks: { setCursor: [(u) => { if (u.cursor.idx === null || u.cursor.idx === undefined) showLatest(u); }] },
    };
    const data = [xs, xs.map((n) => byN.get(n).fit), xs.map((n) => byN.get(n).measured),
      xs.map((n) => byN.get(n).saturated)];
    const plot = new uPlot(options, data, box);
    box.plot = plot; // what is drawn, for inspection (tests, the console)
    showLatest(plot);
    return plot;
  }

  window.hordeCharts = { create, capacity, usl, plots: () => Array.from(live), MARKER_COLOURS };
})();
