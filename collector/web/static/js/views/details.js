// The details panel of one node: schema with tag/PII badges, owners, documentation, data-quality
// profile, model metrics and parameters, endpoint info, versions, runs (with errors and stack
// traces) and the raw events behind it — all read from the public API.

import { api } from "../api.js";
import { badge, duration, empty, failure, h, loading, mount, table, time } from "../dom.js";
import { kindChip, viewLinks } from "./common.js";

function section(title, ...body) {
  return h("section", { class: "panel-section" }, h("h3", {}, title), ...body);
}

function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

function keyValues(object) {
  const entries = Object.entries(object || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  if (!entries.length) return empty("none");
  return h("dl", { class: "kv" }, entries.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))]));
}

function owners(facets) {
  const list = facets?.ownership?.owners || [];
  return list.length ? h("p", {}, list.map((o) => badge(o.type ? `${o.type}:${o.name}` : o.name, "owner"))) : empty("No owners recorded.");
}

function fieldTags(dataset) {
  const tags = new Map();
  for (const tag of dataset.facets?.tags?.tags || []) {
    if (!tag.field) continue;
    if (!tags.has(tag.field)) tags.set(tag.field, []);
    tags.get(tag.field).push(tag.value && tag.value !== "true" ? `${tag.key}:${tag.value}` : tag.key);
  }
  for (const field of dataset.fields || []) {
    for (const t of field.tags || []) {
      if (!tags.has(field.name)) tags.set(field.name, []);
      if (!tags.get(field.name).includes(t)) tags.get(field.name).push(t);
    }
  }
  return tags;
}

function tagBadge(tag) {
  return badge(tag, tag.startsWith("pii") ? "pii" : "tag");
}

function schemaTable(dataset) {
  const tags = fieldTags(dataset);
  const fields = dataset.fields || [];
  if (!fields.length) return empty("No schema recorded.");
  return table(
    ["column", "type", "tags", "description"],
    fields.map((f) => [h("code", {}, f.name), f.type || "–", (tags.get(f.name) || []).map(tagBadge), f.description || ""]),
    { class: "schema" },
  );
}

function profile(facet) {
  if (!facet) return empty("No data-quality profile recorded.");
  const columns = Object.entries(facet.columnMetrics || {});
  return h(
    "div",
    {},
    h("p", {}, `rows: ${facet.rowCount ?? "–"}`, facet.bytes ? ` · bytes: ${facet.bytes}` : ""),
    columns.length ? table(["column", "nulls", "distinct", "min", "max"], columns.map(([name, m]) => [name, m.nullCount ?? "–", m.distinctCount ?? "–", m.min ?? "–", m.max ?? "–"])) : null,
  );
}

function runState(state) {
  return badge(state || "–", `state state-${(state || "").toLowerCase()}`);
}

function runsTable(runs) {
  if (!runs.length) return empty("No runs recorded.");
  return h(
    "div",
    { class: "runs" },
    runs.map((run) => {
      const error = run.facets?.errorMessage;
      return h(
        "div",
        { class: "run" },
        h("p", {}, runState(run.state), " ", h("code", {}, run.id), ` · ${time(run.startedAt)} · ${duration(run.durationMs)}`),
        error ? h("p", { class: "error-message" }, error.message) : null,
        error?.stackTrace ? h("details", {}, h("summary", {}, "Stack trace"), h("pre", { class: "stack" }, error.stackTrace)) : null,
      );
    }),
  );
}

function eventsList(events) {
  if (!events.length) return empty("No raw events.");
  return h(
    "div",
    {},
    events.map((e) => h("details", { class: "event" }, h("summary", {}, `${e.eventType || "event"} · ${time(e.eventTime)} · ${e.job?.name || e.dataset?.name || ""}`), json(e))),
  );
}

async function datasetDetails(node) {
  const [dataset, versions] = await Promise.all([api.dataset(node.namespace, node.name), api.datasetVersions(node.namespace, node.name, 10)]);
  const facets = dataset.facets || {};
  const parts = [];
  const model = facets.mllineage_model;
  const endpoint = facets.mllineage_endpoint;
  const group = facets.mllineage_featureGroup;
  if (model) {
    parts.push(section(`Model ${model.name} v${model.version}`, h("p", {}, [model.framework, model.task, model.stage].filter(Boolean).join(" · ")), h("h4", {}, "Metrics"), keyValues(model.metrics), h("h4", {}, "Parameters"), keyValues(model.hyperparameters)));
  }
  if (endpoint) {
    parts.push(section("Endpoint", keyValues({ platform: endpoint.platform, url: endpoint.url, "serves model version": endpoint.modelVersion, status: endpoint.status, traffic: endpoint.trafficPercent, instance: endpoint.instanceType, deployed: endpoint.deployedAt })));
  }
  if (group) {
    parts.push(section(`Feature group ${group.name}`, keyValues({ store: group.featureStore, entities: (group.entities || []).join(", "), version: group.version })));
  }
  const datasetTags = (dataset.tags || []).concat((facets.tags?.tags || []).filter((t) => !t.field).map((t) => t.key));
  parts.push(
    section("Schema", datasetTags.length ? h("p", {}, datasetTags.map(tagBadge)) : null, schemaTable(dataset)),
    section("Owners", owners(facets)),
    section("Documentation", facets.documentation?.description ? h("p", {}, facets.documentation.description) : dataset.description ? h("p", {}, dataset.description) : empty("No documentation.")),
    section("Data quality", profile(facets.dataQualityMetrics)),
    section(
      `Versions (${versions.totalCount ?? versions.versions.length})`,
      versions.versions.length
        ? table(["version", "created", "by run"], versions.versions.map((v) => [h("code", {}, v.version), time(v.createdAt), v.createdByRun ? h("span", {}, runState(v.createdByRun.state), " ", h("code", {}, v.createdByRun.id.slice(0, 8))) : "–"]))
        : empty("No versions."),
    ),
    section("Runs that produced it", runsTable(versions.versions.map((v) => v.createdByRun).filter(Boolean).slice(0, 5))),
  );
  return parts;
}

async function jobDetails(node) {
  const [job, runs] = await Promise.all([api.job(node.namespace, node.name), api.jobRuns(node.namespace, node.name, 10)]);
  const facets = job.facets || {};
  return [
    section("Owners", owners(facets)),
    section("Documentation", facets.documentation?.description ? h("p", {}, facets.documentation.description) : empty("No documentation.")),
    facets.sourceCodeLocation ? section("Code", keyValues({ url: facets.sourceCodeLocation.url, path: facets.sourceCodeLocation.path, version: facets.sourceCodeLocation.version })) : null,
    facets.sql ? section("SQL", h("pre", {}, facets.sql.query)) : null,
    section(`Runs (${runs.totalCount ?? runs.runs.length})`, runsTable(runs.runs)),
  ];
}

async function runDetails(node) {
  const run = await api.run(node.id.slice("run:".length));
  return [section("Run", runsTable([run])), section("Facets", json(run.facets || {}))];
}

/** Fill panel with the details of node (a graph node: {id, type, namespace, name, kind, version}). */
export async function detailsPanel(panel, node, { asOf, onExpand, onCollapse } = {}) {
  const body = h("div", {}, loading("Loading details…"));
  const title = node.type === "datasetField" ? `${node.name}.${node.field}` : node.name;
  mount(
    panel,
    h("h2", {}, title),
    h("p", {}, kindChip(node.kind === "dataset" ? "dataset" : node.kind), node.version ? ` version ${node.version}` : "", " ", h("span", { class: "muted" }, node.namespace)),
    h("p", {}, viewLinks(node.id, node.kind)),
    asOf ? h("p", { class: "hint" }, `The graph is as of ${asOf}; these details are the latest known.`) : null,
    onExpand ? h("p", { class: "actions" }, h("button", { type: "button", onclick: onExpand }, "Expand neighbours"), " ", h("button", { type: "button", onclick: onCollapse }, "Collapse neighbours")) : null,
    body,
  );
  try {
    let parts;
    if (node.type === "job") parts = await jobDetails(node);
    else if (node.type === "run") parts = await runDetails(node);
    else parts = await datasetDetails(node);
    const events = node.type === "run" || node.type === "datasetField" ? null : await api.nodeEvents(node.id, 20);
    mount(body, parts, events ? section(`Raw events (${events.events.length})`, eventsList(events.events)) : null);
  } catch (error) {
    mount(body, failure(error));
  }
}
