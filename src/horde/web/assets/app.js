// The live dashboard: start/edit/stop a test, poll statistics and history every 2 s.
(function () {
  "use strict";

  const token = document.querySelector('meta[name="horde-token"]').content;
  const $ = (sel) => document.querySelector(sel);
  const POLL_MS = 2000;
  let sortKey = null;
  let sortDesc = false;
  let lastStats = null;
  let history = [];
  let charts = null;
  let currentTab = "stats";

  async function control(path, form) {
    const options = { method: "POST", headers: { "X-Horde-Token": token } };
    if (form) options.body = new URLSearchParams(new FormData(form));
    const response = await fetch(path, options);
    const body = await response.json().catch(() => ({ success: false, message: response.statusText }));
    if (!response.ok || !body.success) throw new Error(body.message || response.statusText);
    return body;
  }

  function show(id, visible) { $(id).classList.toggle("hidden", !visible); }

  // Only the fields of the chosen load model are shown, validated and sent.
  function showModel(form, model) {
    for (const set of form.querySelectorAll("fieldset[data-model]")) {
      const on = set.dataset.model.split(" ").includes(model);
      set.classList.toggle("hidden", !on);
      set.disabled = !on;
    }
  }
  $("#load-model").addEventListener("change", (e) => showModel($("#start-form"), e.target.value));

  $("#start-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#start-error").textContent = "";
    try {
      const result = await control("/swarm", event.target);
      if (result.host) $("#status-host").textContent = result.host;
      history = [];
      if (charts) charts.update([]);
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
      show("#edit-panel", false);
      poll();
    } catch (error) {
      $("#edit-error").textContent = error.message;
    }
  });

  $("#edit-button").addEventListener("click", () => {
    const form = $("#edit-form");
    const model = (lastStats && lastStats.load_model) || "users";
    form.load_model.value = model;
    showModel(form, model);
    if (lastStats) {
      form.user_count.value = lastStats.target_user_count || lastStats.user_count;
      form.spawn_rate.value = $("#start-form").spawn_rate.value;
      if (model === "arrival_rate") form.arrival_rate.value = Number(lastStats.arrival_rate.toFixed(1)) + "/s";
    }
    show("#edit-panel", true);
  });
  $("#edit-cancel").addEventListener("click", () => show("#edit-panel", false));
  $("#stop-button").addEventListener("click", async () => { await control("/stop"); poll(); });
  $("#reset-button").addEventListener("click", async () => {
    await control("/stats/reset");
    history = [];
    if (charts) charts.update([]);
    poll();
  });
  $("#new-button").addEventListener("click", () => { show("#start-panel", true); });

  function selectTab(name) {
    currentTab = name;
    document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("hidden", t.id !== "tab-" + name));
    if (name === "charts") {
      if (!charts) charts = window.hordeCharts.create($("#charts"), history);
      else charts.resize(Math.max(400, $("#charts").clientWidth - 20));
      charts.update(history);
    }
    if (name === "exceptions") loadExceptions();
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

  function rowElement(row) {
    const tr = document.createElement("tr");
    appendCells(tr, cells(row));
    return tr;
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
    $("#stats-table tbody").replaceChildren(...rows.map(rowElement));
    $("#stats-table tfoot").replaceChildren(rowElement(total));
    const failures = data.errors.map((e) => {
      const tr = document.createElement("tr");
      for (const [text, cls] of [[fmt(e.occurrences), "num"], [e.method, ""], [e.name, ""], [e.error, ""]]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.appendChild(td);
      }
      return tr;
    });
    $("#failures-table tbody").replaceChildren(...failures);
    $("#failures-count").textContent = data.errors.length ? "(" + data.errors.length + ")" : "";
    $("#exceptions-count").textContent = data.exceptions_count ? "(" + data.exceptions_count + ")" : "";
    renderWorkers(data);
  }

  // Cells from [text, class] pairs; text only (never HTML), so names from the target are safe.
  function appendCells(tr, values) {
    for (const [text, cls] of values) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
  }

  function renderWorkers(data) {
    const workers = data.workers;
    show("#workers-tab", Array.isArray(workers));
    if (!Array.isArray(workers)) return;
    $("#workers-count").textContent = "(" + data.worker_count + ")";
    $("#master-cpu").textContent = fmt(data.master_cpu_percent, 1);
    const rows = workers.map((w) => {
      const tr = document.createElement("tr");
      if (w.state === "missing") tr.className = "missing";
      const values = [[w.id, ""], [w.host, ""], [w.state, ""], [fmt(w.user_count), "num"],
        [fmt(w.cpu_percent, 1), "num"], [fmt(w.num_requests), "num"], [fmt(w.num_failures), "num"],
        [fmt(w.last_report_age, 1), "num"]];
      appendCells(tr, values);
      return tr;
    });
    $("#workers-table tbody").replaceChildren(...rows);
  }

  function renderStatus(data) {
    $("#status-state").textContent = data.state;
    $("#status-users").textContent = fmt(data.user_count);
    $("#status-rps").textContent = fmt(data.total_rps, 1);
    $("#status-fail").textContent = fmt(100 * data.fail_ratio, 1) + "%";
    if (data.host) $("#status-host").textContent = data.host;
    const active = data.state === "spawning" || data.state === "running";
    const open = data.runner_model === "arrival_rate";
    $("#status-users-label").textContent = open ? "In flight" : "Users";
    show("#stop-button", active);
    show("#edit-button", active && ["users", "arrival_rate"].includes(data.load_model));
    show("#new-button", data.state === "stopped");
    if (active) show("#start-panel", false);
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
    const rows = capacity.steps.map((step) => {
      const tr = document.createElement("tr");
      const values = [[step.index, "num"], [step.phase, ""], [fmt(step.load, 1), "num"],
        [fmt(step.rps, 1), "num"], [fmt(100 * step.fail_ratio, 2) + "%", "num"],
        [fmt(step.p50, 1), "num"], [fmt(step.p95, 1), "num"], [fmt(step.p99, 1), "num"],
        [step.passed ? "met" : "broken", step.passed ? "pass" : "fail"]];
      appendCells(tr, values);
      return tr;
    });
    $("#capacity-table tbody").replaceChildren(...rows);
  }

  async function loadExceptions() {
    const data = await (await fetch("/exceptions")).json();
    const rows = data.exceptions.map((e) => {
      const tr = document.createElement("tr");
      const values = [[fmt(e.count), "num"], [e.where, ""], [e.msg, ""]];
      appendCells(tr, values);
      const td = document.createElement("td");
      const pre = document.createElement("pre");
      pre.textContent = e.traceback;
      td.appendChild(pre);
      tr.appendChild(td);
      return tr;
    });
    $("#exceptions-table tbody").replaceChildren(...rows);
  }

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const data = await (await fetch("/stats/requests")).json();
      lastStats = data;
      renderStatus(data);
      renderStats(data);
      renderCapacity(data.capacity);
      const since = history.length ? history[history.length - 1].timestamp : 0;
      const more = await (await fetch("/stats/history?since=" + since)).json();
      if (more.rows.length) {
        history = history.concat(more.rows);
        if (charts && currentTab === "charts") charts.update(history);
      }
      if (currentTab === "exceptions") await loadExceptions();
    } catch (error) {
      $("#status-state").textContent = "disconnected";
    } finally {
      polling = false;
    }
  }

  poll();
  setInterval(poll, POLL_MS);
  window.addEventListener("resize", () => { if (charts) charts.resize(Math.max(400, $("#charts").clientWidth - 20)); });
})();
