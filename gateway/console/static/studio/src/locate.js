// Where a line of the YAML is in the draft: the path of the deepest value written there
// (["steps", 2, "prompt", "en"]), so a diagnostic focuses its field in the form.

import { isMap, isScalar, isSeq, parseDocument } from "yaml";

export function pathAtLine(text, line, column = 1) {
  const starts = [0];
  for (let i = 0; i < text.length; i += 1) if (text[i] === "\n") starts.push(i + 1);
  const offset = (starts[Math.min(line, starts.length) - 1] || 0) + Math.max(0, column - 1);
  let document;
  try {
    document = parseDocument(text);
  } catch {
    return [];
  }
  const path = [];
  let node = document.contents;
  for (let depth = 0; node && depth < 50; depth += 1) {
    let found = null;
    if (isMap(node)) {
      for (const pair of node.items) {
        const start = pair.key && pair.key.range ? pair.key.range[0] : Infinity;
        const end = pair.value && pair.value.range ? pair.value.range[2] : (pair.key && pair.key.range ? pair.key.range[2] : -1);
        if (offset >= start && offset <= end) {
          found = pair.value;
          path.push(isScalar(pair.key) ? pair.key.value : String(pair.key));
          break;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        if (!found && item && item.range && offset >= lineStart(text, item.range[0]) && offset <= item.range[2]) {
          found = item;
          path.push(index);
        }
      });
    }
    if (!found || isScalar(found)) break;
    node = found;
  }
  return path;
}

// The offset at which the line holding `offset` starts (a sequence item's "- " counts).
function lineStart(text, offset) {
  return text.lastIndexOf("\n", offset - 1) + 1;
}
