// Where a step goes next: the following step, a named step, or branches whose
// conditions are picked from the answers given before (step ids and their values), with
// an Advanced field to type the expression.

import { getAt, pathId, pathKey, setAt } from "./paths.js";
import { h } from "./dom.js";
import { t } from "./texts.js";

const FOLLOWING = "";
const BRANCHES = "*branches";
const PICKED = /^(not )?answers\.([a-z][a-z0-9_]*)(?:\s*(==|!=)\s*"([^"]*)")?$/;

// The values an answer may hold: a choice's options, yes/no, else free.
function valuesOf(step) {
  if (!step) return null;
  if (Array.isArray(step.options)) return step.options.map((o) => String(o && o.value));
  if (step.type === "yes_no") return ["yes", "no"];
  return null;
}

export function nextField(form, path, label) {
  const steps = form.steps();
  const here = path[1];
  const value = getAt(form.data, path);
  const id = pathId(path);
  const box = h("fieldset", { class: "next", "data-path": pathKey(path) }, h("legend", {}, label));
  const mode = Array.isArray(value) ? BRANCHES : typeof value === "string" ? value : FOLLOWING;
  const select = h("select", { id },
    h("option", { value: FOLLOWING }, t("The following step")),
    steps.filter((s, i) => i !== here && s && s.id)
      .map((s) => h("option", { value: s.id, selected: s.id === mode }, s.id)),
    h("option", { value: BRANCHES, selected: mode === BRANCHES }, t("Depending on the answers…")));
  select.value = mode;
  select.addEventListener("change", () => {
    const chosen = select.value;
    setAt(form.data, path, chosen === FOLLOWING ? undefined
      : chosen === BRANCHES ? [{ goto: (steps[here + 1] || steps[0]).id }] : chosen);
    form.changed();
    form.render(form.data, path);
  });
  box.append(h("div", { class: "field" }, h("label", { for: id }, t("Then go to")), select));
  if (mode === BRANCHES) {
    const answers = steps.slice(0, here + 1).filter((s) => s && s.id);
    value.forEach((branch, index) => box.append(branchRow(form, [...path, index], branch, index, answers, steps)));
    // A new branch goes before the last one when that one holds always ("otherwise").
    box.append(h("button", { type: "button", onclick: () => {
      const last = value[value.length - 1];
      const at = last && !last.if ? value.length - 1 : value.length;
      value.splice(at, 0, { goto: (steps[here + 1] || steps[0]).id });
      form.changed();
      form.render(form.data, [...path, at]);
    } }, t("Add a branch")));
  }
  return box;
}

function branchRow(form, path, branch, index, answers, steps) {
  const condition = branch && typeof branch.if === "string" ? branch.if : "";
  const picked = PICKED.exec(condition.trim());
  const prefix = pathId(path);
  const name = t("Branch {number}", { number: index + 1 });
  const answer = h("select", { id: `${prefix}-answer` }, h("option", { value: "" }, t("(always)")),
    answers.map((s) => h("option", { value: s.id, selected: picked && picked[2] === s.id }, s.id)));
  const operator = h("select", { id: `${prefix}-operator` },
    h("option", { value: "==" }, t("is")), h("option", { value: "!=" }, t("is not")));
  if (picked && picked[3] === "!=") operator.value = "!=";
  const values = h("select", { id: `${prefix}-value` });
  const advanced = h("input", { id: `${prefix}-if`, type: "text", value: condition,
    spellcheck: "false", autocomplete: "off", "data-path": pathKey([...path, "if"]) });
  const goto = h("select", { id: `${prefix}-goto`, "data-path": pathKey([...path, "goto"]) },
    steps.filter((s) => s && s.id).map((s) => h("option", { value: s.id, selected: s.id === branch.goto }, s.id)));

  const fillValues = () => {
    const step = answers.find((s) => s.id === answer.value);
    const known = valuesOf(step);
    values.replaceChildren(...(known || []).map((v) => h("option", { value: v }, v)));
    values.disabled = !known;
    if (picked && picked[2] === answer.value) {
      if (step && step.type === "yes_no") values.value = picked[1] ? "no" : "yes";
      else if (picked[4] !== undefined) values.value = picked[4];
    }
  };
  const write = (expression) => {
    setAt(form.data, [...path, "if"], expression === "" ? undefined : expression);
    form.changed();
  };
  const compose = () => {
    const step = answers.find((s) => s.id === answer.value);
    if (!step) return "";
    if (step.type === "yes_no") {
      const yes = values.value !== "no";
      return (operator.value === "==") === yes ? `answers.${step.id}` : `not answers.${step.id}`;
    }
    return values.disabled ? `answers.${step.id}` : `answers.${step.id} ${operator.value} "${values.value}"`;
  };
  const picker = () => {
    advanced.value = compose();
    write(advanced.value);
  };
  fillValues();
  answer.addEventListener("change", () => { fillValues(); picker(); });
  operator.addEventListener("change", picker);
  values.addEventListener("change", picker);
  advanced.addEventListener("input", () => write(advanced.value.trim()));
  goto.addEventListener("change", () => { setAt(form.data, [...path, "goto"], goto.value); form.changed(); });

  const remove = h("button", { type: "button", "aria-label": t("Remove: {step}", { step: name }), onclick: () => {
    const list = getAt(form.data, path.slice(0, -1));
    list.splice(index, 1);
    if (!list.length) setAt(form.data, path.slice(0, -1), undefined);
    form.changed();
    form.render(form.data, path.slice(0, -1));
  } }, t("Remove"));
  const field = (control, text) => h("div", { class: "field" }, h("label", { for: control.id }, text), control);
  return h("fieldset", { class: "branch", "data-path": pathKey(path) }, h("legend", {}, name),
    h("div", { class: "picker" }, field(answer, t("If the answer to")), field(operator, t("Compared")),
      field(values, t("Value"))),
    h("details", { class: "advanced", open: Boolean(condition) && !picked },
      h("summary", {}, t("Advanced")), field(advanced, t("Condition (expression)"))),
    field(goto, t("Go to")), remove);
}
