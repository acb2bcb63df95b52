// The editor page: one draft behind the form and source views, its diagnostics, the
// preview per medium, the simulator, the tests, the diagram; save, conflicts, review.

import { parse, stringify } from "yaml";
import { ApiError, call, optional, service } from "./api.js";
import { diffList, lineDiff } from "./diff.js";
import { FormView } from "./form.js";
import { pathAtLine } from "./locate.js";
import { patched } from "./patch.js";
import { preview, simulator } from "./panels.js";
import { SourceView } from "./source.js";
import { announce, debounce, h, t } from "./texts.js";

const YAML_TYPE = "application/yaml";

export async function editor(main) {
  const id = main.dataset.service;
  const base = service(id) + "/draft";
  const $ = (selector) => main.querySelector(selector);
  const status = $("#draft-status");
  const schema = await (await fetch("/console/studio/schema.json", { credentials: "same-origin" })).json();
  let report;
  try {
    report = await call("GET", base);
  } catch (error) {
    status.textContent = error instanceof ApiError && error.status === 404
      ? t("This service has no draft: start one from the studio's list.") : error.message;
    return;
  }
  // The shared lists a choice may take its options from (null: the form asks for a name).
  const lists = await optional("GET", "/lists").catch(() => null);
  const state = { report, text: report.source, view: "form", dirty: false, checked: report.diagnostics };
  let data = parsed(report.source) || {};
  let currentStep = null;

  const form = new FormView($("#form-view"), schema, (changed) => {
    data = changed;
    state.text = patched(state.text, changed) ?? stringify(changed);
    edited();
  }, Array.isArray(lists) ? lists : null);
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
    const text = state.text;
    try {
      const found = await optional("POST", base + "/check", { body: text, type: YAML_TYPE });
      if (text !== state.text) return;
      if (found) showDiagnostics(found.diagnostics || []);
      else if (text === state.report.source) showDiagnostics(state.report.diagnostics);
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
    check();
    showPreview();
  }

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
    $("#conflict-reload").onclick = () => { box.hidden = true; adopt(current, { reload: true }); announce(t("Reloaded")); };
    $("#conflict-keep").onclick = () => { box.hidden = true; state.report = { ...state.report, revision: current.revision }; announce(t("Your version is kept: save to replace theirs.")); };
    $("#conflict-reload").focus();
    return true;
  };
  const save = async () => {
    try {
      const fresh = await call("PUT", base, { body: state.text, type: YAML_TYPE, revision: state.report.revision });
      adopt(fresh);
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
  $("#diagram-load").addEventListener("click", async () => {
    const holder = $("#diagram");
    const svg = await optional("GET", base + "/diagram.svg", { text: true }).catch(() => null);
    if (!svg) {
      holder.textContent = t("No diagram for this draft yet.");
      return;
    }
    const drawn = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
    for (const bad of drawn.querySelectorAll("script, foreignObject")) bad.remove();
    drawn.setAttribute("role", "img");
    drawn.setAttribute("aria-label", t("Diagram of the conversation"));
    holder.replaceChildren(document.importNode(drawn, true));
    holder.addEventListener("click", (event) => {
      const link = event.target.closest("a");
      const href = link && (link.getAttribute("href") || link.getAttribute("xlink:href"));
      if (!href || !href.startsWith("#step-")) return;
      event.preventDefault();
      switchView("form");
      const index = (data.steps || []).findIndex((s) => s.id === href.slice(6));
      if (index >= 0) form.focus(["steps", index]);
    });
  });

  showStatus();
  showDiagnostics(report.diagnostics);
  showPreview();
  window.addEventListener("beforeunload", (event) => { if (state.dirty) event.preventDefault(); });
}

function parsed(text) {
  try {
    const value = parse(text);
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}
