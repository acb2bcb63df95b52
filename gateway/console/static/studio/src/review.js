// The publisher's page: what changed in the draft, its impact, publish or send back with
// a comment, roll back to an earlier version.

import { call, optional, service } from "./api.js";
import { finder, h, say } from "./dom.js";
import { t } from "./texts.js";

export async function review(main) {
  const id = main.dataset.service;
  const $ = finder(main);
  const said = (text) => say($("#review-status"), text); // the page's status: its own live region
  // Publish and Send back: for a draft sent for review, until it is published or sent back.
  const decide = (open) => {
    $("#publish").disabled = !open;
    $("#send-back").disabled = !open;
  };
  decide(main.dataset.draftState === "submitted");
  let diff = null;
  try {
    diff = await optional("GET", service(id) + "/draft/diff");
    if (!diff) said(t("This service has no draft to review."));
  } catch (error) {
    said(error.message);
  }
  if (diff) {
    said(t("Draft revision {revision}: version {version}, replacing {live}", {
      revision: diff.draft_revision, version: diff.draft_version,
      live: diff.live_version === null ? t("nothing (a new service)") : diff.live_version,
    }));
    $("#review-diff").replaceChildren(diff.sentences.length
      ? h("ul", {}, diff.sentences.map((sentence) => h("li", {}, sentence)))
      : h("p", {}, t("Nothing changes.")));
  }
  const impact = await call("GET", service(id) + "/impact").catch(() => null);
  $("#review-impact").replaceChildren(impact ? impactList(impact) : t("No impact report yet."));

  const comment = () => $("#review-comment").value.trim();
  $("#publish").addEventListener("click", async () => {
    try {
      const done = await call("POST", service(id) + "/draft/publish", { body: { comment: comment() || null } });
      decide(false);
      said(t("Published as version {version}.", { version: done.version }));
      await showVersions();
    } catch (error) {
      said(error.message);
    }
  });
  $("#send-back").addEventListener("click", async () => {
    if (!comment()) {
      said(t("Say what to change in the comment."));
      $("#review-comment").focus();
      return;
    }
    try {
      await call("POST", service(id) + "/draft/return", { body: { comment: comment() } });
      decide(false);
      said(t("Sent back to the author."));
    } catch (error) {
      said(error.message);
    }
  });
  const select = $("#rollback-version");
  const showVersions = async () => {
    const versions = await call("GET", service(id) + "/versions").catch(() => null);
    const earlier = (Array.isArray(versions) ? versions : []).filter((v) => !v.live);
    select.replaceChildren(...earlier.map((v) => h("option", { value: String(v.version) },
      t("Version {version}, published by {by} on {day}", {
        version: v.version, by: v.published_by, day: String(v.published_at).slice(0, 10),
      }))));
    $("#rollback").disabled = !earlier.length;
    $("#rollback-note").textContent = earlier.length ? "" : t("No earlier version to roll back to.");
  };
  await showVersions();
  $("#rollback").addEventListener("click", async () => {
    try {
      const done = await call("POST", service(id) + "/rollback",
        { body: { version: Number(select.value), comment: comment() || null } });
      said(t("Rolled back: version {version} runs.", { version: done.version }));
      await showVersions();
    } catch (error) {
      said(error.message);
    }
  });
}

function impactList(impact) {
  return h("ul", {},
    h("li", {}, t("Conversations in progress now: {count}", { count: impact.conversations })),
    impact.versions.map((v) => h("li", {}, t("Version {version}: {count} in progress (they finish on it)",
      { version: v.version, count: v.conversations }))));
}
