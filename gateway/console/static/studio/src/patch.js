// The form's changes written into the YAML as the author wrote it: the document is
// patched node by node (a changed scalar keeps its comment and its quoting, a step keeps
// its place by its id), so comments and layout survive a round trip through the form.

import { isMap, isScalar, isSeq, parseDocument } from "yaml";

const plain = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

export function patched(text, data) {
  const document = parseDocument(text);
  if (document.errors.length || !isMap(document.contents)) {
    return document.errors.length ? null : String(parseDocument("").setIn([], data));
  }
  document.contents = patch(document, document.contents, data);
  return document.toString({ flowCollectionPadding: false, singleQuote: true });
}

function patch(document, node, value) {
  if (isScalar(node) && !(value !== null && typeof value === "object")) {
    if (node.value !== value) node.value = value;
    return node;
  }
  if (isMap(node) && plain(value)) {
    for (const pair of [...node.items]) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (!(key in value)) node.delete(key);
    }
    for (const [key, wanted] of Object.entries(value)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      if (pair) pair.value = patch(document, pair.value, wanted);
      else node.set(key, document.createNode(wanted));
    }
    return node;
  }
  if (isSeq(node) && Array.isArray(value)) {
    const byId = new Map();
    node.items.forEach((item, index) => {
      const id = isMap(item) ? item.get("id") : undefined;
      byId.set(typeof id === "string" ? `id:${id}` : `at:${index}`, item);
    });
    node.items = value.map((wanted, index) => {
      const key = plain(wanted) && typeof wanted.id === "string" ? `id:${wanted.id}` : `at:${index}`;
      const old = byId.get(key);
      byId.delete(key);
      return old ? patch(document, old, wanted) : document.createNode(wanted);
    });
    return node;
  }
  return document.createNode(value);
}
