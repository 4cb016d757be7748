// /ui/features?nodeId=datasetField:…&asOf= — the source columns behind a feature and the models
// that use it.

import { api } from "../api.js";
import { empty, failure, h, link, loading, mount, table } from "../dom.js";
import { GraphView, visibleGraph } from "../graph.js";
import { href, navigate } from "../router.js";
import { fromLocalInput, kindChip, toLocalInput } from "./common.js";

const ROLE_TITLES = { feature: "The feature", source: "Source columns behind it", upstream: "Other upstream columns", downstream: "Columns derived from it", consumer: "Models using it" };

export function featuresView(main, params) {
  const nodeId = params.get("nodeId") || "";
  const asOf = params.get("asOf") || "";
  const body = h("div", {}, loading("Loading feature lineage…"));
  const input = h("input", { name: "nodeId", value: nodeId, size: 70, placeholder: "datasetField:<namespace>:<dataset>:<column>", "aria-label": "Feature column node id" });
  main.append(
    h(
      "section",
      {},
      h("h1", {}, "Feature lineage"),
      h(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate(href("/ui/features", { nodeId: input.value, asOf: fromLocalInput(e.target.asOf.value) })); } },
        input,
        h("label", {}, "As of (UTC) ", h("input", { type: "datetime-local", name: "asOf", value: toLocalInput(asOf) })),
        h("button", { type: "submit" }, "Show"),
      ),
      body,
    ),
  );
  if (!nodeId) {
    mount(body, empty("Enter a feature column (a datasetField: node id), or pick one from a feature group's lineage."));
    return null;
  }
  const graphView = new GraphView({ onSelect: (node) => navigate(href("/ui/lineage", { nodeId: node.id.split("#")[0] })), label: "Feature lineage graph" });
  api
    .featureLineage({ nodeId, asOf })
    .then((answer) => {
      const byRole = new Map();
      for (const row of answer.rows) {
        if (!byRole.has(row.role)) byRole.set(row.role, []);
        byRole.get(row.role).push(row);
      }
      mount(
        body,
        Object.keys(ROLE_TITLES).filter((r) => byRole.has(r)).map((role) =>
          h("section", { class: `role-${role}` }, h("h2", {}, ROLE_TITLES[role]), table(["kind", "dataset", "column", "depth", "evidence"], byRole.get(role).map((r) => [kindChip(r.kind), link(href("/ui/lineage", { nodeId: `dataset:${r.namespace}:${r.dataset}` }), r.dataset), r.field ? h("code", {}, r.field) : "–", r.depth, r.evidence || "–"]))),
        ),
        answer.rows.length ? graphView.element : empty("No lineage recorded for this column."),
      );
      if (answer.rows.length) graphView.draw(visibleGraph(answer.graph, { focus: nodeId, collapsed: new Set(), revealed: new Set() }), { focus: nodeId });
    })
    .catch((error) => mount(body, failure(error)));
  return null;
}
