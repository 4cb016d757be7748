// How each kind of node looks: label, colour class and a small SVG icon. A plain dataset is
// drawn as a "source" when nothing upstream of it is in the graph, and as a "training set" when
// it feeds a job that produces a model (what the graph shows, not a stored kind).

import { s } from "./dom.js";

export const KINDS = {
  source: { label: "source", title: "Source dataset" },
  dataset: { label: "dataset", title: "Dataset" },
  training_set: { label: "training set", title: "Training set" },
  feature_group: { label: "feature group", title: "Feature group" },
  model: { label: "model", title: "Model" },
  endpoint: { label: "endpoint", title: "Endpoint" },
  job: { label: "job", title: "Job" },
  run: { label: "run", title: "Run" },
  field: { label: "column", title: "Column" },
  more: { label: "more", title: "Collapsed neighbours" },
};

/** The kinds the API knows, for pickers and counts. */
export const API_KINDS = ["dataset", "feature_group", "model", "endpoint", "job"];

export function kindTitle(kind) {
  return (KINDS[kind] || KINDS.dataset).title;
}

/** The drawn kind of each node id of a graph ({nodes, edges}). */
export function displayKinds(nodes, edges) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const hasIn = new Set(edges.map((e) => e.destination));
  const outs = new Map();
  for (const e of edges) {
    if (!outs.has(e.origin)) outs.set(e.origin, []);
    outs.get(e.origin).push(e.destination);
  }
  const kinds = new Map();
  for (const node of nodes) {
    let kind = node.type === "datasetField" ? "field" : node.kind;
    if (kind === "dataset") {
      const feedsModel = (outs.get(node.id) || []).some((job) =>
        (outs.get(job) || []).some((out) => byId.get(out)?.kind === "model"),
      );
      if (feedsModel) kind = "training_set";
      else if (!hasIn.has(node.id)) kind = "source";
    }
    kinds.set(node.id, kind);
  }
  return kinds;
}

/** A 16x16 icon for a kind, drawn at (x, y). */
export function kindIcon(kind, x, y) {
  const g = s("g", { class: "icon", transform: `translate(${x},${y})`, "aria-hidden": "true" });
  const shapes = {
    source: [s("ellipse", { cx: 8, cy: 3, rx: 6, ry: 2.5 }), s("path", { d: "M2 3v10c0 1.4 2.7 2.5 6 2.5s6-1.1 6-2.5V3" })],
    dataset: [s("ellipse", { cx: 8, cy: 3, rx: 6, ry: 2.5 }), s("path", { d: "M2 3v10c0 1.4 2.7 2.5 6 2.5s6-1.1 6-2.5V3M2 8c0 1.4 2.7 2.5 6 2.5s6-1.1 6-2.5" })],
    training_set: [s("rect", { x: 1.5, y: 2, width: 13, height: 12, rx: 1 }), s("path", { d: "M1.5 6h13M6 6v8" })],
    feature_group: [s("rect", { x: 2, y: 1.5, width: 12, height: 3.5, rx: 1 }), s("rect", { x: 2, y: 6.25, width: 12, height: 3.5, rx: 1 }), s("rect", { x: 2, y: 11, width: 12, height: 3.5, rx: 1 })],
    model: [s("path", { d: "M8 1l6 3.5v7L8 15l-6-3.5v-7z" }), s("circle", { cx: 8, cy: 8, r: 2 })],
    endpoint: [s("circle", { cx: 8, cy: 8, r: 6.5 }), s("path", { d: "M1.5 8h13M8 1.5c2.5 2.5 2.5 10.5 0 13M8 1.5c-2.5 2.5-2.5 10.5 0 13" })],
    job: [s("circle", { cx: 8, cy: 8, r: 2.5 }), s("path", { d: "M8 1v3M8 12v3M1 8h3M12 8h3M3 3l2 2M11 11l2 2M13 3l-2 2M5 11l-2 2" })],
    run: [s("path", { d: "M4 2l10 6-10 6z" })],
    field: [s("path", { d: "M2 4h12M2 8h12M2 12h8" })],
    more: [s("circle", { cx: 3, cy: 8, r: 1.5 }), s("circle", { cx: 8, cy: 8, r: 1.5 }), s("circle", { cx: 13, cy: 8, r: 1.5 })],
  };
  for (const shape of shapes[kind] || shapes.dataset) g.append(shape);
  return g;
}
