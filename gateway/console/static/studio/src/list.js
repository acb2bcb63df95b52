// The studio's list page: the shared lists, and starting a new service (blank, a copy,
// a template).

import { ApiError, call, service } from "./api.js";
import { h, say } from "./dom.js";
import { sharedLists } from "./lists.js";
import { t } from "./texts.js";

export async function list(main) {
  const lists = main.querySelector("#shared-lists");
  const form = main.querySelector("#start-form");
  // The form is the script's before anything loads (else a quick Start posts it as a page).
  if (form) startForm(form);
  if (lists) await sharedLists(lists);
  if (form) await templates(form);
}

function startForm(form) {
  const kind = form.querySelector("#start-kind");
  const sync = () => {
    form.querySelector("#copy-field").hidden = kind.value !== "copy";
    form.querySelector("#template-field").hidden = kind.value !== "template";
  };
  kind.addEventListener("change", sync);
  sync();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.querySelector("#start-error");
    const id = form.querySelector("#start-id").value.trim();
    const title = form.querySelector("#start-title").value.trim();
    const prefix = form.querySelector("#start-prefix").value.trim();
    const body = { start: kind.value, title: title || id };
    if (kind.value === "copy") body.copy_of = form.querySelector("#start-copy").value;
    if (kind.value === "template") body.template = form.querySelector("#start-template").value;
    if (prefix) body.reference_prefix = prefix;
    try {
      await call("POST", service(id) + "/draft/start", { body });
      window.location.assign(`/console/studio/${encodeURIComponent(id)}`);
    } catch (failure) {
      // An alert: said at once (again, when the same refusal comes twice).
      say(error, failure instanceof ApiError && failure.status === 409
        ? t("A draft of this service exists already.") : failure.message);
      form.querySelector("#start-id").focus();
    }
  });
}

// The templates a service may start from, in their list (none: that choice disabled).
async function templates(form) {
  const found = await call("GET", "/templates").catch(() => null);
  if (Array.isArray(found) && found.length) {
    form.querySelector("#start-template").replaceChildren(...found.map((one) => {
      const name = typeof one === "string" ? one : one.id || one.name;
      return h("option", { value: name }, (one && one.title) || name);
    }));
  } else {
    form.querySelector('#start-kind option[value="template"]').disabled = true;
  }
}
