// The preview (what the citizen sees of the current step, per medium and language) and
// the simulator (play the draft as a citizen, save the conversation as a test).

import { ApiError, call, signedOut } from "./api.js";
import { debounce, finder, h } from "./dom.js";
import { announce, t } from "./texts.js";

const USSD_LIMIT = 182;

export function preview(main, textOf, dataOf, stepOf, base) {
  const $ = finder(main);
  const out = $("#preview-screen");
  const tabs = [...main.querySelectorAll("#preview [role=tab]")];
  let medium = "ussd";
  let last = null;

  const languages = () => {
    const select = $("#preview-language");
    const wanted = (dataOf().languages || ["en"]).join(",");
    if (select.dataset.languages !== wanted) {
      const kept = select.value;
      select.replaceChildren(...wanted.split(",").map((lang) => h("option", { value: lang }, lang)));
      if (wanted.split(",").includes(kept)) select.value = kept;
      select.dataset.languages = wanted;
    }
    return select.value || "en";
  };

  const draw = () => {
    const step = stepOf() || ((dataOf().steps || [])[0] || {}).id;
    out.replaceChildren();
    const found = last && last.steps ? last.steps.find((s) => s.step === step) || last.steps[0] : null;
    const screen = found ? (found.media || []).find((m) => m.medium === medium) : null;
    out.append(h("p", { class: "preview-step" }, t("Step: {step}", { step: step || "—" })));
    if (screen) {
      out.append(h("pre", { class: "screen" }, screen.screen));
      if (screen.size) out.append(count(screen.size));
      if (screen.worst) {
        out.append(h("p", {}, t("Worst case: {count}", { count: `${screen.worst.size.characters}/${screen.worst.size.limit}` })),
          h("pre", { class: "screen worst" }, screen.worst.screen));
      }
      if (screen.sms) out.append(h("p", {}, t("SMS parts: {parts} ({encoding})", screen.sms)));
      if (screen.whatsapp && screen.whatsapp.titles.length) {
        out.append(h("p", {}, screen.whatsapp.kind === "list" ? t("WhatsApp list:") : t("WhatsApp buttons:")),
          h("ul", {}, screen.whatsapp.titles.map((title) => h("li", {}, title))));
      }
      if (screen.buttons && screen.buttons.length) {
        out.append(h("ul", { class: "buttons" }, screen.buttons.map((b) => h("li", {}, b))));
      }
      if (screen.error_screen) {
        out.append(h("p", {}, t("After a refused answer:")), h("pre", { class: "screen" }, screen.error_screen));
      }
    } else {
      const estimate = estimateScreen(dataOf(), step, languages());
      out.append(h("pre", { class: "screen" }, estimate),
        h("p", { class: "hint" }, last && last.unreadable
          ? t("Estimated here: the gateway shows the preview once the errors are fixed.")
          : t("Estimated here: the gateway's preview is not available.")));
      if (medium === "ussd") out.append(count({ characters: estimate.length, limit: USSD_LIMIT, fits: estimate.length <= USSD_LIMIT }));
    }
  };

  const refresh = debounce(async () => {
    if (signedOut()) return;
    const text = textOf();
    try {
      last = await call("POST", `${base}/preview?lang=${encodeURIComponent(languages())}`,
        { body: text, type: "application/yaml" });
    } catch (error) {
      // 422: the draft has errors (see the diagnostics): the estimate stands in meanwhile.
      last = error instanceof ApiError && error.status === 422 ? { unreadable: true } : null;
      if (!last) announce(error.message);
    }
    draw();
  }, 400);

  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(index + step + tabs.length) % tabs.length];
      select(next);
      next.focus();
    });
  });
  const select = (tab) => {
    medium = tab.dataset.medium;
    for (const other of tabs) {
      other.setAttribute("aria-selected", String(other === tab));
      other.tabIndex = other === tab ? 0 : -1;
    }
    out.setAttribute("aria-labelledby", tab.id);
    draw();
  };
  $("#preview-language").addEventListener("change", refresh);
  languages();
  return () => { languages(); draw(); refresh(); };
}

function count(size) {
  return h("p", { class: size.fits ? "count" : "count over" },
    t("{characters}/{limit} characters", size), size.fits ? "" : " · " + t("too long"));
}

// The USSD screen of a step as the engine would roughly draw it: its prompt, then its
// options numbered.
function estimateScreen(data, stepId, lang) {
  const step = (data.steps || []).find((s) => s && s.id === stepId);
  if (!step) return "";
  const text = (value) => (typeof value === "string" ? value : value && (value[lang] || value.en)) || "";
  const lines = [text(step.prompt)];
  if (Array.isArray(step.options)) step.options.forEach((o, i) => lines.push(`${i + 1}. ${text(o && o.label)}`));
  if (step.type === "yes_no") lines.push(`1. ${text(step.yes_label) || "Yes"}`, `2. ${text(step.no_label) || "No"}`);
  return lines.join("\n");
}

export function simulator(main, base, revisionOf, adopt) {
  const $ = finder(main);
  const inputs = [];
  const transcript = $("#sim-transcript");
  const play = async () => {
    try {
      const played = await call("POST", base + "/play", {
        body: { medium: $("#sim-medium").value, language: $("#sim-language").value || "en", inputs },
      });
      const turns = played.turns || [];
      transcript.replaceChildren(...turns.map((turn) => h("li", {},
        turn.sent !== null && turn.sent !== undefined ? h("p", { class: "sent" }, t("You: {text}", { text: turn.sent })) : null,
        h("pre", { class: "screen" }, turn.screen),
        turn.ended ? h("p", {}, t("The conversation ended.")) : null)));
      const lastTurn = turns[turns.length - 1];
      if (lastTurn) announce(lastTurn.screen.slice(0, 300));
    } catch (error) {
      transcript.replaceChildren(h("li", {}, error.message));
      announce(error.message);
    }
  };
  $("#sim-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const box = $("#sim-input");
    inputs.push(box.value);
    box.value = "";
    play();
    box.focus();
  });
  $("#sim-restart").addEventListener("click", () => { inputs.length = 0; play(); });
  $("#sim-save").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("#sim-name").value.trim();
    if (!name) {
      $("#sim-name").focus();
      return;
    }
    try {
      adopt(await call("POST", base + "/play/save", {
        body: { name, medium: $("#sim-medium").value, language: $("#sim-language").value || "en", inputs: [...inputs] },
        revision: revisionOf(),
      }));
      announce(t("Saved as the test {name}", { name }));
    } catch (error) {
      announce(error.message);
    }
  });
}
