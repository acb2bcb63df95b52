// The studio's JSON API, called with the console's session and its CSRF token. Once the
// session has ended (401: signed out, or expired), every call fails at once and the page
// shows a link to sign in again. A 403 is a refusal of this person's role, said as such.

import { h } from "./dom.js";
import { t } from "./texts.js";

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

let ended = false;
const whenSignedOut = [];

// Whether the session has ended; onSignedOut(action): `action` runs when it ends.
export const signedOut = () => ended;
export const onSignedOut = (action) => { whenSignedOut.push(action); };

function signOut() {
  if (ended) return;
  ended = true;
  const main = document.querySelector("[data-studio]");
  const here = window.location.pathname + window.location.search;
  if (main) {
    main.prepend(h("p", { class: "error", role: "alert", id: "signed-out" },
      h("a", { href: `/console?next=${encodeURIComponent(here)}` }, t("Your session ended: sign in again"))));
  }
  for (const action of whenSignedOut) action();
}

function csrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function call(method, path, { body, type, revision, text } = {}) {
  if (ended) throw new ApiError(401, { detail: t("Your session ended: sign in again") });
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
  if (response.status === 401) signOut();
  if (!response.ok) throw new ApiError(response.status, read);
  return read;
}

export const service = (id) => `/services/${encodeURIComponent(id)}`;

// A resource that may not be there (a service's draft, its diagram): null on 404.
export async function optional(method, path, options) {
  try {
    return await call(method, path, options);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}
