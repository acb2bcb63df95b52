// A shared option list's page: its title and its options as a table (a value, and a
// label in each language of the list), rows added, removed and moved with buttons;
// Save writes the list as YAML (PUT /lists/{name}), naming the revision it started from.

import { Document, parse } from "yaml";
import { ApiError, call } from "./api.js";
import { finder, h, itemTools, moveButton, say } from "./dom.js";
import { announce, t } from "./texts.js";

const LANGUAGE_NAMES = { en: "English", dz: "Dzongkha" };
const path = (name) => `/lists/${encodeURIComponent(name)}`;

// Shared lists, for the studio's list page: a link to each.
export async function sharedLists(holder) {
  try {
    const lists = await call("GET", "/lists");
    holder.replaceChildren(...(lists.length ? lists.map((one) => h("li", {},
      h("a", { href: `/console/studio/lists/${encodeURIComponent(one.name)}` },
        t("{title} ({count} options)", { title: one.title, count: one.options })),
      " ", one.origin === "studio" ? t("changed in the studio, revision {revision}", { revision: one.revision })
        : t("from the services folder"))) : [h("li", {}, t("No shared list yet."))]));
  } catch (error) {
    holder.replaceChildren(h("li", {}, error.message));
  }
}

// The list's text as the table shows it: title, languages, options [{value, labels}].
function read(source) {
  const data = parse(source) || {};
  const options = Array.isArray(data.options) ? data.options : [];
  const languages = [];
  let plain = options.length > 0;
  for (const option of options) {
    const label = option && option.label;
    if (label && typeof label === "object") {
      plain = false;
      for (const language of Object.keys(label)) if (!languages.includes(language)) languages.push(language);
    }
  }
  if (!languages.length && !plain) languages.push("en", "dz");
  const rows = options.map((option) => {
    const label = option ? option.label : "";
    const labels = {};
    if (plain) labels[""] = label == null ? "" : String(label);
    else for (const language of languages) {
      labels[language] = label && typeof label === "object" ? String(label[language] ?? "")
        : language === languages[0] ? String(label ?? "") : "";
    }
    return { value: option && option.value != null ? String(option.value) : "", labels };
  });
  const comment = source.split("\n").filter((line, index, all) =>
    all.slice(0, index + 1).every((one) => one.startsWith("#"))).join("\n");
  return { title: typeof data.title === "string" ? data.title : "", languages: plain ? [""] : languages, rows, comment };
}

// The table's content as YAML: the leading comment kept, each option on one line.
function write(list) {
  const options = list.rows.map((row) => {
    const label = list.languages.length === 1 && list.languages[0] === "" ? row.labels[""]
      : Object.fromEntries(list.languages.filter((language) => row.labels[language] !== "")
        .map((language) => [language, row.labels[language]]));
    return { value: row.value, label };
  });
  const document = new Document({ title: list.title, options });
  for (const item of document.get("options").items) item.flow = true;
  return (list.comment ? list.comment + "\n" : "") + String(document);
}

function languageName(language) {
  return language === "" ? t("Label") : t("Label in {language}", { language: LANGUAGE_NAMES[language] || language });
}

export async function sharedList(main) {
  const name = main.dataset.list;
  const maySave = main.dataset.maySave === "yes";
  const $ = finder(main);
  const status = $("#list-status");
  const body = $("#list-options tbody");
  const title = $("#list-title");
  let list = null;
  let origin = "folder";
  let revision = null;
  let theirs = null;

  const said = (text) => say(status, text); // the page's status: its own live region
  const shownState = () => origin === "studio"
    ? t("Changed in the studio: revision {revision}", { revision })
    : t("From the services folder (not changed in the studio yet)");

  // What the inputs hold, into `list`.
  const gather = () => {
    list.title = title.value.trim();
    list.rows = [...body.rows].map((tr) => {
      const labels = {};
      for (const language of list.languages) labels[language] = tr.querySelector(`[data-language="${CSS.escape(language)}"]`).value.trim();
      return { value: tr.querySelector("[data-value]").value.trim(), labels };
    });
  };

  const draw = (focus) => {
    $("#list-head").replaceChildren(
      h("th", { scope: "col" }, t("Number")),
      h("th", { scope: "col" }, t("Value")),
      ...list.languages.map((language) => h("th", { scope: "col", lang: language || null }, languageName(language))),
      h("th", { scope: "col" }, t("Order and removal")));
    title.value = list.title;
    title.readOnly = !maySave;
    body.replaceChildren(...list.rows.map((row, index) => {
      const number = index + 1;
      const mark = row.value || String(number);
      return h("tr", {},
        h("th", { scope: "row" }, String(number)),
        h("td", {}, h("input", {
          "data-value": "", value: row.value, autocomplete: "off", spellcheck: "false", readonly: !maySave,
          "aria-label": t("Value of option {number}", { number }),
        })),
        ...list.languages.map((language) => h("td", {}, h("input", {
          "data-language": language, value: row.labels[language] || "", autocomplete: "off", readonly: !maySave,
          lang: language || null,
          "aria-label": t("{label} of option {number}", { label: languageName(language), number }),
        }))),
        h("td", {}, maySave ? h("div", { class: "item-tools" }, itemTools(mark, index, list.rows.length)) : ""));
    }));
    if (focus) focus();
  };

  const show = (report) => {
    origin = report.origin;
    revision = report.revision;
    list = read(report.source);
    draw();
    showProblems(report.diagnostics || []);
    $("#list-conflict").hidden = true;
  };

  const showProblems = (diagnostics) => {
    $("#list-problems").hidden = !diagnostics.length;
    $("#list-diagnostics").replaceChildren(...diagnostics.map((one) => h("li", {},
      `${one.severity === "warning" ? t("Warning") : t("Error")} (${t("line {line}", { line: one.line })}, ${one.code}): ${one.message}`,
      one.hint ? h("p", { class: "hint" }, one.hint) : "")));
  };

  try {
    show(await call("GET", path(name)));
    said(shownState());
  } catch (error) {
    said(error instanceof ApiError && error.status === 404 ? t("No shared list of that name.") : error.message);
    $("#list-form").hidden = true;
    return;
  }
  if (!maySave) {
    $("#list-add").hidden = true;
    $("#list-save").hidden = true;
  }

  $("#list-add").addEventListener("click", () => {
    gather();
    list.rows.push({ value: "", labels: Object.fromEntries(list.languages.map((language) => [language, ""])) });
    draw(() => body.rows[body.rows.length - 1].querySelector("[data-value]").focus());
    announce(t("Option {number} added", { number: list.rows.length }));
  });

  // The row's buttons say the option's value, as it is typed.
  body.addEventListener("input", (event) => {
    if (!event.target.matches("[data-value]")) return;
    const tr = event.target.closest("tr");
    const mark = event.target.value.trim() || String(tr.sectionRowIndex + 1);
    tr.querySelector('[data-move="-1"]')?.setAttribute("aria-label", t("Move up: {step}", { step: mark }));
    tr.querySelector('[data-move="1"]')?.setAttribute("aria-label", t("Move down: {step}", { step: mark }));
    tr.querySelector("[data-remove]")?.setAttribute("aria-label", t("Remove: {step}", { step: mark }));
  });

  body.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    gather();
    const index = [...body.rows].indexOf(button.closest("tr"));
    if (button.dataset.move) {
      const to = index + Number(button.dataset.move);
      const [row] = list.rows.splice(index, 1);
      list.rows.splice(to, 0, row);
      const same = button.dataset.move;
      draw(() => {
        const wanted = moveButton(body.rows[to], same);
        if (wanted) wanted.focus();
      });
      announce(t("{step} moved to position {position} of {count}",
        { step: row.value || t("the option"), position: to + 1, count: list.rows.length }));
    } else if (button.dataset.remove !== undefined) {
      const [row] = list.rows.splice(index, 1);
      draw(() => {
        const next = body.rows[Math.min(index, body.rows.length - 1)];
        (next ? next.querySelector("[data-remove]") : $("#list-add")).focus();
      });
      announce(t("{step} removed", { step: row.value || t("the option") }));
    }
  });

  $("#list-reload").addEventListener("click", () => {
    if (!theirs) return;
    show(theirs);
    theirs = null;
    said(t("Reloaded: revision {revision}", { revision }));
    title.focus();
  });

  $("#list-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!maySave) return;
    gather();
    const source = write(list);
    $("#list-save").disabled = true;
    try {
      const saved = await call("PUT", path(name), {
        body: source, type: "application/yaml", revision: origin === "studio" ? revision : null,
      });
      show(saved);
      said(t("Saved: revision {revision}", { revision: saved.revision }) + ". " + shownState());
    } catch (error) {
      const detail = error instanceof ApiError && error.body && typeof error.body.detail === "object" ? error.body.detail : null;
      if (error instanceof ApiError && error.status === 422 && detail) {
        showProblems(detail.diagnostics || []);
        said(t("Not saved: the list has problems (below)."));
        $("#problems-heading").setAttribute("tabindex", "-1");
        $("#problems-heading").focus();
      } else if (error instanceof ApiError && error.status === 409 && detail && detail.current) {
        theirs = detail.current;
        showConflict(read(theirs.source));
        // The next save replaces theirs, knowingly.
        origin = theirs.origin;
        revision = theirs.revision;
        said(t("Not saved: someone saved revision {revision} meanwhile (below).", { revision: theirs.revision }));
      } else {
        said(error.message);
      }
    } finally {
      $("#list-save").disabled = false;
    }
  });

  // What their version changed from yours, option by option.
  const showConflict = (other) => {
    const mine = new Map(list.rows.map((row) => [row.value, row]));
    const their = new Map(other.rows.map((row) => [row.value, row]));
    const lines = [];
    if (other.title !== list.title) lines.push(t("Title: theirs {theirs}, yours {yours}", { theirs: other.title, yours: list.title }));
    for (const [value, row] of their) {
      if (!mine.has(value)) lines.push(t("Only in theirs: {option}", { option: value }));
      else if (JSON.stringify(row.labels) !== JSON.stringify(mine.get(value).labels)) {
        lines.push(t("Labels differ: {option}", { option: value }));
      }
    }
    for (const value of mine.keys()) if (!their.has(value)) lines.push(t("Only in yours: {option}", { option: value }));
    if (!lines.length) lines.push(t("The same options, perhaps in another order."));
    $("#list-conflict-body").replaceChildren(
      h("p", {}, t("Revision {revision} was saved meanwhile. What it has that differs from your version:", { revision: theirs.revision })),
      h("ul", {}, lines.map((line) => h("li", {}, line))),
      h("p", {}, t("Your version is kept: save to replace theirs, or reload theirs (your changes are lost).")));
    $("#list-conflict").hidden = false;
    $("#conflict-heading").setAttribute("tabindex", "-1");
    $("#conflict-heading").focus();
  };
}
