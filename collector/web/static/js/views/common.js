// Pieces several views share: links between views, kind chips, graph conversion.

import { h, link, s } from "../dom.js";
import { kindIcon, kindTitle } from "../kinds.js";
import { href } from "../router.js";

/** The part of a node id without its #version. */
export function baseId(nodeId) {
  const at = nodeId.indexOf("#");
  return at < 0 ? nodeId : nodeId.slice(0, at);
}

export function kindChip(kind) {
  const svg = s("svg", { class: `chip-icon kind-${kind}`, width: 16, height: 16, viewBox: "0 0 16 16", "aria-hidden": "true" }, kindIcon(kind, 0, 0));
  return h("span", { class: `chip kind-${kind}`, title: kindTitle(kind) }, svg, h("span", { class: "chip-text" }, kindTitle(kind)));
}

/** Links from a node to the views about it. */
export function viewLinks(nodeId, kind) {
  const id = baseId(nodeId);
  const links = [link(href("/ui/lineage", { nodeId: id }), "Lineage")];
  if (!id.startsWith("run:")) links.push(link(href("/ui/impact", { nodeId: id }), "Impact"));
  if (kind === "model") links.push(link(href("/ui/model", { nodeId: id }), "Versions"));
  if (id.startsWith("datasetField:")) links.push(link(href("/ui/features", { nodeId: id }), "Feature lineage"));
  return h("span", { class: "view-links" }, links.flatMap((l, i) => (i ? [" · ", l] : [l])));
}

/** Marquez's column-lineage shape ({graph: [{id, data, outEdges}]}) as {nodes, edges}. */
export function columnGraph(answer) {
  const nodes = answer.graph.map((n) => ({
    id: n.id,
    type: "datasetField",
    namespace: n.data.namespace,
    name: n.data.dataset,
    field: n.data.field,
    kind: "field",
    version: null,
  }));
  const edges = answer.graph.flatMap((n) => n.outEdges.map((e) => ({ origin: e.origin, destination: e.destination })));
  return { nodes, edges };
}

/** The subgraph made of the given paths (lists of node ids) of an answer's graph. */
export function pathsGraph(graph, paths) {
  const keep = new Set(paths.flat());
  const steps = new Set(paths.flatMap((p) => p.slice(1).map((id, i) => `${p[i]}\u0000${id}`)));
  return {
    nodes: graph.nodes.filter((n) => keep.has(n.id)),
    edges: graph.edges.filter((e) => steps.has(`${e.origin}\u0000${e.destination}`)),
  };
}

/** <input type=datetime-local> value (UTC) from an ISO time, and back. */
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().slice(0, 16);
}

export function fromLocalInput(value) {
  return value ? `${value}:00Z` : "";
}
