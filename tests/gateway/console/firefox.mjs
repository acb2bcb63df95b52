// The console in Firefox: Debian's firefox-esr driven over WebDriver BiDi by puppeteer-core
// (package.json; no browser is downloaded). tests/gateway/console/test_console_firefox.py
// runs it against a served console with one officer and one drone permit application:
//
//     node tests/gateway/console/firefox.mjs BASE_URL EMAIL PASSWORD
//
// It signs in (the fields found by their labels, Enter to submit), lands on the
// applications page, opens the first application, checks its Approve / Reject / Return
// for correction buttons, ticks an answer to correct with the keyboard (focus, Space),
// returns the application with a note and checks its status is then "returned".
//
// Prints one JSON object on stdout: {"ok": true, ...what it saw} and exits 0; on any
// failure {"ok": false, "step": ..., "error": ...} (the error on stderr too) and exits 1.
// FIREFOX names the browser (default /usr/bin/firefox-esr); TIMEOUT_MS bounds each wait
// (default 15000); the whole run is cut off after 8 waits' worth.

import { existsSync } from "node:fs";
import process from "node:process";

import puppeteer from "puppeteer-core";

const NOTE = "Give the model as printed on the drone.";
const BUTTONS = ["Approve", "Reject", "Return for correction"];
const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS || 15000);

class Failure extends Error {}

let step = "starting";
const seen = {};

function check(condition, message) {
  if (!condition) throw new Failure(message);
}

// The form control a <label> with exactly this text names (label.control: for= or nested).
async function byLabel(page, text) {
  const handle = await page.evaluateHandle((wanted) => {
    const label = [...document.querySelectorAll("label")].find(
      (element) => element.textContent.trim() === wanted,
    );
    return label ? label.control : null;
  }, text);
  const element = handle.asElement();
  check(element, `no form control labelled "${text}" on ${page.url()}`);
  return element;
}

async function heading(page) {
  const h1 = await page.$("h1");
  check(h1, `no <h1> on ${page.url()}`);
  return h1.evaluate((element) => element.textContent.trim());
}

async function isFocused(element) {
  return element.evaluate((node) => node === document.activeElement);
}

// Presses `key` and waits for the page it loads (a form submitted, a redirect followed).
async function submitting(page, key) {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press(key)]);
}

async function run(base, email, password) {
  step = "launching Firefox";
  check(existsSync(FIREFOX), `Firefox is missing: ${FIREFOX} (make firefox)`);
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    timeout: TIMEOUT_MS * 2,
    defaultViewport: { width: 1280, height: 800 },
  });
  try {
    seen.browser = await browser.version();
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    page.setDefaultNavigationTimeout(TIMEOUT_MS);

    step = "opening /console";
    const opened = await page.goto(new URL("/console", base).href, { waitUntil: "load" });
    check(opened && opened.ok(), `GET /console answered ${opened && opened.status()}`);
    check((await heading(page)) === "Sign in", `/console shows "${await heading(page)}", not "Sign in"`);

    step = "signing in";
    const emailField = await byLabel(page, "Email");
    await emailField.focus();
    await page.keyboard.type(email);
    const passwordField = await byLabel(page, "Password");
    await passwordField.focus();
    await page.keyboard.type(password);
    check(await isFocused(passwordField), "the Password field lost the focus while typing");
    await submitting(page, "Enter");
    const landed = new URL(page.url());
    seen.signed_in_at = landed.pathname;
    check(
      landed.pathname === "/console/applications",
      `signing in led to ${page.url()} ("${await heading(page)}"), not /console/applications`,
    );
    const title = await heading(page);
    check(title === "Applications", `the applications page's heading is "${title}"`);
    seen.queue_heading = title;

    step = "opening the first application";
    const link = await page.$("tbody a[href^='/console/applications/']");
    check(link, "the applications page lists no application");
    seen.reference = await link.evaluate((element) => element.textContent.trim());
    await link.focus();
    await submitting(page, "Enter");
    seen.application_heading = await heading(page);
    check(
      seen.application_heading === `Application ${seen.reference}`,
      `the application's heading is "${seen.application_heading}"`,
    );
    seen.status_before = await page.$eval("#status", (element) => element.textContent.trim());

    step = "checking the decision buttons";
    seen.buttons = await page.$$eval("button", (buttons) => [
      ...new Set(buttons.map((button) => button.textContent.trim())),
    ]);
    const absent = BUTTONS.filter((name) => !seen.buttons.includes(name));
    check(absent.length === 0, `no button ${absent.join(", ")} (buttons: ${seen.buttons.join(", ")})`);

    step = "ticking an answer to correct with the keyboard";
    const box = await page.$("form[action$='/return'] input[type='checkbox']");
    check(box, "the return form has no checkbox");
    await box.focus();
    check(await isFocused(box), "the checkbox does not take the focus");
    // " ", the Space bar's key value: puppeteer's BiDi keyboard does not know "Space".
    await page.keyboard.press(" ");
    const ticked = await box.evaluate((element) => ({
      value: element.value,
      label: element.labels[0] ? element.labels[0].textContent.trim() : "",
      checked: element.checked,
    }));
    check(ticked.checked, `Space did not tick the checkbox "${ticked.label}"`);
    seen.ticked = { value: ticked.value, label: ticked.label };

    step = "returning the application for correction";
    const note = await byLabel(page, "Note to the citizen");
    await note.focus();
    await page.keyboard.type(NOTE);
    seen.note = NOTE;
    await page.keyboard.press("Tab");
    const send = await page.$("form[action$='/return'] button[type='submit']");
    check(send, "the return form has no button");
    check(await isFocused(send), "Tab from the note does not reach the Return for correction button");
    await submitting(page, "Enter");
    seen.status = await page.$eval("#status", (element) => element.textContent.trim());
    const notice = await page.$("[role='status']");
    seen.notice = notice ? await notice.evaluate((element) => element.textContent.trim()) : null;
    check(seen.status === "returned", `after returning it the status is "${seen.status}", not "returned"`);
    seen.url = page.url();
  } finally {
    await browser.close();
  }
}

const [base, email, password] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error("usage: node tests/gateway/console/firefox.mjs BASE_URL EMAIL PASSWORD");
  process.exit(2);
}
const deadline = setTimeout(() => {
  const error = `gave up after ${(TIMEOUT_MS * 8) / 1000} s while ${step}`;
  console.log(JSON.stringify({ ok: false, step, error, ...seen }));
  console.error(`firefox.mjs: ${error}`);
  process.exit(1);
}, TIMEOUT_MS * 8);
try {
  await run(base, email, password);
  console.log(JSON.stringify({ ok: true, ...seen }));
  process.exitCode = 0;
} catch (error) {
  const message = error instanceof Failure ? error.message : String((error && error.stack) || error);
  console.log(JSON.stringify({ ok: false, step, error: message, ...seen }));
  console.error(`firefox.mjs: failed while ${step}: ${message}`);
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
}
