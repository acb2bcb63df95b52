// The texts the script says, translated by the page (a JSON data block of the template).

import { say } from "./dom.js";

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
  say(document.getElementById("announce"), message);
}
