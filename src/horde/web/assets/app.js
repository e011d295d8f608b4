// The live dashboard: start/edit/stop a test, poll statistics and history (every 2 s while a
// test runs, every 6 s when none does, every 30 s while the tab is hidden).
(function () {
  "use strict";

  const token = document.querySelector('meta[name="horde-token"]').content;
  const $ = (sel) => document.querySelector(sel);
  const POLL_RUNNING_MS = 2000;
  const POLL_IDLE_MS = 6000;
  const POLL_HIDDEN_MS = 30000;
  let sortKey = null;
  let sortDesc = false;
  let lastStats = null;
  let history = [];
  let markers = [];
  let testStart = null;
  let charts = null;
  let currentTab = "stats";

  // Control requests carry the page's token in a header (never in the URL).
  async function control(path, form) {
    const options = { method: "POST", headers: { "X-Horde-Token": token } };
    if (form) options.body = formBody(form);
    let response;
    try {
      response = await fetch(path, options);
    } catch (error) {
      throw new Error("horde did not answer (" + error.message + ")");
    }
    const body = await response.json().catch(() => ({ success: false, message: response.status + " " + response.statusText }));
    if (!response.ok || !body.success) throw new Error(body.message || response.statusText);
    return body;
  }

  // The form's fields; an unticked scenario checkbox is sent as false (a form leaves it out).
  function formBody(form) {
    const body = new URLSearchParams(new FormData(form));
    for (const box of form.querySelectorAll("input[type=checkbox][data-bool]")) {
      if (!box.disabled && !box.checked) body.set(box.name, "false");
    }
    // A scenario option with several choices (Locust's is_multiple) goes as one list.
    for (const select of form.querySelectorAll("select[data-multiple]")) {
      if (!select.disabled) body.set(select.name, Array.from(select.selectedOptions, (o) => o.value).join(","));
    }
    return body;
  }

  function show(id, visible) { $(id).classList.toggle("hidden", !visible); }

  function actionError(message) {
    const banner = $("#action-error");
    banner.textContent = message || "";
    banner.classList.toggle("hidden", !message);
  }

  // Only the fields of the chosen load model are shown, validated and sent.
  function showModel(form, model) {
    for (const set of form.querySelectorAll("fieldset[data-model]")) {
      const on = set.dataset.model.split(" ").includes(model);
      set.classList.toggle("hidden", !on);
      set.disabled = !on;
    }
  }
  $("#load-model").addEventListener("change", (e) => showModel($("#start-form"), e.target.value));

  // The scenario's options in the other form follow what was just sent.
  function copyOptions(from, to) {
    for (const input of from.querySelectorAll(".scenario-options [name]")) {
      const twin = to.querySelector('.scenario-options [name="' + CSS.escape(input.name) + '"]');
      if (!twin) continue;
      if (input.type === "checkbox") twin.checked = input.checked;
      else if (input.multiple) {
        const chosen = new Set(Array.from(input.selectedOptions, (o) => o.value));
        for (const option of twin.options) option.selected = chosen.has(option.value);
      } else twin.value = input.value;
    }
  }

  $("#start-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#start-error").textContent = "";
    try {
      const result = await control("/swarm", event.target);
      if (result.host) $("#status-host").textContent = result.host;
      copyOptions(event.target, $("#edit-form"));
      history = [];
      markers = [];
      if (charts) charts.update([], []);
      show("#start-panel", false);
      selectTab("stats");
      poll();
    } catch (error) {
      $("#start-error").textContent = error.message;
    }
  });

  $("#edit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#edit-error").textContent = "";
    try {
      await control("/swarm", event.target);
      copyOptions(event.target, $("#start-form"));
      show("#edit-panel", false);
      poll();
    } catch (error) {
      $("#edit-error").textContent = error.message;
    }
  });

  // The edit form starts from what runs now (after a reload too: the figures come from the
  // server, not from what this page sent).
  $("#edit-button").addEventListener("click", () => {
    const form = $("#edit-form");
    const model = (lastStats && lastStats.load_model) || "users";
    form.load_model.value = model;
    showModel(form, model);
    if (lastStats) {
      form.user_count.value = lastStats.target_user_count || lastStats.user_count;
      const rate = lastStats.spawn_rate || Number($("#start-form").spawn_rate.value) || 1;
      form.spawn_rate.value = Number(Number(rate).toFixed(3));
      if (model === "arrival_rate") form.arrival_rate.value = Number(lastStats.arrival_rate.toFixed(1)) + "/s";
    }
    $("#edit-error").textContent = "";
    show("#edit-panel", true);
  });
  $("#edit-cancel").addEventListener("click", () => show("#edit-panel", false));
  $("#stop-button").addEventListener("click", async () => {
    actionError("");
    try {
      await control("/stop");
    } catch (error) {
      actionError("Stop failed: " + error.message);
    }
    poll();
  });
  $("#reset-button").addEventListener("click", async () => {
    actionError("");
    try {
      await control("/stats/reset");
    } catch (error) {
      actionError("Reset failed: " + error.message);
    }
    poll();
  });
  $("#new-button").addEventListener("click", () => { show("#start-panel", true); });

  function chartWidth() { return Math.max(320, $("#charts").clientWidth - 20); }

  function ensureCharts() {
    const open = Boolean(lastStats && lastStats.runner_model === "arrival_rate");
    if (charts && charts.openModel !== open) { charts.destroy(); charts = null; }
    if (!charts) charts = window.hordeCharts.create($("#charts"), history, { openModel: open, markers, width: chartWidth() });
  }

  function selectTab(name) {
    currentTab = name;
    document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("hidden", t.id !== "tab-" + name));
    if (name === "charts") {
      ensureCharts();
      charts.resize(chartWidth());
      charts.update(history, markers);
    }
    refreshTab();
  }
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => selectTab(b.dataset.tab)));

  document.querySelectorAll("#stats-table th").forEach((th) => th.addEventListener("click", () => {
    const key = th.dataset.key;
    sortDesc = sortKey === key ? !sortDesc : key !== "name" && key !== "method";
    sortKey = key;
    if (lastStats) renderStats(lastStats);
  }));

  const fmt = (v, digits) => (v === null || v === undefined ? "-" :
    Number(v).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 0 : digits }));
  const ms = (v) => (v === null || v === undefined ? "-" : v >= 10 ? fmt(v) : fmt(v, 1));
  const pad = (n) => String(n).padStart(2, "0");
  function clock(seconds) {
    if (!seconds) return "-";
    const d = new Date(seconds * 1000);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  function ago(seconds) {
    if (!seconds) return "";
    const s = Math.max(0, Date.now() / 1000 - seconds);
    return s < 90 ? Math.round(s) + " s ago" : s < 5400 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago";
  }

  function cells(row) {
    return [
      [row.method, ""], [row.name, ""], [fmt(row.num_requests), "num"], [fmt(row.num_failures), "num"],
      [ms(row.median_response_time), "num"], [ms(row.avg_response_time), "num"],
      [ms(row.min_response_time), "num"], [ms(row.max_response_time), "num"],
      [ms(row["response_time_percentile_0.9"]), "num"], [ms(row["response_time_percentile_0.95"]), "num"],
      [ms(row["response_time_percentile_0.99"]), "num"], [fmt(row.avg_content_length), "num"],
      [fmt(row.current_rps, 1), "num"], [fmt(row.current_fail_per_sec, 1), "num"],
    ];
  }

  function rowElement(values, className) {
    const tr = document.createElement("tr");
    if (className) tr.className = className;
    appendCells(tr, values);
    return tr;
  }

  // Cells from [text, class] pairs; text only (never HTML), so names from the target are safe.
  function appendCells(tr, values) {
    for (const [text, cls, title] of values) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      if (title) td.title = title;
      tr.appendChild(td);
    }
  }

  function badge(id, count, title) {
    const el = $(id);
    el.textContent = count ? String(count) : "";
    el.title = count ? title : "";
  }

  function renderStats(data) {
    const rows = data.stats.slice(0, -1);
    const total = data.stats[data.stats.length - 1];
    if (sortKey) {
      rows.sort((a, b) => {
        const x = a[sortKey], y = b[sortKey];
        const order = typeof x === "string" ? String(x).localeCompare(y) : (x || 0) - (y || 0);
        return sortDesc ? -order : order;
      });
    }
    $("#stats-table tbody").replaceChildren(...rows.map((r) => rowElement(cells(r))));
    $("#stats-table tfoot").replaceChildren(rowElement(cells(total)));
    const failures = data.errors.map((e) => rowElement([
      [fmt(e.occurrences), "num"], [e.method, ""], [e.name, ""], [e.error, "wrap"],
      [clock(e.first_seen), "time", e.first_seen ? new Date(e.first_seen * 1000).toString() : ""],
      [clock(e.last_seen) + (e.last_seen ? " (" + ago(e.last_seen) + ")" : ""), "time",
        e.last_seen ? new Date(e.last_seen * 1000).toString() : ""],
    ]));
    $("#failures-table tbody").replaceChildren(...failures);
    show("#failures-empty", !failures.length);
    // Both badges count the rows of their tab (kinds); the tooltip gives the occurrences.
    const failed = data.errors.reduce((n, e) => n + e.occurrences, 0);
    badge("#failures-count", data.errors.length, data.errors.length + " kinds, " + fmt(failed) + " failures");
    badge("#exceptions-count", data.exception_kinds, data.exception_kinds + " kinds, " + fmt(data.exceptions_count) + " exceptions");
    badge("#logs-count", data.log_warnings, data.log_warnings + " warnings or errors logged");
    renderWorkers(data);
  }

  function renderWorkers(data) {
    const workers = data.workers;
    show("#workers-tab", Array.isArray(workers));
    if (!Array.isArray(workers)) return;
    $("#workers-count").textContent = String(data.worker_count);
    $("#master-cpu").textContent = fmt(data.master_cpu_percent, 1);
    const rows = workers.map((w) => rowElement([[w.id, ""], [w.host, ""], [w.state, ""], [fmt(w.user_count), "num"],
      [fmt(w.cpu_percent, 1), "num"], [fmt(w.num_requests), "num"], [fmt(w.num_failures), "num"],
      [fmt(w.last_report_age, 1), "num"]], w.state === "missing" ? "missing" : ""));
    $("#workers-table tbody").replaceChildren(...rows);
  }

  function active(data) { return data.state === "spawning" || data.state === "running" || data.state === "stopping"; }

  let firstStatus = true;
  function renderStatus(data) {
    // A page opened after a test shows its results; "New test" brings the form back.
    if (firstStatus && data.state !== "ready") show("#start-panel", false);
    firstStatus = false;
    $("#status-state").textContent = data.state;
    $("#status-users").textContent = fmt(data.user_count);
    $("#status-rps").textContent = fmt(data.total_rps, 1);
    $("#status-fail").textContent = fmt(100 * data.fail_ratio, 1) + "%";
    if (data.host) { $("#status-host").textContent = data.host; $("#status-host").title = data.host; }
    const running = data.state === "spawning" || data.state === "running";
    const open = data.runner_model === "arrival_rate";
    $("#status-users-label").textContent = open ? "In flight" : "Users";
    show("#stop-button", running);
    show("#edit-button", running && ["users", "arrival_rate"].includes(data.load_model));
    show("#new-button", data.state === "stopped");
    if (running) show("#start-panel", false);
    if (!running) show("#edit-panel", false);
  }

  // horde's own health: its CPU and loop lag in the header, and a banner when it was saturated
  // (then the latencies and the throughput on this page include its own queueing).
  function renderHealth(health) {
    const stat = $("#generator-stat");
    const banner = $("#health-banner");
    if (!health || !health.sampled) {
      stat.classList.add("hidden");
      banner.classList.add("hidden");
      return;
    }
    stat.classList.remove("hidden");
    let text = fmt(health.cpu_percent) + "%";
    if (health.cpu_wait_percent >= 5) text += " +" + fmt(health.cpu_wait_percent) + "% wait";
    $("#status-generator").textContent = text + " · " + fmt(health.loop_lag_ms, 1) + " ms";
    stat.classList.toggle("hot", Boolean(health.saturated_now));
    $("#generator-stat .label").textContent = (health.distributed ? "workers" : "horde") + " CPU · lag";
    const saturated = Boolean(health.saturated || health.saturated_now);
    banner.classList.toggle("hidden", !saturated);
    if (!saturated) return;
    const head = document.createElement("b");
    head.textContent = health.saturated_now ? "horde itself is saturated now. " : "horde itself was saturated during this test. ";
    const body = document.createElement("span");
    body.textContent = health.message || "Latencies include its own queueing: use --processes or more workers.";
    banner.replaceChildren(head, body);
  }

  function renderCapacity(capacity) {
    show("#capacity-tab", Boolean(capacity));
    if (!capacity) return;
    let headline = capacity.headline;
    if (capacity.reason === "running") {
      const now = capacity.current_load;
      const met = capacity.steps.filter((s) => s.passed).map((s) => s.load);
      headline = "Searching" + (now !== null && now !== undefined ? ": now at " + fmt(now, 1) +
        " " + capacity.unit : "") + ". " + (met.length ? "Highest load that met the SLO so " +
        "far: " + fmt(Math.max(...met), 1) + " " + capacity.unit + "." : "");
    }
    $("#capacity-headline").textContent = headline;
    const rows = capacity.steps.map((step) => rowElement([[step.index, "num"], [step.phase, ""], [fmt(step.load, 1), "num"],
      [fmt(step.rps, 1), "num"], [fmt(100 * step.fail_ratio, 2) + "%", "num"],
      [fmt(step.p50, 1), "num"], [fmt(step.p95, 1), "num"], [fmt(step.p99, 1), "num"],
      [(step.passed ? "met" : "broken") + (step.generator_limited ? " (horde saturated)" : ""),
        step.passed ? "pass" : "fail"]]));
    $("#capacity-table tbody").replaceChildren(...rows);
    // Once the search has ended: the Universal Scalability Law fitted to its steps, in words.
    const fit = capacity.usl;
    show("#capacity-usl", Boolean(fit && fit.reading));
    if (fit && fit.reading) $("#capacity-usl").textContent = fit.reading;
  }

  async function getJson(path) {
    const response = await fetch(path);
    if (!response.ok) throw new Error(path + ": " + response.status);
    return response.json();
  }

  async function loadExceptions() {
    const data = await getJson("/exceptions");
    const rows = data.exceptions.map((e) => {
      const tr = rowElement([[fmt(e.count), "num"], [e.where, ""], [e.msg, "wrap"]]);
      const td = document.createElement("td");
      const pre = document.createElement("pre");
      pre.textContent = e.traceback;
      td.appendChild(pre);
      tr.appendChild(td);
      return tr;
    });
    $("#exceptions-table tbody").replaceChildren(...rows);
    show("#exceptions-empty", !rows.length);
  }

  const percent = (v) => (v === null || v === undefined ? "" : fmt(100 * v, 1) + "%");

  function taskRows(tasks, totals, depth, out) {
    for (const [name, t] of Object.entries(tasks || {})) {
      const all = totals && totals[name] ? totals[name] : {};
      const tr = rowElement([[name, "task"], ["", "num"], [fmt(t.weight), "num"], ["", "num"],
        [percent(t.ratio), "num"], [percent(all.ratio), "num"]], "depth-" + Math.min(depth, 4));
      out.push(tr);
      if (t.tasks) taskRows(t.tasks, all.tasks, depth + 1, out);
    }
  }

  async function loadRatio() {
    const data = await getJson("/tasks");
    const out = [];
    for (const [name, cls] of Object.entries(data.per_class)) {
      const weight = cls.fixed_count ? "fixed " + fmt(cls.fixed_count) : fmt(cls.weight);
      out.push(rowElement([[name, ""], [fmt(cls.users), "num"], [weight, "num"], [percent(cls.ratio), "num"],
        ["", "num"], [percent(cls.ratio), "num"]], "user-class"));
      taskRows(cls.tasks, (data.total[name] || {}).tasks, 1, out);
    }
    $("#ratio-table tbody").replaceChildren(...out);
  }

  async function loadLogs() {
    const data = await getJson("/logs");
    const box = $("#logs-box");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 30;
    const rows = data.records.map((r) => {
      const level = r.level === "WARNING" ? "warn" : ["ERROR", "CRITICAL"].includes(r.level) ? "error" : "";
      const tr = rowElement([[clock(r.time), "time"], [r.level, "level"], [r.name, ""]], level);
      const td = document.createElement("td");
      const pre = document.createElement("pre");
      pre.textContent = r.message;
      td.appendChild(pre);
      tr.appendChild(td);
      return tr;
    });
    $("#logs-table tbody").replaceChildren(...rows);
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  async function refreshTab() {
    try {
      if (currentTab === "exceptions") await loadExceptions();
      else if (currentTab === "ratio") await loadRatio();
      else if (currentTab === "logs") await loadLogs();
    } catch (error) { /* the next poll tries again */ }
  }

  let polling = false;
  let timer = null;
  async function poll() {
    if (polling) return;
    polling = true;
    clearTimeout(timer);
    try {
      const data = await getJson("/stats/requests");
      lastStats = data;
      if (data.test_start !== testStart) {
        // Another test started (from here, another page or a script): its history only.
        testStart = data.test_start;
        history = [];
        markers = [];
      }
      renderStatus(data);
      renderStats(data);
      renderCapacity(data.capacity);
      renderHealth(data.generator_health);
      const since = history.length ? history[history.length - 1].timestamp : 0;
      const more = await getJson("/stats/history?since=" + since);
      history = history.concat(more.rows);
      markers = more.markers || [];
      if (currentTab === "charts") {
        ensureCharts();
        charts.update(history, markers);
      }
      await refreshTab();
    } catch (error) {
      $("#status-state").textContent = "disconnected";
    } finally {
      polling = false;
      const delay = document.hidden ? POLL_HIDDEN_MS
        : lastStats && active(lastStats) ? POLL_RUNNING_MS : POLL_IDLE_MS;
      timer = setTimeout(poll, delay);
    }
  }

  document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  window.addEventListener("resize", () => { if (charts) charts.resize(chartWidth()); });
  // The charts take their colours from the theme: redraw them when the system's changes.
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (charts) { charts.destroy(); charts = null; }
    if (currentTab === "charts") selectTab("charts");
  });
  poll();
})();
