// The studio's list page: the shared lists, and starting a new service (blank, a copy,
// a template).

import { ApiError, call, optional, service } from "./api.js";
import { sharedLists } from "./lists.js";
import { announce, h, t } from "./texts.js";

export async function list(main) {
  const lists = main.querySelector("#shared-lists");
  if (lists) await sharedLists(lists);
  const form = main.querySelector("#start-form");
  if (!form) return;
  const kind = form.querySelector("#start-kind");
  const template = form.querySelector("#start-template");
  const sync = () => {
    form.querySelector("#copy-field").hidden = kind.value !== "copy";
    form.querySelector("#template-field").hidden = kind.value !== "template";
  };
  kind.addEventListener("change", sync);
  sync();
  const templates = await optional("GET", "/templates").catch(() => null);
  if (Array.isArray(templates) && templates.length) {
    template.replaceChildren(...templates.map((one) => {
      const name = typeof one === "string" ? one : one.id || one.name;
      return h("option", { value: name }, (one && one.title) || name);
    }));
  } else {
    kind.querySelector('option[value="template"]').disabled = true;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.querySelector("#start-error");
    const id = form.querySelector("#start-id").value.trim();
    const title = form.querySelector("#start-title").value.trim();
    const prefix = form.querySelector("#start-prefix").value.trim();
    const body = { start: kind.value, title: title || id };
    if (kind.value === "copy") body.copy_of = form.querySelector("#start-copy").value;
    if (kind.value === "template") body.template = template.value;
    if (prefix) body.reference_prefix = prefix;
    try {
      let made = await optional("POST", service(id) + "/draft/start", { body });
      if (made === null && kind.value === "blank") made = await call("PUT", service(id) + "/draft", { body: blank(id, title || id), type: "application/yaml" });
      if (made === null) throw new Error(t("The gateway cannot start a service that way yet."));
      window.location.assign(`/console/studio/${encodeURIComponent(id)}`);
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 409
        ? t("A draft of this service exists already.") : failure.message;
      announce(error.textContent);
      form.querySelector("#start-id").focus();
    }
  });
}

function blank(id, title) {
  return [
    "format: 1", `id: ${id}`, "version: 1", `title: {en: ${JSON.stringify(title)}}`, "languages: [en]",
    "steps:", "  - id: done", "    type: end", "    prompt: {en: \"Thank you.\"}", "",
  ].join("\n");
}
