// The lineage graph component: a left-to-right layered DAG (dagre's layout) drawn as SVG with
// real <text> labels. Each node is a focusable button; wide fan-outs collapse into one
// "+N more" node; a node's neighbours can be collapsed; the path between two nodes can be lit.

import dagre from "./../vendor/dagre.esm.js";
import { h, s } from "./dom.js";
import { displayKinds, kindIcon, kindTitle, KINDS } from "./kinds.js";

/** Above this many neighbours on one side, a node's neighbours collapse into "+N more". */
export const FAN_OUT_LIMIT = 25;

const NODE_W = 240;
/** Below this zoom labels are hard to read: the first view centres the focus instead of fitting. */
const MIN_FIT_ZOOM = 0.7;
const NODE_H = 50;
const MORE_W = 150;

function adjacency(edges) {
  const out = new Map();
  const inn = new Map();
  for (const e of edges) {
    if (!out.has(e.origin)) out.set(e.origin, []);
    if (!inn.has(e.destination)) inn.set(e.destination, []);
    out.get(e.origin).push(e.destination);
    inn.get(e.destination).push(e.origin);
  }
  return { out, inn };
}

/**
 * What to draw of a graph seen from `focus` (a node id, or several): walk downstream along out-edges and upstream along
 * in-edges; a node in `collapsed` is drawn but not walked past; a side with more than `limit`
 * neighbours shows only those in `revealed` and one "more" node holding the rest.
 * Returns {nodes, edges, more: [{id, anchor, side, items}]}.
 */
export function visibleGraph(graph, { focus, collapsed, revealed, limit = FAN_OUT_LIMIT }) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const { out, inn } = adjacency(graph.edges);
  const seen = new Set();
  const more = [];
  const moreEdges = [];
  const wanted = (Array.isArray(focus) ? focus : [focus]).filter((id) => byId.has(id));
  const starts = wanted.length ? wanted : graph.nodes.slice(0, 1).map((n) => n.id);
  for (const start of starts) seen.add(start);
  for (const [side, next] of [
    ["down", out],
    ["up", inn],
  ]) {
    const queue = [...starts];
    const walked = new Set(queue);
    while (queue.length) {
      const id = queue.shift();
      if (collapsed.has(id)) continue;
      let neighbours = (next.get(id) || []).filter((n) => byId.has(n));
      if (neighbours.length > limit) {
        const hidden = neighbours.filter((n) => !revealed.has(n) && !seen.has(n));
        neighbours = neighbours.filter((n) => revealed.has(n) || seen.has(n));
        if (hidden.length) {
          const moreId = `more:${side}:${id}`;
          more.push({ id: moreId, anchor: id, side, items: hidden.map((n) => byId.get(n)) });
          moreEdges.push(side === "down" ? { origin: id, destination: moreId } : { origin: moreId, destination: id });
        }
      }
      for (const n of neighbours) {
        seen.add(n);
        if (!walked.has(n)) {
          walked.add(n);
          queue.push(n);
        }
      }
    }
  }
  const nodes = graph.nodes.filter((n) => seen.has(n.id));
  const edges = graph.edges.filter((e) => seen.has(e.origin) && seen.has(e.destination));
  return { nodes, edges: [...edges, ...moreEdges], more };
}

/** Node ids on a path between a and b in data-flow order: a downstream path from a to b, else
 * one from b to a, else one ignoring direction (from a). */
export function pathBetween(edges, a, b) {
  const { out, inn } = adjacency(edges);
  const both = new Map();
  for (const [k, v] of out) both.set(k, [...v]);
  for (const [k, v] of inn) both.set(k, [...(both.get(k) || []), ...v]);
  for (const next of [out, inn, both]) {
    const parent = new Map([[a, null]]);
    const queue = [a];
    while (queue.length) {
      const id = queue.shift();
      if (id === b) {
        const path = [];
        for (let at = b; at !== null; at = parent.get(at)) path.unshift(at);
        return next === inn ? path.reverse() : path;
      }
      for (const n of next.get(id) || []) {
        if (!parent.has(n)) {
          parent.set(n, id);
          queue.push(n);
        }
      }
    }
  }
  return [];
}

function shortName(node) {
  if (node.type === "datasetField") return node.field;
  return node.name;
}

function subtitle(node, kind, note) {
  const label = KINDS[kind]?.label || kind;
  if (note) return `${label} · ${note}`;
  if (node.version && node.type === "dataset") {
    const v = node.version.length > 12 ? `${node.version.slice(0, 8)}…` : node.version;
    return `${label} · v${v}`;
  }
  if (node.type === "datasetField") {
    const dataset = node.name.split("/").pop();
    return `${label} of ${dataset}`;
  }
  return node.type === "run" ? `${label} ${node.id.slice("run:".length, "run:".length + 8)}` : label;
}

/** Shorten an SVG text to maxWidth px: a name from the front (its end tells it apart), a
 * subtitle from the end. */
function fitText(text, maxWidth) {
  const full = text.textContent;
  if (text.getComputedTextLength() <= maxWidth) return;
  const fromFront = text.classList.contains("label");
  const cut = (n) => (fromFront ? `…${full.slice(full.length - n)}` : `${full.slice(0, n)}…`);
  // Guess from the average glyph width, then step down: usually one or two measurements.
  let n = Math.floor((full.length * maxWidth) / text.getComputedTextLength());
  text.textContent = cut(n);
  while (n > 1 && text.getComputedTextLength() > maxWidth) text.textContent = cut(--n);
}

function edgePath(points) {
  const [first, ...rest] = points;
  let d = `M${first.x},${first.y}`;
  if (rest.length === 1) return `${d}L${rest[0].x},${rest[0].y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const mid = { x: (rest[i].x + rest[i + 1].x) / 2, y: (rest[i].y + rest[i + 1].y) / 2 };
    d += `Q${rest[i].x},${rest[i].y} ${mid.x},${mid.y}`;
  }
  const last = rest[rest.length - 1];
  return `${d}L${last.x},${last.y}`;
}

function nodeShape(kind, w, ht) {
  switch (kind) {
    case "model":
      return s("path", { class: "shape", d: `M12,0H${w - 12}L${w},${ht / 2}L${w - 12},${ht}H12L0,${ht / 2}Z` });
    case "endpoint":
      return s("rect", { class: "shape", width: w, height: ht, rx: ht / 2 });
    case "job":
    case "run":
      return s("rect", { class: "shape", width: w, height: ht, rx: 4 });
    case "feature_group":
      return s("g", {}, s("rect", { class: "shape back", x: 4, y: -4, width: w, height: ht, rx: 8 }), s("rect", { class: "shape", width: w, height: ht, rx: 8 }));
    case "more":
      return s("rect", { class: "shape", width: w, height: ht, rx: 8 });
    default:
      return s("rect", { class: "shape", width: w, height: ht, rx: 2 });
  }
}

/**
 * A graph drawing. `draw(view, options)` lays out and renders a visibleGraph() result;
 * callbacks: onSelect(node, event), onMore(moreGroup), onToggle(node).
 */
export class GraphView {
  /** fitAll: the first view always fits the whole graph (a short evidence path), where the
   * explorer centres its focus once fitting would make labels unreadable. */
  constructor({ onSelect, onMore, onToggle, label = "Lineage graph", fitAll = false }) {
    this.fitAll = fitAll;
    this.onSelect = onSelect;
    this.onMore = onMore;
    this.onToggle = onToggle;
    this.svg = s("svg", { class: "graph-svg", role: "group", "aria-label": label });
    this.layer = s("g", {});
    this.svg.append(this.defs(), this.layer);
    this.zoom = { x: 0, y: 0, k: 1 };
    this.element = h(
      "div",
      { class: "graph" },
      this.svg,
      h(
        "div",
        { class: "graph-tools" },
        h("button", { type: "button", title: "Zoom in", "aria-label": "Zoom in", onclick: () => this.zoomBy(1.25) }, "+"),
        h("button", { type: "button", title: "Zoom out", "aria-label": "Zoom out", onclick: () => this.zoomBy(0.8) }, "−"),
        h("button", { type: "button", title: "Fit to view", "aria-label": "Fit to view", onclick: () => this.fit() }, "Fit"),
      ),
    );
    this.installPanZoom();
  }

  defs() {
    return s(
      "defs",
      {},
      s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0L10,5L0,10z", class: "arrowhead" })),
      s("marker", { id: "arrow-lit", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0L10,5L0,10z", class: "arrowhead lit" })),
    );
  }

  /** Lay out and draw; options: {focus (id or ids), selected, path: [ids], collapsed: Set,
   * notes: Map(id -> text shown after the kind, such as a model's version)}. */
  draw(view, { focus, selected, path = [], collapsed = new Set(), notes = new Map() }) {
    const kinds = displayKinds(view.nodes, view.edges);
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 44, marginx: 20, marginy: 20 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const node of view.nodes) g.setNode(node.id, { width: NODE_W, height: NODE_H });
    for (const m of view.more) g.setNode(m.id, { width: MORE_W, height: NODE_H });
    for (const e of view.edges) g.setEdge(e.origin, e.destination);
    dagre.layout(g);
    this.bounds = { width: g.graph().width || 1, height: g.graph().height || 1 };

    const focused = new Set(Array.isArray(focus) ? focus : [focus]);
    const onPath = new Set(path);
    const pathEdges = new Set(path.slice(1).map((id, i) => `${path[i]}\u0000${id}`));
    const edges = s("g", { class: "edges" });
    for (const e of view.edges) {
      const points = g.edge(e.origin, e.destination)?.points;
      if (!points) continue;
      const lit = pathEdges.has(`${e.origin}\u0000${e.destination}`) || pathEdges.has(`${e.destination}\u0000${e.origin}`);
      edges.append(s("path", { class: lit ? "edge lit" : "edge", d: edgePath(points), "marker-end": lit ? "url(#arrow-lit)" : "url(#arrow)", dataset: { origin: e.origin, destination: e.destination } }));
    }
    const nodes = s("g", { class: "nodes" });
    for (const node of view.nodes) {
      const kind = kinds.get(node.id);
      const box = g.node(node.id);
      const classes = ["node", `kind-${kind}`];
      if (focused.has(node.id)) classes.push("focus");
      if (node.id === selected) classes.push("selected");
      if (onPath.has(node.id)) classes.push("on-path");
      if (collapsed.has(node.id)) classes.push("collapsed");
      const name = shortName(node);
      const el = s(
        "g",
        {
          class: classes.join(" "),
          transform: `translate(${box.x - NODE_W / 2},${box.y - NODE_H / 2})`,
          tabindex: 0,
          role: "button",
          "aria-label": `${kindTitle(kind)} ${node.type === "datasetField" ? `${node.name}.${node.field}` : node.name}${node.version ? ` version ${node.version}` : ""}`,
          "aria-pressed": node.id === selected ? "true" : "false",
          dataset: { nodeId: node.id, kind, name: node.type === "datasetField" ? `${node.name}.${node.field}` : node.name },
        },
        s("title", {}, `${node.id}\n(${kindTitle(kind)}; Enter: details, Shift+Enter or Shift+click: path to the selected node, E/C: expand/collapse, arrows: move, +/-/0: zoom)`),
        nodeShape(kind, NODE_W, NODE_H),
        kindIcon(kind, 12, NODE_H / 2 - 8),
        s("text", { class: "label", x: 36, y: 21 }, name),
        s("text", { class: "sub", x: 36, y: 37 }, subtitle(node, kind, notes.get(node.id))),
        this.onToggle
          ? s(
              "g",
              { class: "toggle", transform: `translate(${NODE_W - 22},${NODE_H / 2 - 8})`, dataset: { action: "toggle" } },
              s("title", {}, collapsed.has(node.id) ? "Expand neighbours" : "Collapse neighbours"),
              s("rect", { width: 16, height: 16, rx: 3 }),
              s("path", { d: collapsed.has(node.id) ? "M4 8h8M8 4v8" : "M4 8h8" }),
            )
          : null,
      );
      el.addEventListener("click", (event) => {
        if (event.target.closest("[data-action=toggle]")) this.onToggle?.(node);
        else this.onSelect?.(node, event);
      });
      el.addEventListener("keydown", (event) => this.key(event, node));
      nodes.append(el);
    }
    for (const m of view.more) {
      const box = g.node(m.id);
      const el = s(
        "g",
        {
          class: "node kind-more",
          transform: `translate(${box.x - MORE_W / 2},${box.y - NODE_H / 2})`,
          tabindex: 0,
          role: "button",
          "aria-label": `${m.items.length} more neighbours, open the list`,
          dataset: { more: m.id },
        },
        s("title", {}, `${m.items.length} ${m.side === "down" ? "downstream" : "upstream"} neighbours: open a searchable list`),
        nodeShape("more", MORE_W, NODE_H),
        kindIcon("more", 12, NODE_H / 2 - 8),
        s("text", { class: "label", x: 36, y: 21 }, `+${m.items.length} more`),
        s("text", { class: "sub", x: 36, y: 37 }, m.side === "down" ? "downstream" : "upstream"),
      );
      el.addEventListener("click", () => this.onMore?.(m));
      el.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          this.onMore?.(m);
        }
      });
      nodes.append(el);
    }
    this.layer.replaceChildren(edges, nodes);
    const room = NODE_W - 36 - (this.onToggle ? 28 : 10);
    for (const text of nodes.querySelectorAll("g.node:not(.kind-more) text")) fitText(text, room);
    this.positions = new Map(view.nodes.map((n) => [n.id, g.node(n.id)]));
    performance.mark("mllineage:graph-drawn"); // User Timing: what bench/ui.py reads
    // A new set of nodes is fitted again; a redraw of the same nodes (a selection, a lit path)
    // keeps where the reader has panned and zoomed.
    const drawnKey = [...view.nodes.map((n) => n.id), ...view.more.map((m) => `${m.id}:${m.items.length}`)].join("\n");
    if (drawnKey !== this.drawnKey) {
      this.drawnKey = drawnKey;
      const first = [...focused].find((id) => this.positions.has(id));
      requestAnimationFrame(() => this.fit(this.fitAll ? undefined : first));
    }
  }

  key(event, node) {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.onSelect?.(node, event);
    } else if (event.key === "e" || event.key === "c") {
      this.onToggle?.(node, event.key === "e" ? "expand" : "collapse");
    } else if (event.key === "+" || event.key === "=") {
      this.zoomBy(1.25);
    } else if (event.key === "-") {
      this.zoomBy(0.8);
    } else if (event.key === "0") {
      this.fit();
    } else if (event.key.startsWith("Arrow")) {
      event.preventDefault();
      this.moveFocus(event.currentTarget, event.key);
    }
  }

  /** Arrow keys move the keyboard focus to the nearest node in that direction. */
  moveFocus(from, key) {
    const at = from.getBoundingClientRect();
    let best = null;
    let bestScore = Infinity;
    for (const el of this.layer.querySelectorAll(".node")) {
      if (el === from) continue;
      const r = el.getBoundingClientRect();
      const dx = r.x - at.x;
      const dy = r.y - at.y;
      const ok = { ArrowRight: dx > 1, ArrowLeft: dx < -1, ArrowDown: dy > 1, ArrowUp: dy < -1 }[key];
      if (!ok) continue;
      const score = key === "ArrowRight" || key === "ArrowLeft" ? Math.abs(dx) + 3 * Math.abs(dy) : Math.abs(dy) + 3 * Math.abs(dx);
      if (score < bestScore) {
        bestScore = score;
        best = el;
      }
    }
    best?.focus();
  }

  applyZoom() {
    const { x, y, k } = this.zoom;
    this.layer.setAttribute("transform", `translate(${x},${y}) scale(${k})`);
  }

  /** Fit the whole graph; given a node id, too small a fit centres that node instead. */
  fit(centre) {
    const rect = this.svg.getBoundingClientRect();
    if (!rect.width || !this.bounds) return;
    const k = Math.min(1.2, rect.width / this.bounds.width, rect.height / this.bounds.height);
    const at = centre && this.positions?.get(centre);
    if (k < MIN_FIT_ZOOM && at) {
      this.zoom = { k: MIN_FIT_ZOOM, x: rect.width / 2 - at.x * MIN_FIT_ZOOM, y: rect.height / 2 - at.y * MIN_FIT_ZOOM };
    } else {
      this.zoom = { k, x: (rect.width - this.bounds.width * k) / 2, y: (rect.height - this.bounds.height * k) / 2 };
    }
    this.applyZoom();
  }

  zoomBy(factor, cx, cy) {
    const rect = this.svg.getBoundingClientRect();
    const px = cx ?? rect.width / 2;
    const py = cy ?? rect.height / 2;
    const k = Math.max(0.1, Math.min(4, this.zoom.k * factor));
    const ratio = k / this.zoom.k;
    this.zoom = { k, x: px - (px - this.zoom.x) * ratio, y: py - (py - this.zoom.y) * ratio };
    this.applyZoom();
  }

  installPanZoom() {
    this.svg.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const rect = this.svg.getBoundingClientRect();
        this.zoomBy(event.deltaY < 0 ? 1.1 : 0.9, event.clientX - rect.left, event.clientY - rect.top);
      },
      { passive: false },
    );
    let drag = null;
    this.svg.addEventListener("pointerdown", (event) => {
      if (event.target.closest(".node")) return;
      drag = { x: event.clientX - this.zoom.x, y: event.clientY - this.zoom.y };
      this.svg.setPointerCapture(event.pointerId);
    });
    this.svg.addEventListener("pointermove", (event) => {
      if (!drag) return;
      this.zoom = { ...this.zoom, x: event.clientX - drag.x, y: event.clientY - drag.y };
      this.applyZoom();
    });
    this.svg.addEventListener("pointerup", () => {
      drag = null;
    });
  }
}
