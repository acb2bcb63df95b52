// The editor page: one draft behind the form and source views, its diagnostics, the
// preview per medium, the simulator, the tests, the diagram; save, conflicts, review.

import { parse, stringify } from "yaml";
import { ApiError, call, onSignedOut, optional, service, signedOut } from "./api.js";
import { diffList, lineDiff } from "./diff.js";
import { debounce, finder, h } from "./dom.js";
import { FormView } from "./form.js";
import { pathAtLine } from "./locate.js";
import { patched } from "./patch.js";
import { preview, simulator } from "./panels.js";
import { SourceView } from "./source.js";
import { announce, t } from "./texts.js";

const YAML_TYPE = "application/yaml";
// Where the text of a draft is kept when the session ends before it is saved.
const KEPT = (id) => `studio:unsaved:${id}`;

export async function editor(main) {
  const id = main.dataset.service;
  const base = service(id) + "/draft";
  const $ = finder(main);
  const status = $("#draft-status");
  const schema = await (await fetch("/console/studio/schema.json", { credentials: "same-origin" })).json();
  const report = await draftOf(main, base, status);
  if (!report) return;
  // The shared lists a choice may take its options from.
  const lists = await call("GET", "/lists");
  const state = { report, text: report.source, view: "form", dirty: false, checked: report.diagnostics };
  let data = parsed(report.source) || {};
  let currentStep = null;

  const form = new FormView($("#form-view"), schema, (changed) => {
    data = changed;
    state.text = patched(state.text, changed) ?? stringify(changed);
    edited();
  }, lists);
  const source = new SourceView($("#source-view"), schema, (text) => {
    state.text = text;
    const read = parsed(text);
    if (read) data = read;
    edited();
  });
  form.render(data);
  source.text = state.text;

  const showStatus = () => {
    const r = state.report;
    status.textContent = t("Revision {revision}, {state}, saved by {by}", {
      revision: r.revision, state: r.state === "submitted" ? t("sent for review") : t("being edited"), by: r.updated_by,
    }) + (state.dirty ? " · " + t("unsaved changes") : "");
    // Why a publisher sent the draft back (or what they said publishing it).
    const note = $("#draft-comment");
    note.hidden = !r.comment;
    note.textContent = r.comment ? t("The publisher's comment: {comment}", { comment: r.comment }) : "";
  };

  // --- diagnostics --------------------------------------------------------------------

  const showDiagnostics = (diagnostics) => {
    state.checked = diagnostics;
    source.show(diagnostics);
    const list = $("#diagnostics-list");
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    $("#diagnostics-summary").textContent = diagnostics.length
      ? t("Errors: {errors}, warnings: {warnings}", { errors, warnings: diagnostics.length - errors })
      : t("No problems found.");
    list.replaceChildren(...diagnostics.map((d) => {
      const path = pathAtLine(state.text, d.line, d.column);
      const where = path[0] === "steps" && typeof path[1] === "number" && data.steps && data.steps[path[1]]
        ? data.steps[path[1]].id : t("line {line}", { line: d.line });
      return h("li", { class: d.severity },
        h("button", { type: "button", class: "link", onclick: () => goTo(d, path) },
          `${d.severity === "error" ? t("Error") : t("Warning")} ${d.code} (${where}): ${d.message}`),
        d.hint ? h("p", { class: "hint" }, d.hint) : null);
    }));
  };
  const goTo = (diagnostic, path) => {
    if (state.view === "source" || !form.focus(path)) {
      if (state.view !== "source") switchView("source");
      source.focusLine(diagnostic.line, diagnostic.column);
    }
  };
  const check = debounce(async () => {
    if (signedOut()) return;
    const text = state.text;
    try {
      const found = await call("POST", base + "/check", { body: text, type: YAML_TYPE });
      if (text !== state.text) return;
      showDiagnostics(found.diagnostics || []);
    } catch (error) {
      announce(error.message);
    }
  }, 400);

  // --- preview ------------------------------------------------------------------------

  const showPreview = preview(main, () => state.text, () => data, () => currentStep, base);
  $("#form-view").addEventListener("focusin", (event) => {
    const holder = event.target.closest(".step");
    const index = holder ? Number(holder.dataset.index) : NaN;
    const step = Number.isNaN(index) ? null : (data.steps || [])[index];
    if (step && step.id !== currentStep) {
      currentStep = step.id;
      showPreview();
    }
  });

  function edited() {
    state.dirty = state.text !== state.report.source;
    showStatus();
    if (signedOut()) {
      keep();
      return;
    }
    check();
    showPreview();
  }

  // --- a session that ends before the text is saved --------------------------------

  // The unsaved text, in this tab's storage, until the person signs in again.
  const keep = () => {
    if (!state.dirty) return;
    try {
      window.sessionStorage.setItem(KEPT(id),
        JSON.stringify({ text: state.text, revision: state.report.revision, at: Date.now() }));
    } catch {
      // A full or refused storage: the text stays on the page.
    }
  };
  onSignedOut(() => {
    check.cancel();
    keep();
  });

  // --- views --------------------------------------------------------------------------

  const switchView = (view) => {
    if (view === state.view) return;
    if (view === "form") {
      const read = parsed(state.text);
      if (!read) {
        announce(t("The YAML cannot be read: fix it in the source first."));
        return;
      }
      data = read;
      form.render(data);
    } else {
      source.text = state.text;
    }
    state.view = view;
    for (const button of main.querySelectorAll("[data-view]")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === view));
    }
    $("#form-view").hidden = view !== "form";
    $("#source-view").hidden = view !== "source";
    showDiagnostics(state.checked);
    announce(view === "form" ? t("Form view") : t("Source view"));
  };
  for (const button of main.querySelectorAll("[data-view]")) {
    button.addEventListener("click", () => switchView(button.dataset.view));
  }

  // --- save, conflicts, review --------------------------------------------------------

  const adopt = (fresh, { reload = false } = {}) => {
    state.report = fresh;
    if (reload) {
      state.text = fresh.source;
      data = parsed(fresh.source) || {};
      form.render(data);
      source.text = fresh.source;
    }
    state.dirty = state.text !== fresh.source;
    showStatus();
    showDiagnostics(state.text === fresh.source ? fresh.diagnostics : state.checked);
  };
  const conflict = (error) => {
    const current = error.body && error.body.detail && error.body.detail.current;
    if (error.status !== 409 || !current) return false;
    const box = $("#conflict");
    box.hidden = false;
    $("#conflict-text").textContent = t("{by} saved revision {revision} meanwhile. What it changed from your version:",
      { by: current.updated_by, revision: current.revision });
    $("#conflict-diff").replaceChildren(diffList(lineDiff(state.text, current.source), h,
      { added: t("theirs:"), removed: t("yours:"), same: "" }));
    // The buttons hide their own section: the focus goes on to Save.
    $("#conflict-reload").onclick = () => {
      box.hidden = true;
      adopt(current, { reload: true });
      $("#save").focus();
      announce(t("Reloaded"));
    };
    $("#conflict-keep").onclick = () => {
      box.hidden = true;
      state.report = { ...state.report, revision: current.revision };
      $("#save").focus();
      announce(t("Your version is kept: save to replace theirs."));
    };
    $("#conflict-reload").focus();
    return true;
  };
  const save = async () => {
    try {
      const fresh = await call("PUT", base, { body: state.text, type: YAML_TYPE, revision: state.report.revision });
      adopt(fresh);
      window.sessionStorage.removeItem(KEPT(id));
      announce(t("Saved: revision {revision}", { revision: fresh.revision }));
      return true;
    } catch (error) {
      if (!conflict(error)) announce(error.message);
      return false;
    }
  };
  $("#save").addEventListener("click", save);
  $("#submit-review").addEventListener("click", async () => {
    if (state.dirty && !(await save())) return;
    try {
      adopt(await call("POST", base + "/review", { revision: state.report.revision }));
      announce(t("Sent for review."));
    } catch (error) {
      if (!conflict(error)) announce(error.message);
    }
  });

  // --- simulator, tests, diagram ------------------------------------------------------

  simulator(main, base, () => state.report.revision, (fresh) => adopt(fresh));
  $("#run-tests").addEventListener("click", async () => {
    const out = $("#tests-results");
    try {
      const ran = await call("POST", base + "/tests/run");
      out.replaceChildren(h("p", {}, ran.passed ? t("All tests passed.") : t("Some tests failed.")),
        h("ul", {}, ran.results.map((r) => h("li", { class: r.passed ? "passed" : "failed" },
          `${r.case} (${r.medium}): ${r.passed ? t("passed") : t("failed")}`,
          r.failures.length ? h("ul", {}, r.failures.map((f) => h("li", {}, f))) : null))));
    } catch (error) {
      out.replaceChildren(h("p", {}, error.message));
    }
    announce(out.textContent.slice(0, 200));
  });
  // The diagram: a group of links, one a step (its box), each leading to the step.
  const diagram = $("#diagram");
  const stepOf = (link) => {
    const href = link && (link.getAttribute("href") || link.getAttribute("xlink:href"));
    return href && href.startsWith("#step-") ? href.slice(6) : null;
  };
  $("#diagram-load").addEventListener("click", async () => {
    const svg = await optional("GET", base + "/diagram.svg", { text: true }).catch(() => null);
    if (!svg) {
      diagram.textContent = t("No diagram for this draft yet.");
      return;
    }
    const drawn = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
    for (const bad of drawn.querySelectorAll("script, foreignObject")) bad.remove();
    drawn.setAttribute("role", "group");
    drawn.setAttribute("aria-label", t("Diagram of the conversation"));
    for (const link of drawn.querySelectorAll("a")) {
      const step = stepOf(link);
      if (!step) continue;
      link.setAttribute("href", `#step-${step}`); // SVG 2's href: a link to every reader
      // Its name: "Step" and what the box says (its id, its question), all of it.
      const said = [...link.querySelectorAll("text")].map((text) => text.textContent.trim()).filter(Boolean);
      link.setAttribute("aria-label", t("Step {step}", { step: said.length ? said.join(" ") : step }));
    }
    diagram.replaceChildren(document.importNode(drawn, true));
  });
  diagram.addEventListener("click", (event) => {
    const step = stepOf(event.target.closest("a"));
    if (!step) return;
    event.preventDefault();
    switchView("form");
    const index = (data.steps || []).findIndex((s) => s.id === step);
    if (index >= 0) form.focus(["steps", index]);
  });

  showStatus();
  showDiagnostics(report.diagnostics);
  showPreview();
  window.addEventListener("beforeunload", (event) => { if (state.dirty) event.preventDefault(); });
  offerKept();

  // Text kept when a session ended, newer than the draft (no revision saved since):
  // restored, or dropped.
  function offerKept() {
    let kept = null;
    try {
      kept = JSON.parse(window.sessionStorage.getItem(KEPT(id)) || "null");
    } catch {
      kept = null;
    }
    if (!kept || typeof kept.text !== "string" || kept.text === state.report.source
      || !(kept.revision >= state.report.revision)) {
      window.sessionStorage.removeItem(KEPT(id));
      return;
    }
    const box = h("section", { class: "conflict", id: "kept", "aria-labelledby": "kept-heading" },
      h("h2", { id: "kept-heading" }, t("Unsaved changes from before you signed in again")),
      h("p", {}, t("This browser kept your text of {time}, which was never saved.",
        { time: new Date(kept.at).toLocaleString() })));
    const close = () => {
      window.sessionStorage.removeItem(KEPT(id));
      box.remove();
      $("#save").focus();
    };
    box.append(
      h("button", { type: "button", onclick: () => {
        state.text = kept.text;
        data = parsed(kept.text) || data;
        form.render(data);
        source.text = kept.text;
        close();
        edited();
        announce(t("Your unsaved changes are back: save them."));
      } }, t("Restore my changes")),
      " ",
      h("button", { type: "button", onclick: () => { close(); announce(t("Your kept changes are dropped.")); } },
        t("Drop them")));
    $("#conflict").before(box);
  }
}

// The service's draft; when it has none and the service is published, a button to start
// the next version from the published one (resolving once that draft is made).
async function draftOf(main, base, status) {
  try {
    return await call("GET", base);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) {
      status.textContent = error.message;
      return null;
    }
  }
  const published = main.dataset.published;
  if (!published) {
    status.textContent = t("This service has no draft: start one from the studio's list.");
    return null;
  }
  status.textContent = t("This service has no draft: version {version} runs.", { version: published });
  return new Promise((resolve) => {
    const start = h("button", { type: "button", id: "start-version" },
      t("Start a new version from version {version}", { version: published }));
    start.addEventListener("click", async () => {
      start.disabled = true;
      try {
        await call("POST", base + "/start", { body: { start: "published" } });
        const report = await call("GET", base);
        start.remove();
        resolve(report);
        main.querySelector("#save").focus();
        announce(t("Started version {version}: the draft is a copy of version {published}.",
          { version: Number(published) + 1, published }));
      } catch (failure) {
        start.disabled = false;
        status.textContent = failure.message;
      }
    });
    status.after(start);
  });
}

function parsed(text) {
  try {
    const value = parse(text);
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}
