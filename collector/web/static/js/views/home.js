// / — search over datasets, jobs, models, feature groups and endpoints; counts by kind; the
// latest failed runs.

import { api } from "../api.js";
import { empty, failure, h, link, loading, mount, table, time } from "../dom.js";
import { API_KINDS, kindTitle } from "../kinds.js";
import { href } from "../router.js";
import { kindChip, viewLinks } from "./common.js";

export function homeView(main, params) {
  const q = params.get("q") || "";
  const kinds = params.get("kinds") || "";
  const input = h("input", { type: "search", name: "q", value: q, placeholder: "Search datasets, jobs, models, feature groups, endpoints…", "aria-label": "Search lineage", autocomplete: "off" });
  const results = h("div", { class: "results", "aria-live": "polite" });
  const counts = h("div", { class: "counts" }, loading());
  const failed = h("div", {}, loading());
  main.append(
    h("section", { class: "search" }, h("h1", {}, "Find a node"), h("form", { role: "search", onsubmit: (e) => e.preventDefault() }, input), results),
    h("section", {}, h("h2", {}, "Nodes by kind"), counts),
    h("section", {}, h("h2", {}, "Latest failed runs"), failed),
  );
  input.focus();
  input.setSelectionRange(q.length, q.length);

  let timer = null;
  let seq = 0;
  async function search(text) {
    const mine = ++seq;
    if (!text && !kinds) {
      mount(results);
      return;
    }
    mount(results, loading("Searching…"));
    try {
      const answer = await api.search(text || "%", kinds, 50);
      if (mine !== seq) return;
      if (!answer.rows.length) {
        mount(results, empty(`Nothing matches “${text}”.`));
        return;
      }
      mount(
        results,
        h("p", { class: "muted" }, `${answer.total_count} match${answer.total_count === 1 ? "" : "es"}${answer.total_count > answer.rows.length ? `, first ${answer.rows.length} shown` : ""}`),
        h(
          "ul",
          { class: "hits" },
          answer.rows.map((hit) => h("li", { class: "hit" }, kindChip(hit.kind), " ", link(href(hit.kind === "model" ? "/ui/model" : "/ui/lineage", { nodeId: hit.node_id }), hit.name), h("span", { class: "muted" }, ` ${hit.namespace}`), " ", viewLinks(hit.node_id, hit.kind))),
        ),
      );
    } catch (error) {
      if (mine === seq) mount(results, failure(error));
    }
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      history.replaceState(null, "", href("/", { q: input.value, kinds }));
      search(input.value);
    }, 150);
  });
  search(q);

  api
    .overview()
    .then((overview) => {
      const byKind = new Map(overview.counts.map((c) => [c.kind, c.count]));
      mount(
        counts,
        h(
          "ul",
          { class: "kind-counts" },
          API_KINDS.map((kind) => h("li", {}, link(href("/", { kinds: kind }), kindChip(kind), h("strong", { class: "count" }, String(byKind.get(kind) || 0)), h("span", { class: "sr-only" }, ` ${kindTitle(kind)} nodes`)))),
        ),
      );
      mount(
        failed,
        overview.failed_runs.length
          ? table(
              ["job", "state", "ended", "error"],
              overview.failed_runs.map((r) => [link(href("/ui/lineage", { nodeId: r.job_node_id }), r.job_name), r.state, time(r.ended_at), r.error_message || "–"]),
              { class: "failed-runs" },
            )
          : empty("No failed runs."),
      );
    })
    .catch((error) => {
      mount(counts, failure(error));
      mount(failed);
    });
  return { cleanup: () => clearTimeout(timer) };
}
