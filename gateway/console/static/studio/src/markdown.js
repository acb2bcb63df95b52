// Stands in for codemirror-json-schema's markdown renderer (markdown-it with shiki, which
// loads WebAssembly and themes at start): the schema's descriptions are plain sentences,
// shown escaped, with `code` kept as <code>.

const escape = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderMarkdown(markdown) {
  return escape(String(markdown ?? "")).replace(/`([^`]+)`/g, "<code>$1</code>");
}
