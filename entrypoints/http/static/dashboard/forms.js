// Forms built from a JSON Schema (an input phase's declared input schema, GET /api/v1/flow-types), and a plain
// view of any JSON value (what a waiting phase proposed). No flow type has code of its own here.
//
// Supported: objects with properties, objects used as maps (additionalProperties: a key per entry, its value by that
// schema), arrays (of objects or of scalars), strings, enums, booleans, numbers and integers. Two keywords of MFO's
// own: "x-prefill", a JSON Pointer into the waiting phase's results whose value the field starts from, and "x-keys",
// a JSON Pointer to an object (or array) naming the keys a map may take (offered in a list when adding an entry).
"use strict";

// RFC 6901: "" is the whole document; "~1" is "/", "~0" is "~".
function resolvePointer(document, path) {
  if (typeof path !== "string") return undefined;
  if (path === "") return document;
  let node = document;
  for (const raw of path.replace(/^\//, "").split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function label(schema, fallback) {
  return schema.title || String(fallback).replaceAll("_", " ");
}

function kindOf(schema) {
  if (Array.isArray(schema.enum)) return "enum";
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "object" && schema.properties) return "object";
  if (type === "object") return "map";
  return type || "string";
}

function initialValue(schema, proposal, given) {
  if (given !== undefined) return given;
  const prefilled = resolvePointer(proposal, schema["x-prefill"]);
  if (prefilled !== undefined) return JSON.parse(JSON.stringify(prefilled));
  return schema.default;
}

// A field: { node, read() } where read() gives the value as the schema wants it (undefined: leave it out).
function schemaField(schema, name, proposal, given, path = name) {
  const value = initialValue(schema, proposal, given);
  switch (kindOf(schema)) {
    case "object":
      return objectField(schema, name, proposal, value || {}, path);
    case "map":
      return mapField(schema, name, proposal, value || {}, path);
    case "array":
      return arrayField(schema, name, proposal, value || [], path);
    case "enum":
      return enumField(schema, name, value, path);
    case "boolean":
      return booleanField(schema, name, value, path);
    case "number":
    case "integer":
      return numberField(schema, name, value, path);
    default:
      return stringField(schema, name, value, path);
  }
}

function described(schema, node) {
  return schema.description ? [node, el("small", { class: "muted hint" }, schema.description)] : [node];
}

function objectField(schema, name, proposal, value, path) {
  const required = new Set(schema.required || []);
  const fields = Object.entries(schema.properties).map(([key, sub]) => [
    key,
    schemaField(sub, key, proposal, value[key], `${path}.${key}`),
    required.has(key),
  ]);
  const node = el(
    "fieldset",
    { class: "schema-object", "data-field": path },
    el("legend", {}, label(schema, name)),
    ...described(schema, el("span")),
    fields.map(([, field]) => field.node),
  );
  return {
    node,
    read() {
      const out = {};
      for (const [key, field, isRequired] of fields) {
        const v = field.read();
        if (v !== undefined) out[key] = v;
        else if (isRequired) throw new Error(`${label(schema.properties[key], key)} is required`);
      }
      return out;
    },
  };
}

function mapField(schema, name, proposal, value, path) {
  const valueSchema = typeof schema.additionalProperties === "object" ? schema.additionalProperties : {};
  const offered = resolvePointer(proposal, schema["x-keys"]);
  const offeredKeys = Array.isArray(offered) ? offered.map(String) : offered && typeof offered === "object" ? Object.keys(offered) : null;
  const rows = [];
  const body = el("tbody");
  const keyInput = offeredKeys
    ? el("select", { "data-new-key": path }, el("option", { value: "" }, "choose…"), offeredKeys.map((k) => el("option", { value: k }, k)))
    : el("input", { "data-new-key": path, placeholder: "key", size: 16 });

  function addRow(key, initial) {
    const field = schemaField(valueSchema, "", proposal, initial, `${path}[${key}]`);
    const row = el(
      "tr",
      { "data-key": key },
      el("th", { class: "mono" }, key),
      el("td", {}, field.node),
      el("td", {}, el("button", { type: "button", class: "small ghost", title: `remove ${key}`, onclick: () => remove() }, "×")),
    );
    const entry = { key, field, row };
    function remove() {
      rows.splice(rows.indexOf(entry), 1);
      row.remove();
    }
    rows.push(entry);
    body.append(row);
  }

  for (const [key, initial] of Object.entries(value)) addRow(key, initial);
  const add = el(
    "button",
    {
      type: "button",
      class: "small",
      onclick: () => {
        const key = keyInput.value.trim();
        if (!key || rows.some((r) => r.key === key)) return;
        addRow(key, undefined);
        keyInput.value = "";
      },
    },
    "add",
  );
  const node = el(
    "fieldset",
    { class: "schema-map", "data-field": path },
    el("legend", {}, label(schema, name)),
    ...described(schema, el("table", { class: "list compact" }, body)),
    el("div", { class: "row" }, keyInput, add),
  );
  return {
    node,
    read() {
      return Object.fromEntries(rows.map((r) => [r.key, r.field.read()]).filter(([, v]) => v !== undefined));
    },
  };
}

function arrayField(schema, name, proposal, value, path) {
  const itemSchema = schema.items || {};
  const items = [];
  const list = el("ol", { class: "schema-array" });
  function addItem(initial) {
    const field = schemaField(itemSchema, `${items.length + 1}`, proposal, initial, `${path}[]`);
    const li = el("li", {}, field.node, el("button", { type: "button", class: "small ghost", onclick: () => remove() }, "×"));
    const entry = { field, li };
    function remove() {
      items.splice(items.indexOf(entry), 1);
      li.remove();
    }
    items.push(entry);
    list.append(li);
  }
  for (const initial of value) addItem(initial);
  const node = el(
    "fieldset",
    { class: "schema-list", "data-field": path },
    el("legend", {}, label(schema, name)),
    ...described(schema, list),
    el("button", { type: "button", class: "small", onclick: () => addItem(undefined) }, "add"),
  );
  return { node, read: () => items.map((i) => i.field.read()).filter((v) => v !== undefined) };
}

function enumField(schema, name, value, path) {
  const select = el(
    "select",
    { name: path, "data-field": path },
    el("option", { value: "" }, "—"),
    schema.enum.map((option) => el("option", { value: JSON.stringify(option), selected: option === value }, String(option))),
  );
  return {
    node: el("label", { class: "schema-field" }, `${label(schema, name)} `, select),
    read: () => (select.value === "" ? undefined : JSON.parse(select.value)),
  };
}

function booleanField(schema, name, value, path) {
  const box = el("input", { type: "checkbox", name: path, "data-field": path, checked: Boolean(value) });
  return { node: el("label", { class: "schema-field inline" }, box, ` ${label(schema, name)}`), read: () => box.checked };
}

function numberField(schema, name, value, path) {
  const input = el("input", { type: "number", name: path, "data-field": path, step: schema.type === "integer" ? "1" : "any" });
  if (value !== undefined && value !== null) input.value = String(value);
  return {
    node: el("label", { class: "schema-field" }, `${label(schema, name)} `, input),
    read: () => (input.value === "" ? undefined : Number(input.value)),
  };
}

function stringField(schema, name, value, path) {
  const input = el("input", { name: path, "data-field": path, size: 24 });
  if (value !== undefined && value !== null) input.value = String(value);
  return {
    node: el("label", { class: "schema-field" }, `${label(schema, name)} `, input),
    read: () => (input.value === "" ? undefined : input.value),
  };
}

// ---- a read-only view of any JSON value --------------------------------------------------------------------------

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function jsonView(value) {
  if (Array.isArray(value)) {
    if (value.length && value.every(isPlainObject)) return objectTable(value.map((v, i) => [String(i + 1), v]));
    return el("span", {}, value.length ? value.map((v) => short(v)).join(", ") : "none");
  }
  if (!isPlainObject(value)) return el("span", {}, short(value));
  const entries = Object.entries(value);
  if (entries.length && entries.every(([, v]) => isPlainObject(v))) return objectTable(entries);
  return el(
    "dl",
    { class: "json" },
    entries.flatMap(([key, v]) => [
      el("dt", {}, key.replaceAll("_", " ")),
      el("dd", { "data-key": key }, isPlainObject(v) || Array.isArray(v) ? jsonView(v) : short(v)),
    ]),
  );
}

// Rows named by their keys, a column per field any of them has.
function objectTable(entries) {
  const columns = [...new Set(entries.flatMap(([, v]) => Object.keys(v)))];
  return el(
    "table",
    { class: "list compact" },
    el("thead", {}, el("tr", {}, el("th", {}, ""), columns.map((c) => el("th", {}, c.replaceAll("_", " "))))),
    el(
      "tbody",
      {},
      entries.map(([key, v]) => el("tr", { "data-key": key }, el("th", { class: "mono" }, key), columns.map((c) => el("td", {}, short(v[c]))))),
    ),
  );
}
