// MFO flow dashboard: plain JavaScript over the JSON API, refreshed by conditional polling (docs/adr/0007, 0020).
// forms.js (JSON Schema forms), actions.js (changes of flows) and queue.js (the queue view) add to this file's view.
"use strict";

const ACCESS_KEY = "mfo.dashboard.access";
const POLL_MS = 2000;
const AUDIT_POLL_MS = 15000;
const PAGE_SIZE = 100;
const MAX_PAGES = 5;
// The master lifecycle's statuses (domain/lifecycle.py FlowStatus), in lifecycle order.
const STATUSES = ["initialized", "running", "paused", "waiting_for_input", "completed", "failed", "cancelled", "deleted"];

const view = {
  flowTypes: [],
  flow: null,
  flows: [],
  selected: null,
  events: [],
  eventsFor: null,
  audit: null,
  auditSource: null,
  auditLoadedAt: 0,
};

// ---- access: tenant ids and bearer token, kept in sessionStorage (this tab only, gone when it closes) -------------

function loadAccess() {
  try {
    return JSON.parse(sessionStorage.getItem(ACCESS_KEY)) || {};
  } catch (_) {
    return {};
  }
}

// A bearer token names its tenant itself; without one, the API takes the tenant from the two headers.
function hasAccess(access = loadAccess()) {
  return Boolean(access.token || (access.clientAccountId && access.engagementId));
}

function saveAccess(access) {
  sessionStorage.setItem(ACCESS_KEY, JSON.stringify(access));
  copies.clear(); // another tenant's copies must never answer this one's reads
}

// Earlier versions of the page kept the access (a bearer token among it) in localStorage: drop what they left.
function forgetStoredAccess() {
  try {
    localStorage.removeItem(ACCESS_KEY);
  } catch (_) {
    /* storage disabled: nothing was kept either */
  }
}

// ---- the one function every API call goes through --------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem, path) {
    const title = problem && problem.title;
    const detail = problem && problem.detail;
    super(`${path}: ${status}${title ? " " + title : ""}${detail ? ": " + detail : ""}`);
    this.status = status;
    this.problem = problem;
    this.title = title || `HTTP ${status}`;
    this.detail = detail || "";
  }
}

function authHeaders() {
  const access = loadAccess();
  const headers = {};
  if (access.clientAccountId) headers["X-Client-Account-ID"] = access.clientAccountId;
  if (access.engagementId) headers["X-Engagement-ID"] = access.engagementId;
  if (access.token) headers.Authorization = `Bearer ${access.token}`;
  return headers;
}

// The last answer of each polled read with its ETag: sent back as If-None-Match, a 304 means "this copy is current".
const copies = new Map();
const MAX_COPIES = 100;

async function api(path, { method = "GET", body, accept = [], ifMatch, conditional = false } = {}) {
  const headers = { Accept: "application/json, application/problem+json", ...authHeaders() };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (ifMatch) headers["If-Match"] = ifMatch;
  const copy = conditional ? copies.get(path) : undefined;
  if (copy) headers["If-None-Match"] = copy.etag;
  const response = await fetch(path, init);
  if (response.status === 304 && copy) return { status: 200, data: copy.data, etag: copy.etag, unchanged: true };
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (_) {
    data = { detail: text.slice(0, 200) };
  }
  if (!response.ok && !accept.includes(response.status)) throw new ApiError(response.status, data, path);
  const etag = response.headers.get("ETag");
  if (conditional && response.ok && etag) {
    if (copies.size >= MAX_COPIES && !copies.has(path)) copies.delete(copies.keys().next().value); // the oldest
    copies.set(path, { etag, data });
  }
  else if (conditional) copies.delete(path);
  return { status: response.status, data, etag, unchanged: false };
}

// ---- small DOM helpers (text only: nothing from the API is parsed as HTML) --------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (id) => document.getElementById(id);

function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString([], { hour12: false });
}

function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString([], { hour12: false });
}

function badge(status, attrs = {}) {
  return el("span", { class: `badge s-${status}`, ...attrs }, String(status).replaceAll("_", " "));
}

function short(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}…` : text;
  }
  return String(value);
}

function definitionList(node, rows) {
  node.replaceChildren(
    ...rows.flatMap(([label, value, attrs = {}]) => [
      el("dt", {}, label),
      el("dd", attrs, value instanceof Node ? value : short(value)),
    ]),
  );
}

// ---- state shown in the header ---------------------------------------------------------------------------------

function showProblem(error) {
  const box = $("problem");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.hidden = false;
  box.textContent = error.message || String(error);
}

// A refused change, shown where it was asked for: the problem's title and detail (RFC 9457).
function showRefusal(box, error) {
  if (!error) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  if (error instanceof ApiError) {
    box.replaceChildren(
      el("strong", { "data-testid": "problem-title" }, `${error.status} ${error.title}`),
      error.detail ? el("span", { "data-testid": "problem-detail" }, ` ${error.detail}`) : null,
    );
  } else {
    box.replaceChildren(el("strong", {}, error.message || String(error)));
  }
}

function showLive(ok, text) {
  $("live-dot").className = `dot ${ok ? "ok" : "down"}`;
  $("live-text").textContent = text;
}

// ---- filters and the flow list ---------------------------------------------------------------------------------

// A datetime-local input's value is the browser's local time: sent as an instant (with its offset, Z).
function instant(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

function filters() {
  const form = $("filters");
  const statuses = [...form.querySelectorAll("input[name=status]:checked")].map((i) => i.value);
  return {
    flowType: form.flowType.value,
    statuses,
    includeDeleted: form.includeDeleted.checked,
    q: form.q.value.trim(),
    createdAfter: instant(form.createdAfter.value),
    createdBefore: instant(form.createdBefore.value),
  };
}

function listQuery(cursor, f = filters()) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (f.flowType) query.set("flow_type", f.flowType);
  for (const s of f.statuses) query.append("status", s);
  if (f.includeDeleted) query.set("include_deleted", "true");
  if (f.q) query.set("q", f.q);
  if (f.createdAfter) query.set("created_after", f.createdAfter);
  if (f.createdBefore) query.set("created_before", f.createdBefore);
  if (cursor) query.set("cursor", cursor);
  return `/api/v1/flows?${query}`;
}

// Up to maxPages pages of the flows the filter matches, newest first; more: whether further pages exist.
async function listFlows(f, maxPages, conditional) {
  const flows = [];
  let cursor = null;
  let more = false;
  for (let page = 0; page < maxPages; page += 1) {
    const { data } = await api(listQuery(cursor, f), { conditional });
    flows.push(...data.items);
    cursor = data.next_cursor;
    if (!cursor) break;
    more = page === maxPages - 1;
  }
  return { flows, more };
}

async function refreshList() {
  const { flows, more } = await listFlows(filters(), MAX_PAGES, true);
  view.flows = flows;
  renderCounts();
  renderList(more);
}

function renderCounts() {
  const types = [...new Set([...view.flowTypes.map((t) => t.name), ...view.flows.map((f) => f.flow_type)])];
  const counts = {};
  for (const f of view.flows) counts[`${f.flow_type}/${f.status}`] = (counts[`${f.flow_type}/${f.status}`] || 0) + 1;
  // Only the statuses some flow has: the table stays narrow however many statuses and types there are.
  const shown = STATUSES.filter((s) => view.flows.some((f) => f.status === s));
  const header = el("tr", {}, el("th", {}, "type"), shown.map((s) => el("th", {}, badge(s))), el("th", {}, "total"));
  const rows = types.map((type) => {
    let total = 0;
    const cells = shown.map((status) => {
      const n = counts[`${type}/${status}`] || 0;
      total += n;
      return el(
        "td",
        { class: n ? "n" : "n zero", "data-count": `${type}/${status}`, title: `show ${type} flows that are ${status}` },
        el("button", { type: "button", class: "link", onclick: () => narrowTo(type, status) }, n),
      );
    });
    return el("tr", {}, el("th", {}, type), cells, el("td", { class: "n total" }, total));
  });
  $("counts").replaceChildren(el("thead", {}, header), el("tbody", {}, rows));
}

function narrowTo(type, status) {
  const form = $("filters");
  form.flowType.value = type;
  for (const box of form.querySelectorAll("input[name=status]")) box.checked = box.value === status;
  if (status === "deleted") form.includeDeleted.checked = true;
  tick();
}

function renderList(more) {
  const rows = view.flows.map((f) =>
    el(
      "tr",
      {
        class: f.flow_id === view.selected ? "selected" : "",
        "data-flow-id": f.flow_id,
        onclick: () => select(f.flow_id),
      },
      el("td", {}, el("a", { href: `#flow=${f.flow_id}` }, f.name)),
      el("td", {}, f.flow_type),
      el("td", {}, badge(f.status)),
      el("td", {}, f.current_phase || "—"),
      el(
        "td",
        {},
        el("div", { class: "progress mini" }, el("div", { style: `width:${f.progress_percent}%` })),
        ` ${f.progress_percent}%`,
      ),
      el("td", { title: dateTime(f.updated_at) }, time(f.updated_at)),
    ),
  );
  $("flow-list").tBodies[0].replaceChildren(...rows);
  $("list-note").textContent = !hasAccess()
    ? "Enter the tenant (client account and engagement) or a bearer token above to see its flows."
    : `${view.flows.length} flow${view.flows.length === 1 ? "" : "s"}${more ? " shown (newest first; more exist)" : ""}`;
}

// ---- one flow: phases, master/child/CrewAI side by side, events ------------------------------------------------

function select(flowId) {
  if (location.hash !== `#flow=${flowId}`) location.hash = `flow=${flowId}`;
}

function selectedFromHash() {
  const match = /^#flow=([0-9a-fA-F-]{36})$/.exec(location.hash);
  return match ? match[1].toLowerCase() : null;
}

async function refreshDetail() {
  const id = view.selected;
  if (!id) {
    $("detail-body").hidden = true;
    $("detail-title").textContent = "none selected: pick one in the list";
    return;
  }
  if (view.eventsFor !== id) {
    view.events = [];
    view.eventsFor = id;
  }
  const [flow, status] = await Promise.all([
    api(`/api/v1/flows/${id}`, { accept: [404], conditional: true }),
    api(`/api/v1/flows/${id}/status`, { accept: [404], conditional: true }),
  ]);
  if (flow.status === 404 || status.status === 404) {
    view.flow = null;
    $("detail-body").hidden = true;
    $("detail-title").textContent = `no flow ${id} for this tenant`;
    return;
  }
  const moved = !view.flow || view.flow.flow_id !== id || view.flow.version !== flow.data.version;
  if (moved || !flow.unchanged) await refreshEvents(id);
  if (view.selected !== id) return;
  view.flow = { ...flow.data, etag: flow.etag };
  if (moved) await refreshAttempts(id);
  if (flow.unchanged && status.unchanged && !moved) return; // nothing new: the page stays as it is
  renderDetail(flow.data, status.data);
}

async function refreshEvents(id) {
  for (;;) {
    const after = view.events.length ? view.events[view.events.length - 1].version : null;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (after !== null) query.set("cursor", String(after));
    const { data } = await api(`/api/v1/flows/${id}/events?${query}`);
    if (view.eventsFor !== id) return;
    view.events.push(...data.items);
    if (!data.next_cursor) return;
  }
}

function renderDetail(flow, status) {
  $("detail-body").hidden = false;
  $("detail-title").replaceChildren(
    el("strong", { "data-testid": "flow-name" }, flow.name),
    " ",
    el("span", { class: "muted" }, `${flow.flow_type} · ${flow.flow_id}`),
  );
  const percent = status.master.progress_percent;
  $("detail-progress-bar").style.width = `${percent}%`;
  $("detail-progress").textContent = `${percent}%`;
  const sync = $("detail-sync");
  sync.className = `badge ${status.in_sync ? "s-completed" : "s-failed"}`;
  sync.textContent = status.in_sync ? "in sync" : "out of sync";
  sync.dataset.testid = "in-sync";
  renderPhases(flow, status);
  renderSides(status);
  renderTimeline();
  renderActions(flow);
  renderInputPanel(flow);
}

function renderPhases(flow, status) {
  const waiting = status.master.status === "waiting_for_input";
  $("phases").replaceChildren(
    ...status.phases.map((p, i) => {
      const current = p.name === status.master.current_phase;
      const state = current && waiting ? "waiting" : p.state;
      return el(
        "li",
        { class: `phase p-${state}${current ? " current" : ""}`, "data-phase": p.name, "data-state": p.state },
        el("span", { class: "step" }, i + 1),
        el("span", { class: "name" }, p.name.replaceAll("_", " ")),
        el("span", { class: "state" }, state === "waiting" ? "waiting for input" : p.state),
      );
    }),
  );
  if (flow.error) $("phases").append(el("li", { class: "phase-error" }, `error: ${flow.error}`));
}

function renderSides(status) {
  const master = status.master;
  const child = status.child;
  const crewai = child && child.mirrors ? child.mirrors.crewai : null;
  const mismatch = (ok) => (ok ? {} : { class: "mismatch", title: "differs from the master" });
  definitionList($("side-master"), [
    ["status", badge(master.status), { "data-testid": "master-status" }],
    ["current phase", master.current_phase, { "data-testid": "current-phase" }],
    ["version", master.version, { "data-testid": "master-version" }],
    ["progress", `${master.progress_percent}%`],
    ["error", master.error],
  ]);
  if (!child) {
    definitionList($("side-child"), [["record", "missing", { class: "mismatch" }]]);
  } else {
    const scalars = Object.entries(child.details || {}).filter(([, v]) => v === null || typeof v !== "object");
    // Per-phase completion flags (discovery's "<phase>_completed") read better as one row.
    const flags = scalars.filter(([key, v]) => key.endsWith("_completed") && typeof v === "boolean");
    const details = scalars.filter(([key]) => !flags.some(([flag]) => flag === key));
    if (flags.length) {
      const done = flags.filter(([, v]) => v).map(([key]) => key.slice(0, -"_completed".length));
      details.unshift(["phases done", `${done.length} of ${flags.length}`]);
    }
    definitionList($("side-child"), [
      ["status", badge(child.status), { "data-testid": "child-status" }],
      ["as master status", child.projected_status, mismatch(child.projected_status === master.status)],
      ["master version", child.master_version, mismatch(child.master_version === master.version)],
      ["progress", `${child.progress_percent}%`, mismatch(child.progress_percent === master.progress_percent)],
      ...details.map(([key, value]) => [key.replaceAll("_", " "), value]),
    ]);
  }
  if (!crewai) {
    definitionList($("side-crewai"), [["state", "none: this flow type does not run through CrewAI"]]);
  } else {
    definitionList($("side-crewai"), [
      ["status", badge(crewai.status), { "data-testid": "crewai-status", ...mismatch(crewai.status === master.status) }],
      ["master version", crewai.master_version, mismatch(crewai.master_version === master.version)],
      ["completed phases", (crewai.completed_phases || []).join(", ") || "—"],
      ["waiting for", crewai.waiting_for],
      ["kickoffs", crewai.kickoffs],
      ["state id", crewai.id],
    ]);
  }
}

function phaseChanges(event, previous) {
  const now = (event.data && event.data.phase_states) || {};
  const before = (previous && previous.data && previous.data.phase_states) || {};
  return Object.entries(now)
    .filter(([name, state]) => (before[name] || "pending") !== state)
    .map(([name, state]) => `${name} → ${state}`);
}

function renderTimeline() {
  const items = view.events.map((e, i) => {
    const changes = phaseChanges(e, view.events[i - 1]);
    return el(
      "li",
      { "data-version": e.version, "data-operation": e.operation },
      el("span", { class: "v" }, `v${e.version}`),
      el("time", { datetime: e.occurred_at, title: dateTime(e.occurred_at) }, time(e.occurred_at)),
      el("span", { class: "op" }, e.operation.replaceAll("_", " ")),
      el("span", { class: "transition" }, e.from_status ? badge(e.from_status) : "", e.from_status ? " → " : "", badge(e.to_status)),
      el("span", { class: "changes" }, changes.join("; ")),
      el("span", { class: "actor muted" }, e.actor),
      e.data && e.data.error ? el("div", { class: "phase-error" }, e.data.error) : null,
    );
  });
  $("timeline").replaceChildren(...items.reverse());
}

// ---- the consistency audit: the latest stored one when there is one, else an on-demand run ---------------------
// The stored (system-wide) runs are the platform operator's: a tenant's admin is refused them (401/403) and gets its
// own tenant's audit on demand instead, which is stored nowhere.

async function refreshAudit(runNow = false) {
  try {
    await loadAudit(runNow);
  } catch (error) {
    if (!(error instanceof ApiError) || ![401, 403].includes(error.status)) throw error;
    // Only an admin credential may run the audit (of its tenant). The rest of the page works without.
    view.audit = null;
    view.auditLoadedAt = Date.now();
    $("audit").replaceChildren(el("p", { class: "muted", "data-testid": "audit-refused" }, error.message));
    return;
  }
  renderAudit();
}

async function loadAudit(runNow) {
  if (!runNow) {
    const latest = await api("/api/v1/admin/consistency/latest", { accept: [401, 403, 404] });
    if (latest.status === 200 && !newer(view.audit, latest.data)) {
      view.audit = latest.data;
      view.auditSource = latest.data.trigger ? `stored, run by ${latest.data.trigger}` : "stored";
    }
    runNow = latest.status !== 200 && !view.audit;
  }
  if (runNow) {
    view.audit = (await api("/api/v1/admin/consistency?limit=20")).data;
    view.audit.ran_here_at = new Date().toISOString();
    view.auditSource = view.audit.scope === "tenant" ? "on demand, this tenant's flows" : "on demand";
  }
  view.auditLoadedAt = Date.now();
}

function newer(shown, latest) {
  if (!shown || view.auditSource !== "on demand") return false;
  const stored = Date.parse(auditTime(latest));
  return !Number.isNaN(stored) && stored < Date.parse(shown.ran_here_at);
}

function auditTime(report) {
  for (const key of ["finished_at", "completed_at", "ran_at", "checked_at", "started_at", "created_at", "ran_here_at"]) {
    if (report[key]) return report[key];
  }
  return null;
}

function renderAudit() {
  const report = view.audit;
  if (!report) return;
  const at = auditTime(report);
  const findings = report.findings || [];
  $("audit").replaceChildren(
    ...[
      el(
      "p",
      {},
      el(
        "span",
        { class: `badge ${report.consistent ? "s-completed" : "s-failed"}`, "data-testid": "audit-verdict" },
        report.consistent ? "consistent" : `${report.inconsistent} inconsistent`,
      ),
      ` ${report.flows_checked} flow${report.flows_checked === 1 ? "" : "s"} checked in ${Number(report.seconds).toFixed(3)} s`,
      el("br"),
      el("span", { class: "muted" }, `${view.auditSource}${at ? `, ${dateTime(at)}` : ""}`),
    ),
    findings.length
      ? el(
          "table",
          { class: "list" },
          el("thead", {}, el("tr", {}, el("th", {}, "flow"), el("th", {}, "type"), el("th", {}, "status"), el("th", {}, "problems"))),
          el(
            "tbody",
            {},
            findings.map((f) =>
              el(
                "tr",
                {},
                el("td", { class: "mono" }, String(f.flow_id).slice(0, 8)),
                el("td", {}, f.flow_type),
                el("td", {}, badge(f.status)),
                el("td", {}, (f.problems || []).join("; ")),
              ),
            ),
          ),
        )
      : null,
    ].filter(Boolean),
  );
}

// ---- polling ---------------------------------------------------------------------------------------------------

let timer = null;
let running = false;

async function tick() {
  clearTimeout(timer);
  if (running) return;
  running = true;
  try {
    const work = [];
    if (hasAccess()) work.push(refreshList(), refreshDetail(), refreshQueue());
    else renderList(false);
    if (Date.now() - view.auditLoadedAt > AUDIT_POLL_MS) work.push(refreshAudit());
    const results = await Promise.allSettled(work);
    const failed = results.find((r) => r.status === "rejected");
    showProblem(failed ? failed.reason : null);
    showLive(!failed, failed ? "refresh failed" : `live · updated ${new Date().toLocaleTimeString([], { hour12: false })}`);
  } finally {
    running = false;
    timer = setTimeout(tick, document.hidden ? POLL_MS * 5 : POLL_MS);
  }
}

// ---- start-up --------------------------------------------------------------------------------------------------

async function loadFlowTypes() {
  try {
    view.flowTypes = (await api("/api/v1/flow-types")).data.items;
  } catch (error) {
    showProblem(error);
  }
  const select = $("filters").flowType;
  for (const t of view.flowTypes) select.append(el("option", { value: t.name }, t.name));
  bindCreateForm();
}

function buildStatusFilter() {
  $("status-filter").append(
    ...STATUSES.filter((s) => s !== "deleted").map((s) =>
      el("label", { class: "inline" }, el("input", { type: "checkbox", name: "status", value: s }), s.replaceAll("_", " ")),
    ),
  );
}

function bindAccessForm() {
  const form = $("access");
  const access = loadAccess();
  form.clientAccountId.value = access.clientAccountId || "";
  form.engagementId.value = access.engagementId || "";
  form.token.value = access.token || "";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveAccess({
      clientAccountId: form.clientAccountId.value.trim(),
      engagementId: form.engagementId.value.trim(),
      token: form.token.value.trim(),
    });
    view.events = [];
    view.eventsFor = null;
    view.flow = null;
    tick();
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  forgetStoredAccess();
  bindAccessForm();
  buildStatusFilter();
  bindBulk();
  $("filters").addEventListener("change", () => tick());
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    tick();
  });
  $("audit-run").addEventListener("click", () => refreshAudit(true).catch(showProblem));
  view.selected = selectedFromHash();
  window.addEventListener("hashchange", () => {
    view.selected = selectedFromHash();
    view.flow = null;
    tick();
  });
  await loadFlowTypes();
  tick();
});
