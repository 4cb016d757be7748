// /ui/impact?nodeId=&limit=&offset= — everything downstream grouped by kind, with owners and
// last run, one page at a time, a CSV download of all rows, and the graph of the page.

import { api } from "../api.js";
import { badge, empty, failure, h, link, loading, mount, table, time } from "../dom.js";
import { GraphView, visibleGraph } from "../graph.js";
import { href, navigate } from "../router.js";
import { baseId, fromLocalInput, kindChip, toLocalInput } from "./common.js";

const PAGE = 50;
const KIND_ORDER = ["endpoint", "model", "feature_group", "dataset", "job"];
const CSV_COLUMNS = ["kind", "node_id", "namespace", "name", "version", "depth", "owners", "last_run_id", "last_run_state", "last_run_at"];

function csvCell(value) {
  const text = Array.isArray(value) ? value.join(" ") : value === null || value === undefined ? "" : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function impactView(main, params) {
  const nodeId = baseId(params.get("nodeId") || "");
  const offset = Number(params.get("offset") || 0);
  const limit = Number(params.get("limit") || PAGE);
  const asOf = params.get("asOf") || "";
  const body = h("div", {}, loading("Loading impact…"));
  const asOfPicker = h("label", {}, "As of (UTC) ", h("input", { type: "datetime-local", name: "asOf", value: toLocalInput(asOf), onchange: (e) => navigate(href("/ui/impact", { nodeId, asOf: fromLocalInput(e.target.value) })) }));
  main.append(h("section", {}, h("h1", {}, "Impact of ", h("code", {}, nodeId || "?")), h("p", { class: "controls" }, link(href("/ui/lineage", { nodeId, direction: "downstream", asOf }), "Lineage downstream"), asOfPicker), body));
  if (!nodeId) {
    mount(body, empty("Pick a node from the search page."));
    return null;
  }
  const graphView = new GraphView({ onSelect: (node) => navigate(href("/ui/lineage", { nodeId: baseId(node.id) })), label: "Impact graph of this page" });

  async function downloadCsv(button) {
    button.disabled = true;
    try {
      const rows = [];
      for (let at = 0; ; at += 1000) {
        const page = await api.impact({ nodeId, asOf, limit: 1000, offset: at });
        rows.push(...page.rows);
        if (rows.length >= page.total_count || !page.rows.length) break;
      }
      const text = [CSV_COLUMNS.join(","), ...rows.map((r) => CSV_COLUMNS.map((c) => csvCell(r[c])).join(","))].join("\n");
      const a = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: "impact.csv" });
      document.body.append(a);
      a.click();
      a.remove();
    } finally {
      button.disabled = false;
    }
  }

  (async () => {
    try {
      const answer = await api.impact({ nodeId, asOf, limit, offset });
      if (!answer.total_count) {
        mount(body, empty("Nothing is downstream of this node."));
        return;
      }
      const groups = new Map();
      for (const row of answer.rows) {
        if (!groups.has(row.kind)) groups.set(row.kind, []);
        groups.get(row.kind).push(row);
      }
      const kinds = [...groups.keys()].sort((a, b) => KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b));
      const pager = h(
        "nav",
        { class: "pager", "aria-label": "Pages" },
        `rows ${offset + 1}–${offset + answer.rows.length} of ${answer.total_count} `,
        offset > 0 ? link(href("/ui/impact", { nodeId, asOf, offset: Math.max(0, offset - limit) || "" }), "← previous") : null,
        " ",
        offset + limit < answer.total_count ? link(href("/ui/impact", { nodeId, asOf, offset: offset + limit }), "next →") : null,
        " ",
        h("button", { type: "button", onclick: (e) => downloadCsv(e.currentTarget) }, "Download CSV (all rows)"),
      );
      mount(
        body,
        pager,
        kinds.map((kind) =>
          h(
            "section",
            { class: "impact-group", dataset: { kind } },
            h("h2", {}, kindChip(kind), ` ${groups.get(kind).length}`),
            table(
              ["node", "depth", "owners", "last run", "state", "at"],
              groups.get(kind).map((r) => [link(href("/ui/lineage", { nodeId: r.node_id }), r.name), r.depth, r.owners.map((o) => badge(o, "owner")), r.last_run_id ? h("code", {}, r.last_run_id.slice(0, 8)) : "–", r.last_run_state || "–", time(r.last_run_at)]),
            ),
          ),
        ),
        h("h2", {}, "Graph of this page"),
        graphView.element,
      );
      graphView.draw(visibleGraph(answer.graph, { focus: nodeId, collapsed: new Set(), revealed: new Set() }), { focus: nodeId });
    } catch (error) {
      mount(body, failure(error));
    }
  })();
  return null;
}
