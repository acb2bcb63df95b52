// The source view: CodeMirror 6 on the draft's YAML, with completion, hover and schema
// checks from the definition format's JSON Schema (codemirror-json-schema), and the
// server's diagnostics as lint markers.

import { basicSetup } from "codemirror";
import { EditorView } from "@codemirror/view";
import { forceLinting, linter, lintGutter } from "@codemirror/lint";
import { yamlSchema } from "codemirror-json-schema/yaml";
import { t } from "./texts.js";

export class SourceView {
  constructor(parent, schema, onChange) {
    this.diagnostics = [];
    this.quiet = false;
    const nonce = document.querySelector('meta[name="csp-nonce"]');
    this.view = new EditorView({
      parent,
      doc: "",
      extensions: [
        basicSetup,
        EditorView.cspNonce.of(nonce ? nonce.content : ""),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": t("Definition (YAML)") }),
        yamlSchema(schema),
        linter(() => this.markers(), { delay: 0 }),
        lintGutter(),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !this.quiet) onChange(update.state.doc.toString());
        }),
      ],
    });
  }

  get text() {
    return this.view.state.doc.toString();
  }

  set text(value) {
    if (value === this.text) return;
    this.quiet = true;
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: value } });
    this.quiet = false;
  }

  // The server's diagnostics (line and column from 1) as CodeMirror's.
  show(diagnostics) {
    this.diagnostics = diagnostics;
    forceLinting(this.view);
  }

  markers() {
    const doc = this.view.state.doc;
    return this.diagnostics.filter((d) => d.line >= 1 && d.line <= doc.lines).map((d) => {
      const line = doc.line(d.line);
      const from = Math.min(line.from + Math.max(0, d.column - 1), line.to);
      return {
        from,
        to: Math.max(from, line.to),
        severity: d.severity === "error" ? "error" : "warning",
        source: d.code,
        message: d.hint ? `${d.message} (${d.hint})` : d.message,
      };
    });
  }

  focusLine(line, column = 1) {
    const doc = this.view.state.doc;
    const at = doc.line(Math.min(Math.max(1, line), doc.lines));
    const position = Math.min(at.from + Math.max(0, column - 1), at.to);
    this.view.dispatch({ selection: { anchor: position }, scrollIntoView: true });
    this.view.focus();
  }
}
