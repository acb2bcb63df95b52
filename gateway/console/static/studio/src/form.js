// The form view: the draft's steps in order, each step's fields drawn from the JSON
// Schema of its type (a generic walker: objects, texts per language, enums, booleans,
// numbers, arrays), reordered by drag or by the Move up / Move down buttons.

import { parse, stringify } from "yaml";
import { getAt, pathId, pathKey, setAt } from "./paths.js";
import { isText, resolve, stepTypes, title, typeOf, unwrap } from "./schema.js";
import { h, itemTools, moveButton, uid } from "./dom.js";
import { announce, t } from "./texts.js";
import { nextField } from "./next.js";

// Steps that ask no question (nothing to list in a summary).
const NOT_ANSWERS = new Set(["summary", "submit", "end", "info"]);

// The types a value may take when each of them is a plain scalar (`anyOf: [number,
// string]`); null otherwise.
function scalars(root, schema) {
  if (!Array.isArray(schema.anyOf) || schema.text) return null;
  const types = schema.anyOf.map((part) => resolve(root, part)).filter((part) => part.type !== "null");
  const plain = types.every((part) => ["number", "integer", "string"].includes(part.type) && !part.enum);
  return plain && types.length > 1 ? types.map((part) => part.type) : null;
}

// A field's label: its own title, else its name in words (not the name of the schema's
// definition behind it, such as "ReviewDef").
function fieldTitle(property, schema, name) {
  if (property && property.title) return property.title;
  if (schema.title && !/^[A-Z][a-z]+[A-Z][A-Za-z]*$/.test(schema.title)) return schema.title;
  return title({}, name);
}

export class FormView {
  constructor(root, schema, onChange, lists) {
    this.root = root;
    this.schema = schema;
    this.onChange = onChange;
    this.lists = lists; // the shared lists ([{name, title, options}])
    this.types = stepTypes(schema);
    this.data = {};
    this.open = new Set();
    this.folds = new Map(); // the other folds opened or closed (by foldKey): kept across redraws
    this.dragging = null; // the index of the step being dragged
    root.addEventListener("toggle", (event) => {
      const fold = event.target;
      if (fold instanceof HTMLDetailsElement && !fold.dataset.path) this.folds.set(this.foldKey(fold), fold.open);
    }, true); // toggle does not bubble: heard on its way down
  }

  // A fold's name across redraws: the path of the field holding it (its step named by its
  // id, which stays when the steps move) and its kind ("optional", "advanced"...).
  foldKey(fold) {
    const holder = fold.parentElement && fold.parentElement.closest("[data-path]");
    const path = holder ? holder.dataset.path.split(".") : [];
    const step = path[0] === "steps" ? this.steps()[Number(path[1])] : null;
    if (step && step.id) path[1] = `#${step.id}`;
    return `${path.join(".")}/${fold.className}`;
  }

  changed() {
    this.onChange(this.data);
  }

  languages() {
    const listed = Array.isArray(this.data.languages) ? this.data.languages : [];
    return listed.length ? listed : ["en"];
  }

  steps() {
    return Array.isArray(this.data.steps) ? this.data.steps : [];
  }

  render(data, focusPath = null) {
    this.data = data && typeof data === "object" ? data : {};
    // Which steps are unfolded, from the page itself: the toggle event comes after the
    // click that caused it, so a redraw right after an unfold would fold the step again.
    for (const fold of this.root.querySelectorAll("li.step > details")) {
      const name = fold.parentElement.id.slice("step-".length);
      if (fold.open) this.open.add(name); else this.open.delete(name);
    }
    this.root.replaceChildren(this.serviceFields(), this.stepList(), this.addStepForm());
    for (const fold of this.root.querySelectorAll("details:not([data-path])")) {
      const open = this.folds.get(this.foldKey(fold));
      if (open !== undefined) fold.open = open;
    }
    if (focusPath) this.focus(focusPath);
  }

  // --- the service's own fields (title, languages, ...), folded -------------------------

  serviceFields() {
    const body = h("div", { class: "fields" });
    for (const [name, property] of Object.entries(this.schema.properties)) {
      if (name === "steps" || name === "format" || name === "id") continue;
      body.append(this.field(property, [name], name, this.schema.required.includes(name)));
    }
    return h("details", { class: "service-fields" }, h("summary", {}, t("Service settings")), body);
  }

  // --- the steps ----------------------------------------------------------------------

  stepList() {
    const list = h("ol", { class: "steps", "aria-label": t("Steps") });
    this.steps().forEach((step, index) => list.append(this.stepItem(step, index)));
    return list;
  }

  stepItem(step, index) {
    const count = this.steps().length;
    const type = this.types[step && step.type];
    const name = (step && step.id) || "?";
    const heading = uid("step-heading");
    const path = ["steps", index];
    const details = h("details", { "data-path": pathKey(path) },
      h("summary", {}, t("Fields of {step}", { step: name })));
    details.open = this.open.has(name);
    details.addEventListener("toggle", () => {
      if (details.open) this.open.add(name); else this.open.delete(name);
    });
    if (type) details.append(this.objectFields(type, path, step, ["type"]));
    else details.append(this.yamlField(path, t("Step"), step));
    const item = h("li", {
      class: "step", id: `step-${name}`, "aria-labelledby": heading, dataset: { index: String(index) },
    },
    h("div", { class: "step-head", draggable: "true", title: t("Drag to move the step") },
      h("h3", { id: heading }, `${index + 1}. ${name} `, h("span", { class: "type" }, step && step.type)),
      h("span", { class: "missing-count" }, this.missingNote(step)),
      h("div", { class: "step-tools" }, itemTools(name, index, count, {
        up: () => this.move(index, index - 1, "-1"),
        down: () => this.move(index, index + 1, "1"),
        remove: () => this.remove(index),
      }))),
    details);
    this.draggable(item, index);
    return item;
  }

  // The languages some text of the step lacks.
  missingNote(step) {
    const langs = this.languages();
    if (langs.length < 2 || !step) return "";
    const lacking = new Set();
    const walk = (value, schema) => {
      const resolved = resolve(this.schema, schema);
      if (isText(resolved) && value !== undefined && value !== null) {
        for (const lang of langs) {
          const given = typeof value === "string" ? (lang === "en" ? value : "") : value[lang];
          if (!given) lacking.add(lang);
        }
        return;
      }
      const shape = unwrap(this.schema, resolved);
      if (shape.properties && value && typeof value === "object") {
        for (const [key, property] of Object.entries(shape.properties)) walk(value[key], property);
      } else if (shape.items && Array.isArray(value)) {
        value.forEach((item) => walk(item, shape.items));
      }
    };
    walk(step, this.types[step.type] || {});
    return lacking.size ? t("Missing translation: {languages}", { languages: [...lacking].join(", ") }) : "";
  }

  // Moves a step (`direction`: "-1" up, "1" down); the focus stays on its Move button.
  move(from, to, direction) {
    const steps = this.steps();
    if (to < 0 || to >= steps.length) return;
    const [step] = steps.splice(from, 1);
    steps.splice(to, 0, step);
    this.changed();
    this.render(this.data);
    announce(t("{step} moved to position {position} of {count}",
      { step: step.id, position: to + 1, count: steps.length }));
    const button = moveButton(this.root.querySelectorAll(".step")[to].querySelector(".step-tools"), direction);
    if (button) button.focus();
  }

  remove(index) {
    const [step] = this.steps().splice(index, 1);
    this.changed();
    this.render(this.data);
    announce(t("{step} removed", { step: step && step.id }));
    const items = this.root.querySelectorAll(".step");
    const next = items[Math.min(index, items.length - 1)];
    (next ? next.querySelector("summary") : this.root.querySelector("#new-step-type")).focus();
  }

  draggable(item, index) {
    const head = item.firstElementChild;
    head.addEventListener("dragstart", (event) => {
      this.dragging = index;
      event.dataTransfer.setData("text/plain", item.id);
      event.dataTransfer.effectAllowed = "move";
      item.classList.add("dragging");
    });
    head.addEventListener("dragend", () => {
      this.dragging = null;
      item.classList.remove("dragging");
    });
    item.addEventListener("dragover", (event) => {
      if (this.dragging === null) return;
      event.preventDefault();
      item.classList.add("drop");
    });
    item.addEventListener("dragleave", () => item.classList.remove("drop"));
    item.addEventListener("drop", (event) => {
      if (this.dragging === null) return;
      event.preventDefault();
      const from = this.dragging;
      this.dragging = null;
      item.classList.remove("drop");
      if (from !== index) this.move(from, index, from > index ? "-1" : "1");
    });
  }

  addStepForm() {
    const typeId = "new-step-type";
    const nameId = "new-step-id";
    const select = h("select", { id: typeId },
      Object.keys(this.types).map((type) => h("option", { value: type }, type)));
    const name = h("input", { id: nameId, type: "text", pattern: "[a-z][a-z0-9_]{0,39}",
      autocomplete: "off", spellcheck: "false" });
    const form = h("form", { class: "add-step", "aria-label": t("Add a step") },
      h("div", {}, h("label", { for: typeId }, t("Step type")), select),
      h("div", {}, h("label", { for: nameId }, t("Step id (the answer's name)")), name),
      h("div", {}, h("button", { type: "submit" }, t("Add step"))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const id = name.value.trim();
      if (!/^[a-z][a-z0-9_]{0,39}$/.test(id) || this.steps().some((s) => s.id === id)) {
        name.setAttribute("aria-invalid", "true");
        announce(t("Give the step a new id: small letters, digits and _."));
        name.focus();
        return;
      }
      this.addStep(select.value, id);
    });
    return form;
  }

  addStep(type, id) {
    const schema = this.types[type];
    const step = { id, type };
    for (const name of schema.required || []) {
      if (name in step) continue;
      const property = unwrap(this.schema, schema.properties[name]);
      step[name] = isText(property) ? { en: "" } : property.type === "array" ? [] : "";
    }
    if (!Array.isArray(this.data.steps)) this.data.steps = [];
    const steps = this.data.steps;
    const last = steps[steps.length - 1];
    const at = last && last.type === "end" ? steps.length - 1 : steps.length;
    steps.splice(at, 0, step);
    this.open.add(id);
    this.changed();
    this.render(this.data);
    announce(t("Step {step} added at position {position}", { step: id, position: at + 1 }));
    // The first field left to fill (the question, for most types).
    const controls = [...this.root.querySelectorAll(`#step-${id} details :is(input, textarea, select)`)];
    const first = controls.find((control) => control.value === "") || controls[0];
    if (first) first.focus();
  }

  // --- fields from the schema ---------------------------------------------------------

  objectFields(schema, path, value, skip = []) {
    const box = h("div", { class: "fields" });
    const required = schema.required || [];
    const optional = h("div", { class: "fields" });
    for (const [name, property] of Object.entries(schema.properties || {})) {
      if (skip.includes(name)) continue;
      const element = this.field(property, [...path, name], name, required.includes(name));
      const given = value && value[name] !== undefined && value[name] !== null;
      (required.includes(name) || given ? box : optional).append(element);
    }
    if (optional.childElementCount) {
      box.append(h("details", { class: "optional" }, h("summary", {}, t("More fields")), optional));
    }
    return box;
  }

  field(property, path, name, required) {
    const schema = unwrap(this.schema, property);
    const label = fieldTitle(property, schema, name);
    const value = getAt(this.data, path);
    const ofStep = path[0] === "steps" && path.length === 3;
    if (ofStep && name === "next") return nextField(this, path, label);
    if (ofStep && name === "options_from") {
      return this.sharedListField(path, t("Options from a shared list"), value, schema);
    }
    if (ofStep && name === "fields") return this.answersField(path, label, value, schema);
    const kinds = scalars(this.schema, schema);
    if (kinds) return this.scalarField(path, label, value, schema, kinds);
    if (isText(schema)) return this.textField(path, label, value, schema, required);
    const type = schema.type || (schema.const !== undefined ? "const" : schema.enum ? "enum" : null);
    if (schema.enum || schema.const !== undefined) return this.enumField(path, label, value, schema);
    if (type === "boolean") return this.booleanField(path, label, value, schema);
    if (type === "integer" || type === "number") return this.numberField(path, label, value, schema, type);
    if (type === "string") return this.stringField(path, label, value, schema);
    if (type === "array" && schema.items) {
      const items = unwrap(this.schema, schema.items);
      if (items.type === "string" && !isText(items)) return this.wordsField(path, label, value, schema);
      return this.arrayField(path, label, value, schema, items);
    }
    if (type === "object" && schema.properties) {
      return h("fieldset", { "data-path": pathKey(path) }, h("legend", {}, label),
        this.objectFields(schema, path, value || {}));
    }
    return this.yamlField(path, label, value, schema);
  }

  described(schema, id) {
    return schema.description ? h("p", { class: "hint", id }, schema.description.replace(/`/g, "")) : null;
  }

  labelled(path, label, control, schema) {
    const hint = uid("hint");
    if (schema && schema.description) control.setAttribute("aria-describedby", hint);
    return h("div", { class: "field", "data-path": pathKey(path) },
      h("label", { for: control.id }, label), control, schema ? this.described(schema, hint) : null);
  }

  stringField(path, label, value, schema) {
    const input = h("input", { id: pathId(path), type: "text", value: value ?? "",
      autocomplete: "off", spellcheck: "false" });
    input.addEventListener("input", () => {
      setAt(this.data, path, input.value === "" ? undefined : input.value);
      this.changed();
    });
    return this.labelled(path, label, input, schema);
  }

  numberField(path, label, value, schema, type) {
    const input = h("input", { id: pathId(path), type: "number", value: value ?? "",
      step: type === "integer" ? "1" : "any", min: schema.minimum, max: schema.maximum });
    input.addEventListener("input", () => {
      const number = input.value === "" ? undefined : Number(input.value);
      setAt(this.data, path, Number.isNaN(number) ? undefined : number);
      this.changed();
    });
    return this.labelled(path, label, input, schema);
  }

  booleanField(path, label, value, schema) {
    const input = h("input", { id: pathId(path), type: "checkbox" });
    input.checked = value === undefined ? Boolean(schema.default) : Boolean(value);
    input.addEventListener("change", () => {
      setAt(this.data, path, input.checked);
      this.changed();
    });
    const hint = uid("hint");
    if (schema.description) input.setAttribute("aria-describedby", hint);
    return h("div", { class: "field check", "data-path": pathKey(path) }, input,
      h("label", { for: input.id }, label), this.described(schema, hint));
  }

  enumField(path, label, value, schema) {
    const values = schema.enum || [schema.const];
    const select = h("select", { id: pathId(path) },
      h("option", { value: "" }, t("(not set)")),
      values.map((v) => h("option", { value: String(v), selected: String(v) === String(value ?? "") }, String(v))));
    select.addEventListener("change", () => {
      const chosen = values.find((v) => String(v) === select.value);
      setAt(this.data, path, select.value === "" ? undefined : chosen);
      this.changed();
    });
    return this.labelled(path, label, select, schema);
  }

  // A value that may be a number or a word (a number step's min: 6, or "today"): one
  // box, a number kept as a number.
  scalarField(path, label, value, schema, types) {
    const input = h("input", { id: pathId(path), type: "text", value: value ?? "",
      autocomplete: "off", spellcheck: "false" });
    const numeric = types.includes("number") || types.includes("integer");
    input.addEventListener("input", () => {
      const typed = input.value.trim();
      const number = numeric && /^-?\d+(\.\d+)?$/.test(typed) ? Number(typed) : null;
      setAt(this.data, path, typed === "" ? undefined : number !== null ? number : typed);
      this.changed();
    });
    return this.labelled(path, label, input, schema);
  }

  // A choice's options from a shared list (services/lists/, or written in the studio).
  sharedListField(path, label, value, schema) {
    const known = this.lists.map((list) => list.name);
    const names = value && !known.includes(value) ? [...known, value] : known;
    const select = h("select", { id: pathId(path) },
      h("option", { value: "" }, t("(none: the options below)")),
      names.map((name) => {
        const list = this.lists.find((one) => one.name === name);
        const text = list ? t("{title} ({count} options)", { title: list.title || name, count: list.options }) : name;
        return h("option", { value: name, selected: name === value }, text);
      }));
    select.addEventListener("change", () => {
      setAt(this.data, path, select.value === "" ? undefined : select.value);
      this.changed();
    });
    return this.labelled(path, label, select, schema);
  }

  // The answers a summary lists (or a submission sends): a box to tick per question
  // before this step; none ticked is the format's default (every answer, in order).
  answersField(path, label, value, schema) {
    const here = path[1];
    const chosen = Array.isArray(value) ? value : [];
    const asked = this.steps().slice(0, here)
      .filter((step) => step && step.id && !NOT_ANSWERS.has(step.type)).map((step) => step.id);
    const others = chosen.filter((id) => !asked.includes(id)); // kept as written
    const hint = uid("hint");
    const box = h("fieldset", { class: "answers", "data-path": pathKey(path), "aria-describedby": hint },
      h("legend", {}, label));
    const write = () => {
      const ticked = asked.filter((id) => box.querySelector(`input[value="${CSS.escape(id)}"]`).checked);
      const all = [...ticked, ...others];
      setAt(this.data, path, all.length ? all : undefined);
      this.changed();
    };
    for (const id of asked) {
      const input = h("input", { id: pathId([...path, id]), type: "checkbox", value: id });
      input.checked = chosen.includes(id);
      input.addEventListener("change", write);
      box.append(h("div", { class: "field check" }, input, h("label", { for: input.id }, id)));
    }
    if (!asked.length) box.append(h("p", {}, t("No question comes before this step.")));
    if (others.length) box.append(h("p", {}, t("Also listed: {steps}", { steps: others.join(", ") })));
    box.append(h("p", { class: "hint", id: hint }, t("None ticked: every answer so far, in order.")));
    return box;
  }

  // A list of words (keywords, languages): one a line.
  wordsField(path, label, value, schema) {
    const area = h("textarea", { id: pathId(path), rows: "2", spellcheck: "false" });
    area.value = Array.isArray(value) ? value.join("\n") : "";
    area.addEventListener("input", () => {
      const words = area.value.split("\n").map((w) => w.trim()).filter(Boolean);
      setAt(this.data, path, words.length ? words : undefined);
      this.changed();
    });
    return this.labelled(path, `${label} (${t("one a line")})`, area, schema);
  }

  // A text citizens read: one box per language of the service, side by side.
  textField(path, label, value, schema, required) {
    const langs = this.languages();
    const box = h("fieldset", { class: "text", "data-path": pathKey(path) }, h("legend", {}, label));
    const row = h("div", { class: "languages" });
    const given = (lang) => (typeof value === "string" ? (lang === "en" ? value : "")
      : value && typeof value === "object" ? value[lang] || "" : "");
    const anyGiven = langs.some((lang) => given(lang));
    for (const lang of langs) {
      const id = pathId([...path, lang]);
      const area = h("textarea", { id, rows: "2", lang, "data-path": pathKey([...path, lang]) });
      area.value = given(lang);
      const missing = (anyGiven || required) && !given(lang);
      const note = h("span", { class: "missing", id: `${id}-missing` }, missing ? t("missing") : "");
      if (missing) area.setAttribute("aria-describedby", note.id);
      area.addEventListener("input", () => {
        const texts = {};
        for (const other of langs) {
          const box = row.querySelector(`textarea[lang="${CSS.escape(other)}"]`);
          if (box && box.value) texts[other] = box.value;
        }
        const keys = Object.keys(texts);
        setAt(this.data, path, keys.length === 0 ? (required ? { en: "" } : undefined)
          : langs.length === 1 && keys[0] === "en" && typeof value === "string" ? texts.en : texts);
        note.textContent = area.value ? "" : t("missing");
        this.changed();
      });
      row.append(h("div", { class: "language" },
        h("label", { for: id }, `${label}: ${lang}`), area, note));
    }
    box.append(row);
    if (schema.description) box.append(h("p", { class: "hint" }, schema.description.replace(/`/g, "")));
    return box;
  }

  arrayField(path, label, value, schema, items) {
    const list = Array.isArray(value) ? value : [];
    const box = h("fieldset", { class: "array", "data-path": pathKey(path) }, h("legend", {}, label));
    const ol = h("ol", {});
    list.forEach((item, index) => {
      const itemPath = [...path, index];
      const name = `${label} ${index + 1}`;
      const body = items.properties
        ? this.objectFields(items, itemPath, item)
        : this.field(items, itemPath, name, true);
      const named = uid("item");
      ol.append(h("li", { "data-path": pathKey(itemPath), "aria-labelledby": named }, h("div", { class: "item-tools" },
        h("span", { id: named }, name),
        itemTools(name, index, list.length, {
          up: () => this.moveItem(path, index, index - 1, name),
          down: () => this.moveItem(path, index, index + 1, name),
          remove: () => this.moveItem(path, index, null, name),
        })), body));
    });
    box.append(ol, h("button", { type: "button", onclick: () => {
      const fresh = items.properties ? {} : items.type === "string" ? "" : null;
      if (items.properties) {
        for (const key of items.required || []) {
          fresh[key] = isText(unwrap(this.schema, items.properties[key])) ? { en: "" } : "";
        }
      }
      setAt(this.data, path, [...list, fresh]);
      this.changed();
      this.render(this.data, [...path, list.length]);
    } }, t("Add to {list}", { list: label })));
    return box;
  }

  // Moves an item of a list (`to` null: removes it); after a move the focus stays on the
  // Move button pressed, after a removal it goes to the list.
  moveItem(path, from, to, name) {
    const list = getAt(this.data, path);
    const [item] = list.splice(from, 1);
    if (to !== null) list.splice(to, 0, item);
    this.changed();
    if (to === null) {
      this.render(this.data, path);
    } else {
      this.render(this.data);
      const moved = this.root.querySelector(`li[data-path="${CSS.escape(pathKey([...path, to]))}"] > .item-tools`);
      const button = moved && moveButton(moved, to < from ? "-1" : "1");
      if (button) button.focus();
    }
    announce(to === null ? t("{step} removed", { step: name })
      : t("{step} moved to position {position} of {count}", { step: name, position: to + 1, count: list.length }));
  }

  // What the walker has no widget for: the value as YAML.
  yamlField(path, label, value, schema) {
    const area = h("textarea", { id: pathId(path), rows: "3", spellcheck: "false", class: "yaml" });
    area.value = value === undefined || value === null ? "" : stringify(value).trimEnd();
    area.addEventListener("change", () => {
      try {
        setAt(this.data, path, area.value.trim() ? parse(area.value) : undefined);
        area.removeAttribute("aria-invalid");
        this.changed();
      } catch {
        area.setAttribute("aria-invalid", "true");
      }
    });
    return this.labelled(path, `${label} (YAML)`, area, schema);
  }

  // Focuses the field at `path` (or the nearest one above it), opening its folds.
  focus(path) {
    for (let length = path.length; length > 0; length -= 1) {
      const key = pathKey(path.slice(0, length));
      const holder = this.root.querySelector(`[data-path="${CSS.escape(key)}"]`);
      if (!holder) continue;
      for (let fold = holder.closest("details"); fold; fold = fold.parentElement.closest("details")) {
        fold.open = true;
      }
      if (holder.matches("details")) holder.open = true;
      // An item of a list: its first field, not its Move / Remove buttons.
      const control = holder.matches("input, textarea, select") ? holder
        : (holder.matches("li") && holder.querySelector(":scope > :not(.item-tools) :is(input, textarea, select)"))
          || holder.querySelector("input, textarea, select, button, summary");
      if (control) {
        control.focus();
        control.scrollIntoView({ block: "center" });
        return true;
      }
    }
    return false;
  }
}
