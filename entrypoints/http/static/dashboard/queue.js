// The queue and worker view (GET /api/v1/queue, polled with If-None-Match) and the selected flow's attempts.
"use strict";

function seconds(fromIso, toMs = Date.now()) {
  const ms = toMs - Date.parse(fromIso);
  if (Number.isNaN(ms)) return "";
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

function flowLink(item) {
  return el("a", { href: `#flow=${item.flow_id}` }, item.name);
}

async function refreshQueue() {
  // A 304 hands back the copy: drawn again all the same, as its "… ago" columns move on.
  const { data } = await api("/api/v1/queue?limit=20", { conditional: true });
  renderQueue(data);
}

function renderQueue(queue) {
  const counts = el(
    "p",
    { class: "queue-counts" },
    el("span", { class: "badge", "data-testid": "queue-waiting" }, `${queue.waiting_count} waiting`),
    " ",
    el("span", { class: "badge s-running", "data-testid": "queue-due" }, `${queue.due_count} due now`),
    " ",
    el("span", { class: "badge s-in_progress", "data-testid": "queue-running" }, `${queue.running_count} running`),
    " ",
    el("span", { class: `badge ${queue.expired_count ? "s-failed" : ""}`, "data-testid": "queue-expired" }, `${queue.expired_count} expired leases`),
  );
  const waiting = queue.waiting.length
    ? el(
        "table",
        { class: "list compact", id: "queue-waiting" },
        el("thead", {}, el("tr", {}, ["flow", "phase", "attempt", "due"].map((h) => el("th", {}, h)))),
        el(
          "tbody",
          {},
          queue.waiting.map((q) =>
            el(
              "tr",
              { "data-flow-id": q.flow_id },
              el("td", {}, flowLink(q)),
              el("td", {}, q.phase || "—"),
              el("td", {}, q.attempt),
              el("td", { title: dateTime(q.due_at) }, q.due ? `now (${seconds(q.due_at)})` : seconds(q.due_at)),
            ),
          ),
        ),
      )
    : el("p", { class: "muted" }, "No flow waits for a worker.");
  const running = queue.running.length
    ? el(
        "table",
        { class: "list compact", id: "queue-running" },
        el("thead", {}, el("tr", {}, ["flow", "phase", "attempt", "worker", "started", "lease"].map((h) => el("th", {}, h)))),
        el(
          "tbody",
          {},
          queue.running.map((h) =>
            el(
              "tr",
              { "data-flow-id": h.flow_id, class: h.lease_expired ? "expired" : "" },
              el("td", {}, flowLink(h)),
              el("td", {}, h.phase),
              el("td", {}, h.attempt),
              el("td", { class: "mono" }, h.owner),
              el("td", { title: dateTime(h.started_at) }, seconds(h.started_at)),
              el("td", { title: dateTime(h.lease_expires_at) }, h.lease_expired ? `expired ${seconds(h.lease_expires_at)}` : `until ${time(h.lease_expires_at)}`),
            ),
          ),
        ),
      )
    : el("p", { class: "muted" }, "No phase is running.");
  $("queue").replaceChildren(counts, el("h4", {}, "Waiting for a worker"), waiting, el("h4", {}, "Running phases"), running);
}

async function refreshAttempts(id) {
  const { data } = await api(`/api/v1/flows/${id}/attempts?limit=20`);
  if (view.selected !== id) return;
  $("attempts").replaceChildren(
    ...(data.items.length
      ? [
          el("thead", {}, el("tr", {}, ["phase", "attempt", "worker", "started", "ended", "result", "detail"].map((h) => el("th", {}, h)))),
          el(
            "tbody",
            {},
            data.items.map((a) =>
              el(
                "tr",
                { "data-run-id": a.run_id },
                el("td", {}, a.phase),
                el("td", {}, a.attempt),
                el("td", { class: "mono" }, a.owner),
                el("td", { title: dateTime(a.started_at) }, time(a.started_at)),
                el("td", { title: dateTime(a.ended_at) }, a.ended_at ? time(a.ended_at) : "running"),
                el("td", {}, a.result ? badge(a.result) : "—"),
                el("td", {}, a.detail || ""),
              ),
            ),
          ),
        ]
      : [el("tbody", {}, el("tr", {}, el("td", { class: "muted" }, "No phase has run yet.")))]),
  );
}
