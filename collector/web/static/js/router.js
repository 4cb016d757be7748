// URL routing: each view is drawn from location (path + query), so every view's URL reproduces it.

const routes = new Map();
let current = null; // {cleanup}

export function route(path, view) {
  routes.set(path, view);
}

/** Go to url (same origin), drawing its view; replace=true keeps the history entry. */
export function navigate(url, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"](null, "", url);
  render();
}

/** A URL for path with the non-empty params. */
export function href(path, params = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "" && value !== false) search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

export function render() {
  const main = document.getElementById("main");
  current?.cleanup?.();
  const view = routes.get(location.pathname) || routes.get("*");
  const params = new URLSearchParams(location.search);
  main.replaceChildren();
  current = view(main, params) || null;
  for (const a of document.querySelectorAll("header nav a")) {
    a.toggleAttribute("aria-current", new URL(a.href).pathname === location.pathname);
  }
}

export function start() {
  window.addEventListener("popstate", render);
  document.addEventListener("click", (event) => {
    const a = event.target.closest("a[data-link]");
    if (!a || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(a.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  render();
}
