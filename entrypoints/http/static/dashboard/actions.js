// Changes from the page: create a flow, its transitions (each shown only when the flow's allowed_operations has it,
// each sent with the flow's ETag as If-Match), the input a waiting phase needs (a form built from the phase's declared
// JSON Schema, forms.js), and bulk changes over the list's filter (docs/adr/0020).
"use strict";

const FLOWS = "/api/v1/flows";
const BULK_CONCURRENCY = 4;
const BULK_MAX_PAGES = 100;
// Each button: the operation it needs in allowed_operations, its label, and the request it sends.
const ACTIONS = [
  { op: "start", label: "Start", path: "start", body: { auto_run: false } },
  { op: "start", label: "Start with auto-run", path: "start", body: { auto_run: true }, id: "start-auto" },
  { op: "execute_phase", label: "Run next phase", path: "execute" },
  { op: "pause", label: "Pause", path: "pause" },
  { op: "resume", label: "Resume", path: "resume" },
  { op: "retry", label: "Retry", path: "retry" },
  { op: "cancel", label: "Cancel", path: "cancel" },
  { op: "delete", label: "Delete…", method: "DELETE", path: "", confirm: true },
];
const DONE = { pause: "paused", resume: "resumed", cancel: "cancelled", retry: "retried" };

function flowUrl(flowId, path) {
  return `${FLOWS}/${flowId}${path ? `/${path}` : ""}`;
}

// A change went through: forget the copies the polls hold, so the next tick shows it.
function changed() {
  copies.clear();
  tick();
}

// ---- one flow's transitions --------------------------------------------------------------------------------------

let actionsShownFor = null;

function renderActions(flow) {
  const key = `${flow.flow_id}/${flow.version}`;
  if (actionsShownFor === key) return; // an open confirmation stays open while the flow does not change
  if (!actionsShownFor || !actionsShownFor.startsWith(`${flow.flow_id}/`)) {
    showRefusal($("action-problem"), null); // another flow: the last one's answers are not this one's
    $("action-note").textContent = "";
  }
  actionsShownFor = key;
  const allowed = new Set(flow.allowed_operations);
  const buttons = ACTIONS.filter((a) => allowed.has(a.op)).map((action) =>
    el(
      "button",
      {
        type: "button",
        class: action.op === "delete" || action.op === "cancel" ? "danger" : "",
        "data-action": action.id || action.op,
        onclick: () => (action.confirm ? confirmDelete(flow) : act(flow, action)),
      },
      action.label,
    ),
  );
  $("actions").replaceChildren(...(buttons.length ? buttons : [el("span", { class: "muted" }, "no operation is allowed now")]));
}

async function act(flow, action) {
  const box = $("action-problem");
  showRefusal(box, null);
  try {
    await api(flowUrl(flow.flow_id, action.path), {
      method: action.method || "POST",
      body: action.body,
      ifMatch: view.flow && view.flow.flow_id === flow.flow_id ? view.flow.etag : `"${flow.version}"`,
    });
  } catch (error) {
    showRefusal(box, error);
    actionsShownFor = null;
    return;
  }
  $("action-note").textContent = `${action.label.replace("…", "")}: done`;
  changed();
}

function confirmDelete(flow) {
  const action = ACTIONS.find((a) => a.op === "delete");
  $("actions").replaceChildren(
    el("span", { class: "confirm" }, `Delete the flow "${flow.name}"? It leaves every list (it is kept, deleted, for the audit).`),
    el("button", { type: "button", class: "danger", "data-action": "confirm-delete", onclick: () => act(flow, action) }, "Delete"),
    el("button", { type: "button", class: "ghost", onclick: () => ((actionsShownFor = null), renderActions(flow)) }, "Keep it"),
  );
}

// ---- the input a waiting phase needs -----------------------------------------------------------------------------

let inputShownFor = null;

function renderInputPanel(flow) {
  const panel = $("input-panel");
  const phase = flow.current_phase;
  const type = view.flowTypes.find((t) => t.name === flow.flow_type);
  if (flow.status !== "waiting_for_input" || !phase) {
    panel.hidden = true;
    inputShownFor = null;
    return;
  }
  const key = `${flow.flow_id}/${flow.version}`;
  if (inputShownFor === key) return; // keep what is being typed
  inputShownFor = key;
  panel.hidden = false;
  const proposal = (flow.phase_results || {})[phase] || {};
  const schema = type && type.input_schemas ? type.input_schemas[phase] : null;
  const parts = [
    el("h3", {}, `Waiting for input: ${phase.replaceAll("_", " ")}`),
    el("h4", {}, "What the phase proposes"),
    el("div", { class: "proposal", "data-testid": "proposal" }, jsonView(proposal)),
  ];
  if (!schema) {
    parts.push(el("p", { class: "muted" }, `${flow.flow_type} declares no input schema for ${phase}: send its input through the API.`));
    panel.replaceChildren(...parts);
    return;
  }
  panel.replaceChildren(...parts, inputForm(flow, schema, proposal));
}

// The form of the schema; a boolean property "approved" becomes the Approve and Reject buttons.
function inputForm(flow, schema, proposal) {
  const properties = { ...(schema.properties || {}) };
  const approval = properties.approved && properties.approved.type === "boolean";
  if (approval) delete properties.approved;
  const required = (schema.required || []).filter((k) => k in properties);
  const field = schemaField({ ...schema, properties, required, title: schema.title || "Input" }, "input", proposal, undefined);
  const problem = el("div", { class: "problem", role: "alert", "data-testid": "input-problem", hidden: true });

  async function submit(approved) {
    showRefusal(problem, null);
    let body;
    try {
      body = field.read();
    } catch (error) {
      showRefusal(problem, error);
      return;
    }
    if (approval) body = { approved, ...body };
    try {
      await api(flowUrl(flow.flow_id, "input"), { method: "POST", body, ifMatch: view.flow ? view.flow.etag : undefined });
    } catch (error) {
      showRefusal(problem, error);
      return;
    }
    inputShownFor = null;
    $("action-note").textContent = approval ? (approved ? "input approved" : "input rejected") : "input sent";
    changed();
  }

  const buttons = approval
    ? [
        el("button", { type: "button", "data-action": "approve", onclick: () => submit(true) }, "Approve"),
        el("button", { type: "button", class: "danger", "data-action": "reject", onclick: () => submit(false) }, "Reject"),
      ]
    : [el("button", { type: "button", "data-action": "submit-input", onclick: () => submit(undefined) }, "Submit")];
  return el("form", { class: "input-form", id: "input-form", onsubmit: (e) => e.preventDefault() }, field.node, el("div", { class: "row" }, buttons), problem);
}

// ---- creating a flow -----------------------------------------------------------------------------------------------

function bindCreateForm() {
  const form = $("create");
  form.flowType.replaceChildren(...view.flowTypes.map((t) => el("option", { value: t.name }, t.name)));
  const example = () => {
    const type = view.flowTypes.find((t) => t.name === form.flowType.value);
    form.configuration.value = JSON.stringify((type && type.example_configuration) || {}, null, 2);
  };
  form.flowType.addEventListener("change", example);
  example();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("create-problem");
    showRefusal(box, null);
    let configuration;
    try {
      configuration = JSON.parse(form.configuration.value || "{}");
    } catch (error) {
      showRefusal(box, new Error(`the configuration is not JSON: ${error.message}`));
      return;
    }
    try {
      const { data } = await api(FLOWS, {
        method: "POST",
        body: { flow_type: form.flowType.value, name: form.name.value.trim(), configuration },
      });
      form.name.value = "";
      select(data.flow_id);
      changed();
    } catch (error) {
      showRefusal(box, error);
    }
  });
}

// ---- bulk changes over the list's filter ---------------------------------------------------------------------------
// The page asks for every flow the filter matches, counts those whose allowed_operations has the operation, and after
// the confirmation sends one request per flow (its own transaction), each with the version it counted as If-Match:
// a flow that changed since is refused (409) and reported, never changed unseen.

function bindBulk() {
  $("bulk-review").addEventListener("click", () => reviewBulk().catch((error) => showRefusal($("bulk-result"), error)));
}

async function reviewBulk() {
  const op = $("bulk-operation").value;
  const f = filters();
  const { flows, more } = await listFlows(f, BULK_MAX_PAGES, false);
  const eligible = flows.filter((flow) => flow.allowed_operations.includes(op));
  const box = $("bulk-confirm");
  showRefusal($("bulk-result"), null);
  $("bulk-result").hidden = true;
  box.hidden = false;
  const what = `${eligible.length} of the ${flows.length}${more ? "+" : ""} flow${flows.length === 1 ? "" : "s"} the filter matches`;
  if (!eligible.length) {
    box.replaceChildren(el("span", { "data-testid": "bulk-count" }, `No flow the filter matches can be ${DONE[op]} (${what}).`));
    return;
  }
  box.replaceChildren(
    el("span", { "data-testid": "bulk-count" }, `${op[0].toUpperCase()}${op.slice(1)} ${what}?`),
    el("button", { type: "button", class: "danger", "data-action": "bulk-confirm", onclick: () => applyBulk(op, eligible) }, `${op} ${eligible.length}`),
    el("button", { type: "button", class: "ghost", onclick: () => (box.hidden = true) }, "Back"),
  );
}

async function applyBulk(op, flows) {
  const box = $("bulk-confirm");
  const result = $("bulk-result");
  box.replaceChildren(el("span", {}, `${op}: 0 of ${flows.length}…`));
  const refused = [];
  let done = 0;
  let next = 0;
  async function worker() {
    while (next < flows.length) {
      const flow = flows[next++];
      try {
        await api(flowUrl(flow.flow_id, op), { method: "POST", ifMatch: `"${flow.version}"` });
      } catch (error) {
        refused.push([flow, error]);
      }
      done += 1;
      box.replaceChildren(el("span", {}, `${op}: ${done} of ${flows.length}…`));
    }
  }
  await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, flows.length) }, worker));
  box.hidden = true;
  result.hidden = false;
  result.className = refused.length ? "problem" : "note ok";
  result.replaceChildren(
    el("strong", { "data-testid": "bulk-summary" }, `${flows.length - refused.length} ${DONE[op]}${refused.length ? `, ${refused.length} refused` : ""}`),
    refused.length
      ? el(
          "ul",
          {},
          refused.map(([flow, error]) =>
            el("li", { "data-flow-id": flow.flow_id }, `${flow.name}: ${error instanceof ApiError ? `${error.status} ${error.title}: ${error.detail}` : error.message}`),
          ),
        )
      : null,
  );
  changed();
}
