// The studio's JSON API, called with the console's session and its CSRF token.

const BASE = "/api/v1/studio";

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && body.detail;
    const said = typeof detail === "string" ? detail : detail && detail.message;
    super(said || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function csrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function call(method, path, { body, type, revision, text } = {}) {
  const headers = { "X-CSRF-Token": csrf(), Accept: "application/json" };
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = type || "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  if (revision !== undefined && revision !== null) headers["If-Match"] = `"${revision}"`;
  const response = await fetch(BASE + path, {
    method,
    credentials: "same-origin",
    headers,
    body: payload,
  });
  const kind = response.headers.get("content-type") || "";
  const read = text && !kind.includes("json") ? await response.text()
    : kind.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, read);
  return read;
}

export const service = (id) => `/services/${encodeURIComponent(id)}`;

// An endpoint another part of the gateway may not serve yet: null instead of an error.
export async function optional(method, path, options) {
  try {
    return await call(method, path, options);
  } catch (error) {
    if (error instanceof ApiError && [404, 405, 501].includes(error.status)) {
      return null;
    }
    throw error;
  }
}
