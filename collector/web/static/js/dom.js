// Tiny DOM helpers: elements are built with real text nodes (never innerHTML from data).

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h("a", {href: "/"}, "text", child, [more]). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same signature as h(). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replace the children of el. */
export function mount(el, ...children) {
  el.replaceChildren();
  build(el, {}, children);
  return el;
}

export function loading(text = "Loading…") {
  return h("p", { class: "state loading", role: "status" }, text);
}

export function empty(text) {
  return h("p", { class: "state empty" }, text);
}

export function failure(error) {
  const status = error.status ? ` (HTTP ${error.status})` : "";
  return h(
    "div",
    { class: "state error", role: "alert" },
    h("strong", {}, `Could not load this view${status}.`),
    " ",
    error.message || String(error),
  );
}

/** A same-app link: handled by the router without reloading the page. */
export function link(href, ...children) {
  return h("a", { href, "data-link": true }, ...children);
}

export function time(value) {
  if (!value) return "–";
  return new Date(value).toISOString().replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z");
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "–";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A table from column titles and rows of cells. */
export function table(columns, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))),
  );
}

export function badge(text, cls = "") {
  return h("span", { class: `badge ${cls}`.trim() }, text);
}

/** url if it is an http(s) URL, else null: links made from event data never run script. */
export function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}
