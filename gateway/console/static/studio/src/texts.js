// The texts the script says, translated by the page (a JSON data block of the template).

let texts = null;

export function t(key, values = {}) {
  if (texts === null) {
    const block = document.getElementById("studio-texts");
    texts = block ? JSON.parse(block.textContent) : {};
  }
  const said = texts[key] || key;
  return said.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// Says `message` to screen readers (the page's polite live region).
export function announce(message) {
  const region = document.getElementById("announce");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = message; }, 50);
}

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

export function debounce(action, milliseconds) {
  let timer = 0;
  return (...args) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => action(...args), milliseconds);
  };
}

let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;
