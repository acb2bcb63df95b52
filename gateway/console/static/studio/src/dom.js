// Small helpers of the pages' DOM: elements, the Move / Remove buttons of an item, a
// page's own querySelector, saying a message in a live region, debounced calls, ids.

import { t } from "./texts.js";

// An element: h("button", {type: "button", onclick}, "Save").
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// The first element under `root` matching a selector: const $ = finder(main).
export const finder = (root) => (selector) => root.querySelector(selector);

// The Move up, Move down and Remove buttons of the item `name`, at `index` of `count`
// (data-move="-1" / "1" and data-remove tell them apart once drawn).
export function itemTools(name, index, count, { up, down, remove } = {}) {
  return [
    h("button", { type: "button", "data-move": "-1", disabled: index === 0,
      "aria-label": t("Move up: {step}", { step: name }), onclick: up }, t("Move up")),
    h("button", { type: "button", "data-move": "1", disabled: index === count - 1,
      "aria-label": t("Move down: {step}", { step: name }), onclick: down }, t("Move down")),
    h("button", { type: "button", class: "danger", "data-remove": "",
      "aria-label": t("Remove: {step}", { step: name }), onclick: remove }, t("Remove")),
  ];
}

// After a move: the same Move button of the item (`direction` "-1" or "1"), else its
// other one (the item reached the top or the bottom).
export function moveButton(item, direction) {
  const tools = [...item.querySelectorAll(":scope [data-move]")];
  return tools.find((one) => one.dataset.move === direction && !one.disabled)
    || tools.find((one) => !one.disabled) || null;
}

// Says `message` in the live region `region` (emptied first, so the same message said
// twice is heard twice).
export function say(region, message) {
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = message; }, 50);
}

export function debounce(action, milliseconds) {
  let timer = 0;
  const call = (...args) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => action(...args), milliseconds);
  };
  call.cancel = () => window.clearTimeout(timer);
  return call;
}

let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;
