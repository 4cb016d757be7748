// /ui/lineage?nodeId=&direction=&depth=&asOf=&version=&columns= — the explorer.

import { api } from "../api.js";
import { empty, failure, h, loading, mount } from "../dom.js";
import { GraphView, pathBetween, visibleGraph } from "../graph.js";
import { href, navigate } from "../router.js";
import { detailsPanel } from "./details.js";
import { baseId, columnGraph, fromLocalInput, kindChip, toLocalInput } from "./common.js";

export const DEFAULT_DEPTH = 6;
const EXPAND_DEPTH = 2;

function readParams(params) {
  return {
    nodeId: params.get("nodeId") || "",
    direction: params.get("direction") || "both",
    depth: Number(params.get("depth") || DEFAULT_DEPTH),
    asOf: params.get("asOf") || "",
    version: params.get("version") || "",
    columns: params.get("columns") === "true",
  };
}

function merge(graph, more) {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const n of more.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
  const key = (e) => `${e.origin}\u0000${e.destination}`;
  const edges = new Map(graph.edges.map((e) => [key(e), e]));
  for (const e of more.edges) if (!edges.has(key(e))) edges.set(key(e), e);
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** The start node's id in an answer: the path end the rows share. */
function startOf(answer, requested) {
  if (answer.graph.nodes.some((n) => n.id === requested)) return requested;
  const row = answer.rows[0];
  if (!row) return answer.graph.nodes[0]?.id;
  return row.direction === "upstream" ? row.path[row.path.length - 1] : row.path[0];
}

function frontierOf(answer, depth) {
  return new Set(answer.rows.filter((r) => r.depth >= depth).map((r) => r.node_id));
}

export function lineageView(main, params) {
  const p = readParams(params);
  const go = (changes) => navigate(href("/ui/lineage", { ...p, ...changes, depth: changes.depth ?? (p.depth === DEFAULT_DEPTH ? "" : p.depth), columns: changes.columns ?? p.columns }));
  const state = { graph: null, focus: null, selected: null, path: [], collapsed: new Set(), revealed: new Set(), frontier: new Set(), notes: new Map() };

  const status = h("p", { class: "status", role: "status" });
  const panel = h("aside", { class: "details", "aria-label": "Details" }, h("p", { class: "hint" }, "Select a node to see its details. Shift+click a second node to light the path between them."));
  const graphView = new GraphView({
    onSelect: (node, event) => select(node, event.shiftKey),
    onMore: (group) => openMore(group),
    onToggle: (node, how) => toggle(node, how),
  });
  const versionSelect = h("select", { id: "version", name: "version", "aria-label": "Model version", onchange: (e) => go({ version: e.target.value }) }, h("option", { value: "" }, "current graph"));
  const controls = h(
    "form",
    { class: "controls", onsubmit: (e) => e.preventDefault() },
    h("label", {}, "Direction ", h("select", { name: "direction", onchange: (e) => go({ direction: e.target.value }) }, ["both", "upstream", "downstream"].map((d) => h("option", { value: d, selected: d === p.direction }, d)))),
    h("label", {}, "Depth ", h("input", { type: "number", name: "depth", min: 1, max: 50, value: p.depth, onchange: (e) => go({ depth: e.target.value }) })),
    h("label", {}, "As of (UTC) ", h("input", { type: "datetime-local", name: "asOf", value: toLocalInput(p.asOf), onchange: (e) => go({ asOf: fromLocalInput(e.target.value) }) })),
    p.asOf ? h("button", { type: "button", onclick: () => go({ asOf: "" }) }, "Now") : null,
    h("label", { class: "version-picker", hidden: true }, "Version ", versionSelect),
    h("label", {}, h("input", { type: "checkbox", name: "columns", checked: p.columns, onchange: (e) => go({ columns: e.target.checked }) }), " Columns"),
  );
  const moreDialog = h("dialog", { class: "more-list", "aria-label": "Collapsed neighbours" });
  main.append(
    h("section", { class: "explorer" }, h("h1", { class: "node-title" }, p.nodeId || "Lineage explorer"), controls, status, h("div", { class: "split" }, graphView.element, panel)),
    moreDialog,
  );

  if (!p.nodeId) {
    mount(status, "Pick a node from the search page to explore its lineage.");
    return null;
  }

  function redraw() {
    const view = visibleGraph(state.graph, { focus: state.starts || state.focus, collapsed: state.collapsed, revealed: state.revealed });
    state.view = view;
    const expandable = new Set([...state.collapsed, ...state.frontier]);
    graphView.draw(view, { focus: state.starts || state.focus, selected: state.selected, path: state.path, collapsed: expandable, notes: state.notes });
    const hidden = view.more.reduce((n, m) => n + m.items.length, 0);
    mount(status, `${view.nodes.length} node${view.nodes.length === 1 ? "" : "s"} drawn`, hidden ? `, ${hidden} behind "+N more"` : "", state.truncated ? " — the node cap stopped the walk (truncated)" : "", p.asOf ? ` — as of ${p.asOf}` : "", p.version ? ` — pinned to version ${p.version}` : "");
    if (state.path.length) status.append(" — path: ", h("span", { class: "path-text" }, state.path.map((id) => state.graph.nodes.find((n) => n.id === id)?.name || id).join(" → ")), " ", h("button", { type: "button", onclick: () => { state.path = []; redraw(); } }, "Clear path"));
  }

  function select(node, extend) {
    if (extend && state.selected && state.selected !== node.id) {
      state.path = pathBetween(state.view.edges, state.selected, node.id);
      if (!state.path.length) mount(status, "No path between these nodes in the drawn graph.");
      redraw();
      return;
    }
    state.selected = node.id;
    state.path = [];
    redraw();
    showDetails(node);
  }

  function showDetails(node) {
    const actions = p.columns ? {} : { onExpand: () => toggle(node, "expand"), onCollapse: () => toggle(node, "collapse") };
    detailsPanel(panel, node, { asOf: p.asOf, ...actions });
  }

  async function toggle(node, how) {
    const expand = how ? how === "expand" : state.collapsed.has(node.id) || state.frontier.has(node.id);
    if (!expand) {
      state.collapsed.add(node.id);
      redraw();
      return;
    }
    state.collapsed.delete(node.id);
    if (state.frontier.has(node.id) && !p.columns) {
      mount(status, `Expanding ${node.name}…`);
      try {
        const answer = await api.lineage({ nodeId: node.id, direction: "both", depth: EXPAND_DEPTH, asOf: p.asOf });
        const known = new Set(state.graph.nodes.map((n) => n.id));
        state.graph = merge(state.graph, answer.graph);
        for (const id of frontierOf(answer, EXPAND_DEPTH)) if (!known.has(id)) state.frontier.add(id);
      } catch (error) {
        mount(status, failure(error));
        return;
      }
    }
    state.frontier.delete(node.id);
    redraw();
  }

  function openMore(group) {
    const list = h("ul", { class: "more-items" });
    const filter = h("input", { type: "search", placeholder: "Filter by name", "aria-label": "Filter neighbours" });
    const fill = () => {
      const q = filter.value.toLowerCase();
      const items = group.items.filter((n) => n.name.toLowerCase().includes(q) || n.namespace.toLowerCase().includes(q));
      mount(list, items.slice(0, 200).map((n) => h("li", {}, kindChip(n.kind), " ", h("button", { type: "button", class: "linkish", title: "Show it in the graph", onclick: () => { state.revealed.add(n.id); moreDialog.close(); redraw(); } }, n.name), h("span", { class: "muted" }, ` ${n.namespace}`), " ", h("a", { href: href("/ui/lineage", { nodeId: n.id }), "data-link": true, title: "Explore its lineage", onclick: () => moreDialog.close() }, "focus"))), items.length > 200 ? h("li", { class: "muted" }, `${items.length - 200} more: refine the filter`) : null);
    };
    filter.addEventListener("input", fill);
    fill();
    mount(moreDialog, h("h2", {}, `${group.items.length} ${group.side === "down" ? "downstream" : "upstream"} neighbours`), filter, list, h("form", { method: "dialog" }, h("button", {}, "Close")));
    moreDialog.showModal();
    filter.focus();
  }

  async function load() {
    mount(status, loading("Loading lineage…"));
    try {
      if (p.columns) {
        const answer = await api.columnLineage(baseId(p.nodeId), p.depth);
        state.graph = columnGraph(answer);
        // every column of the dataset is a start: its columns' lineages are separate components
        const prefix = `datasetField:${baseId(p.nodeId).replace(/^dataset:/, "")}:`;
        state.starts = state.graph.nodes.filter((n) => n.id.startsWith(prefix) || n.id === p.nodeId).map((n) => n.id);
        state.focus = state.starts[0] || state.graph.nodes[0]?.id;
        state.truncated = false;
      } else {
        const nodeId = p.version ? `${baseId(p.nodeId)}#${p.version}` : p.nodeId;
        const answer = await api.lineage({ nodeId, direction: p.direction, depth: p.depth, asOf: p.asOf });
        state.graph = answer.graph;
        state.focus = startOf(answer, nodeId);
        state.truncated = answer.truncated;
        state.frontier = frontierOf(answer, p.depth);
      }
    } catch (error) {
      mount(status, failure(error));
      return;
    }
    if (!state.graph.nodes.length) {
      mount(status, empty(p.columns ? "No column-level lineage recorded for this node." : "Nothing is connected to this node (at this time)."));
      return;
    }
    state.selected = state.focus;
    redraw();
    const focusNode = state.graph.nodes.find((n) => n.id === state.focus);
    const drawsModels = state.view.nodes.some((n) => n.kind === "model" || n.kind === "endpoint");
    if (!p.columns && !p.version && drawsModels) noteVersions();
    if (focusNode) {
      showDetails(focusNode);
      if (focusNode.kind === "model" && !p.columns) fillVersions(focusNode);
    }
  }

  /** Each model's version and the version each endpoint serves (as of asOf), from /ml/models:
   * asked from the focus, or for a model in focus from the job that produced it. */
  async function noteVersions() {
    let from = state.focus;
    let direction = "both";
    if (state.graph.nodes.find((n) => n.id === state.focus)?.kind === "model") {
      from = state.graph.edges.find((e) => e.destination === state.focus)?.origin;
      direction = "downstream";
    }
    if (!from) return;
    try {
      const answer = await api.models({ nodeId: from, direction, depth: p.depth, asOf: p.asOf });
      for (const row of answer.rows) {
        if (row.current_version) state.notes.set(row.node_id, `v${row.current_version}`);
        for (const e of row.endpoints) if (e.model_version) state.notes.set(e.node_id, `serves v${e.model_version}`);
      }
      redraw();
    } catch {
      // the graph stands without the version notes
    }
  }

  async function fillVersions(node) {
    try {
      const answer = await api.datasetVersions(node.namespace, node.name, 50);
      for (const v of answer.versions) versionSelect.append(h("option", { value: v.version, selected: v.version === p.version }, `v${v.version} (${v.createdAt.slice(0, 10)})`));
      controls.querySelector(".version-picker").hidden = false;
    } catch {
      // the picker stays hidden; the graph is still right
    }
  }

  load();
  return { cleanup: () => moreDialog.close?.() };
}
