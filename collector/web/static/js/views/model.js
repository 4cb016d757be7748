// /ui/model?nodeId= — a model's versions timeline with metrics, each version's training run
// (parameters, code, owners: the audit record) and pinned inputs, which endpoints serve which
// version, and a comparison of two versions' inputs.

import { api } from "../api.js";
import { badge, empty, failure, h, link, loading, mount, safeUrl, table, time } from "../dom.js";
import { href } from "../router.js";
import { baseId, kindChip } from "./common.js";

function inputsOf(chain) {
  return chain.rows.filter((r) => r.direction === "upstream" && r.type === "dataset");
}

function servedBy(chain) {
  return chain.rows.filter((r) => r.direction === "downstream" && r.kind === "endpoint");
}

export function modelView(main, params) {
  const nodeId = baseId(params.get("nodeId") || "");
  const body = h("div", {}, loading("Loading model versions…"));
  main.append(h("section", {}, h("h1", {}, "Model ", h("code", {}, nodeId || "?")), h("p", {}, link(href("/ui/lineage", { nodeId }), "Lineage"), " · ", link(href("/ui/impact", { nodeId }), "Impact")), body));
  if (!nodeId) {
    mount(body, empty("Pick a model from the search page."));
    return null;
  }
  load();

  async function load() {
    try {
      const newest = await api.modelLineage({ nodeId, depth: 0 });
      const first = newest.rows.find((r) => r.direction === "self");
      if (!first) throw new Error(`${nodeId} has no model version`);
      const versions = (await api.datasetVersions(first.namespace, first.name, 50)).versions;
      const [chains, audits] = await Promise.all([
        Promise.all(versions.map((v) => api.modelLineage({ nodeId, version: v.version, depth: 8 }))),
        Promise.all(versions.map((v) => api.audit({ nodeId, version: v.version }))),
      ]);
      const rows = versions.map((v, i) => ({ version: v, chain: chains[i], audit: audits[i].rows[0] }));
      mount(body, timeline(rows), compare(rows));
    } catch (error) {
      mount(body, failure(error));
    }
  }

  function timeline(rows) {
    if (!rows.length) return empty("This model has no versions yet.");
    return h(
      "section",
      {},
      h("h2", {}, "Versions"),
      h(
        "ol",
        { class: "timeline" },
        rows.map(({ version, chain, audit }) => {
          const facet = version.facets?.mllineage_model || {};
          const run = version.createdByRun;
          const metrics = { ...(audit?.metrics || {}), ...(facet.metrics || {}) };
          const code = audit?.code_location;
          return h(
            "li",
            { class: "version", dataset: { version: version.version } },
            h("h3", {}, `v${version.version}`, " ", h("span", { class: "muted" }, time(version.createdAt)), " ", link(href("/ui/lineage", { nodeId, version: version.version }), "lineage of this version")),
            h("p", {}, "metrics: ", Object.entries(metrics).map(([k, v]) => badge(`${k} ${v}`, "metric"))),
            run ? h("p", {}, "trained by run ", h("code", {}, run.id), ` (${run.state}) of `, h("code", {}, run.jobVersion?.name || "?")) : null,
            audit ? h("p", {}, "parameters: ", Object.entries(audit.parameters).map(([k, v]) => badge(`${k}=${typeof v === "object" ? JSON.stringify(v) : v}`, "metric"))) : null,
            code ? h("p", {}, "code: ", safeUrl(code.url) ? h("a", { href: safeUrl(code.url), rel: "noopener noreferrer" }, code.path || code.url) : code.path || code.url || "?", code.version ? ` @ ${code.version}` : "") : null,
            audit ? h("p", {}, "owners: ", audit.owners.length ? audit.owners.map((o) => badge(o, "owner")) : "–", ` · ${audit.events.length} raw events (audit record)`) : null,
            h("h4", {}, "Pinned upstream: the dataset versions it was built from"),
            table(["kind", "dataset", "version"], inputsOf(chain).map((r) => [kindChip(r.kind), link(href("/ui/lineage", { nodeId: r.node_id.split("#")[0] }), r.name), h("code", {}, (r.version || "–").slice(0, 13))])),
            h("h4", {}, "Served by"),
            servedBy(chain).length ? h("ul", {}, servedBy(chain).map((r) => h("li", {}, kindChip("endpoint"), " ", link(href("/ui/lineage", { nodeId: r.node_id.split("#")[0] }), r.name), ` serves v${version.version}`))) : empty("No endpoint serves this version."),
          );
        }),
      ),
    );
  }

  function compare(rows) {
    if (rows.length < 2) return null;
    const pick = (name, index) => h("select", { name, "aria-label": name }, rows.map((r, i) => h("option", { value: i, selected: i === index }, `v${r.version.version}`)));
    const a = pick("from version", rows.length - 1);
    const b = pick("to version", 0);
    const out = h("div", { class: "diff" });
    const update = () => {
      const before = new Map(inputsOf(rows[a.value].chain).map((r) => [`${r.namespace}\u0000${r.name}`, r]));
      const after = new Map(inputsOf(rows[b.value].chain).map((r) => [`${r.namespace}\u0000${r.name}`, r]));
      const added = [...after].filter(([k]) => !before.has(k)).map(([, r]) => r);
      const removed = [...before].filter(([k]) => !after.has(k)).map(([, r]) => r);
      const changed = [...after].filter(([k, r]) => before.has(k) && before.get(k).version !== r.version).map(([, r]) => r);
      const list = (title, items, cls) => h("div", { class: `diff-${cls}` }, h("h4", {}, `${title} (${items.length})`), items.length ? h("ul", {}, items.map((r) => h("li", {}, kindChip(r.kind), " ", r.name))) : empty("none"));
      mount(out, list("Inputs added", added, "added"), list("Inputs removed", removed, "removed"), list("Same input, another version", changed, "changed"));
    };
    a.addEventListener("change", update);
    b.addEventListener("change", update);
    update();
    return h("section", { class: "compare" }, h("h2", {}, "Compare two versions' lineage"), h("p", {}, "From ", a, " to ", b), out);
  }
  return null;
}
