// A line diff (longest common subsequence) for showing what changed between two texts.

export function lineDiff(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length * b.length > 4_000_000) return [{ kind: "same", line: "…" }];
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lengths[i][j] = a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) { out.push({ kind: "same", line: a[i] }); i += 1; j += 1; }
    else if (i < a.length && (j === b.length || lengths[i + 1][j] >= lengths[i][j + 1])) { out.push({ kind: "removed", line: a[i] }); i += 1; }
    else { out.push({ kind: "added", line: b[j] }); j += 1; }
  }
  return out;
}

// The diff as a list: changed lines with two of context, "+"/"−" and a word for
// screen readers.
export function diffList(lines, h, words) {
  const keep = new Set();
  lines.forEach((entry, index) => {
    if (entry.kind !== "same") for (let k = index - 2; k <= index + 2; k += 1) keep.add(k);
  });
  const list = h("ol", { class: "diff" });
  lines.forEach((entry, index) => {
    if (!keep.has(index)) return;
    const mark = entry.kind === "added" ? "+" : entry.kind === "removed" ? "−" : " ";
    list.append(h("li", { class: entry.kind },
      h("span", { class: "visually-hidden" }, words[entry.kind] || ""),
      h("span", { "aria-hidden": "true" }, mark + " "), entry.line));
  });
  return list;
}
