// Every call the UI makes to the collector's public HTTP API lives here (the same /api/v1
// answers a script gets). With API keys on, a 401 (or a 403: the key lacks the read scope) asks
// for a key (kept in session storage) and retries the call with it.

const KEY_STORAGE = "mllineage.apiKey";

export class ApiError extends Error {
  constructor(status, message, details = []) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

let keyPrompt = null; // one prompt for all calls waiting on a key

function askForKey(reason) {
  if (keyPrompt) return keyPrompt;
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  document.getElementById("key-reason").textContent = reason;
  input.value = "";
  keyPrompt = new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        keyPrompt = null;
        const key = input.value.trim();
        if (key) sessionStorage.setItem(KEY_STORAGE, key);
        resolve(Boolean(key));
      },
      { once: true },
    );
  });
  dialog.showModal();
  input.focus();
  return keyPrompt;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** GET /api/v1<path> with params; resolves to the JSON body, rejects with an ApiError. */
export async function get(path, params) {
  const url = `/api/v1${path}${query(params)}`;
  for (;;) {
    const headers = { Accept: "application/json" };
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) headers.Authorization = `Bearer ${key}`;
    let response;
    try {
      response = await fetch(url, { headers });
    } catch (error) {
      throw new ApiError(0, `The collector did not answer (${error.message}).`);
    }
    if (response.status === 401 || (response.status === 403 && key)) {
      const body = await response.json().catch(() => ({}));
      if (key) sessionStorage.removeItem(KEY_STORAGE);
      const reason = key
        ? `That key was refused (${body.error || "unknown key"}). Enter one with the read scope.`
        : "This collector asks for an API key with the read scope.";
      if (await askForKey(reason)) continue;
      throw new ApiError(response.status, "An API key with the read scope is needed to read lineage.");
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const detail = (body.details || []).map((d) => `${d.loc}: ${d.msg}`).join("; ");
      const message = body.error || body.detail || response.statusText;
      throw new ApiError(response.status, detail ? `${message} (${detail})` : String(message));
    }
    return response.json();
  }
}

const enc = encodeURIComponent;

export const api = {
  overview: () => get("/ml/overview", { failedLimit: 10 }),
  search: (q, kinds, limit = 20) => get("/ml/search", { q, kinds, limit }),
  lineage: (p) => get("/ml/lineage", p),
  models: (p) => get("/ml/models", p),
  modelLineage: (p) => get("/ml/model-lineage", p),
  audit: (p) => get("/ml/audit", p),
  impact: (p) => get("/ml/impact", p),
  tagged: (p) => get("/ml/governance/tagged", p),
  featureLineage: (p) => get("/ml/feature-lineage", p),
  nodeEvents: (nodeId, limit = 20) => get("/ml/events", { nodeId, limit }),
  columnLineage: (nodeId, depth) =>
    get("/column-lineage", { nodeId, depth, withDownstream: true }),
  dataset: (ns, name) => get(`/namespaces/${enc(ns)}/datasets/${enc(name)}`),
  datasetVersions: (ns, name, limit = 20) =>
    get(`/namespaces/${enc(ns)}/datasets/${enc(name)}/versions`, { limit }),
  job: (ns, name) => get(`/namespaces/${enc(ns)}/jobs/${enc(name)}`),
  jobRuns: (ns, name, limit = 10) => get(`/namespaces/${enc(ns)}/jobs/${enc(name)}/runs`, { limit }),
  run: (id) => get(`/jobs/runs/${enc(id)}`),
};
