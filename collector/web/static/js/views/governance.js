// /ui/governance?tag=pii&asOf= — the models and endpoints reached from tagged data: what is fed
// by it today (or asOf) and every model version ever built on it, side by side; a row's evidence
// path is drawn on click.

import { api } from "../api.js";
import { badge, empty, failure, h, link, loading, mount } from "../dom.js";
import { GraphView } from "../graph.js";
import { href, navigate } from "../router.js";
import { fromLocalInput, kindChip, pathsGraph, toLocalInput } from "./common.js";

/** A model version reads "v1"; another dataset's version (a uuid) is shortened. */
function versionTag(row) {
  const version = row.node_id.split("#")[1];
  if (!version) return null;
  if (row.kind === "model") return h("span", { class: "version-tag" }, ` v${version}`);
  return h("span", { class: "muted", title: version }, ` @${version.slice(0, 8)}`);
}

/** What a row's path rests on: the tagged column followed through column lineage, or job level. */
function evidenceBadge(row) {
  const title =
    row.evidence === "column"
      ? "Every job on the path declares column lineage deriving the tagged column"
      : "Some hop propagates at job level (dataset-level tag, output without column lineage, or inferred edge)";
  return h("span", { class: `badge evidence-${row.evidence}`, title }, row.evidence);
}

export function governanceView(main, params) {
  const tag = params.get("tag") || "pii";
  const asOf = params.get("asOf") || "";
  const go = (changes) => navigate(href("/ui/governance", { tag, asOf, ...changes }));
  const today = h("div", {}, loading());
  const ever = h("div", {}, loading());
  const evidence = h("div", { class: "evidence" }, h("p", { class: "hint" }, "Click a row to draw its evidence path."));
  const graphView = new GraphView({ onSelect: (node) => navigate(href("/ui/lineage", { nodeId: node.id.split("#")[0] })), label: "Evidence path", fitAll: true });
  main.append(
    h(
      "section",
      {},
      h("h1", {}, "Governance: models and endpoints built on ", badge(tag, tag.startsWith("pii") ? "pii" : "tag"), " data"),
      h(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); go({ tag: e.target.tag.value }); } },
        h("label", {}, "Tag ", h("input", { name: "tag", value: tag, size: 12 })),
        h("label", {}, "As of (UTC) ", h("input", { type: "datetime-local", name: "asOf", value: toLocalInput(asOf), onchange: (e) => go({ asOf: fromLocalInput(e.target.value) }) })),
        h("button", { type: "submit" }, "Show"),
      ),
      h("div", { class: "columns" }, h("section", {}, h("h2", {}, asOf ? `Fed by ${tag} data as of ${asOf}` : `Fed by ${tag} data today`), today), h("section", {}, h("h2", {}, `Every model version ever built on ${tag} data`), ever)),
      h("h2", {}, "Evidence"),
      evidence,
    ),
  );

  function show(answer, row, tr) {
    for (const other of main.querySelectorAll("tr.chosen")) other.classList.remove("chosen");
    tr.classList.add("chosen");
    const names = row.path.map((id) => answer.graph.nodes.find((n) => n.id === id)?.name || id).join(" → ");
    mount(evidence, h("p", {}, evidenceBadge(row), " ", names), graphView.element);
    const sub = pathsGraph(answer.graph, [row.path]);
    const fields = row.tagged_fields.filter(Boolean);
    const notes = new Map([[row.path[0], `${row.tag_key}${fields.length ? `: ${fields.join(", ")}` : ""}`]]);
    graphView.draw({ nodes: sub.nodes, edges: sub.edges, more: [] }, { focus: row.node_id, path: row.path, notes });
  }

  function rowsTable(answer, target) {
    if (!answer.rows.length) {
      mount(target, empty(asOf ? "No model or endpoint had such data upstream at that time." : "No model or endpoint has such data upstream."));
      return;
    }
    const tbody = h("tbody", {});
    for (const row of answer.rows) {
      const tr = h(
        "tr",
        { tabindex: 0, class: "clickable", dataset: { nodeId: row.node_id } },
        h("td", {}, kindChip(row.kind)),
        h("td", {}, link(href(row.kind === "model" ? "/ui/model" : "/ui/lineage", { nodeId: row.node_id.split("#")[0] }), row.name), versionTag(row)),
        h("td", {}, h("code", {}, row.tagged_node_id.replace(/^dataset:/, ""))),
        h("td", {}, row.tagged_fields.filter(Boolean).map((f) => badge(f, "pii"))),
        h("td", {}, evidenceBadge(row)),
        h("td", {}, String(row.depth)),
      );
      tr.addEventListener("click", (e) => {
        if (!e.target.closest("a")) show(answer, row, tr);
      });
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter") show(answer, row, tr);
      });
      tbody.append(tr);
    }
    const head = h("thead", {}, h("tr", {}, ["kind", "node", "tagged source", "fields", "evidence", "depth"].map((c) => h("th", { scope: "col" }, c))));
    mount(target, h("table", { class: "tagged" }, head, tbody), answer.total_count > answer.rows.length ? h("p", { class: "muted" }, `first ${answer.rows.length} of ${answer.total_count}`) : null);
  }

  api.tagged({ tag, asOf, limit: 200 }).then((a) => rowsTable(a, today)).catch((e) => mount(today, failure(e)));
  api.tagged({ tag, scope: "versions", limit: 200 }).then((a) => rowsTable(a, ever)).catch((e) => mount(ever, failure(e)));
  return null;
}
