// The page's core in a second engine: Firefox ESR (Debian's firefox-esr) driven over WebDriver
// BiDi by puppeteer-core, against a running deskcam with --control, in lock-step with
// tests/control/browser.rs (see lockstep.mjs):
//   node firefox.mjs URL SCREENSHOT
// Checks: the live picture shows and follows the desktop, a click lands on the right pixel,
// physical keys type, the page's inline scripts run under its Content-Security-Policy.
import puppeteer from "puppeteer-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pictureBox } from "./picture.mjs";
import { step as report, probes, fail } from "./lockstep.mjs";

const [url, screenshot] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "deskcam-firefox-"));
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: "/usr/bin/firefox-esr",
  headless: true,
  userDataDir: profile,
  // No update checks, telemetry or first-run pages: nothing but the page talks to the network.
  extraPrefsFirefox: { "app.update.enabled": false, "datareporting.policy.dataSubmissionEnabled": false,
    "toolkit.telemetry.enabled": false, "browser.shell.checkDefaultBrowser": false },
});
let page;
const until = fn => page.waitForFunction(fn, { timeout: 15000 });
async function step(name, ...args) { await until(() => deskcam.control.idle()); await report(name, ...args); }
try {
  page = await browser.newPage();
  await page.setViewport({ width: 800, height: 600 });
  page.on("console", m => console.error("page:", m.text()));
  await page.evaluateOnNewDocument(probes);
  await page.goto(url);
  await until(() => document.getElementById("view").naturalWidth > 0 && document.body.dataset.control === "on");
  // The picture follows the desktop: the test repaints it, a pixel near a corner changes.
  const corner = () => page.evaluate(() => {
    const v = document.getElementById("view");
    const c = document.createElement("canvas");
    c.width = v.naturalWidth; c.height = v.naturalHeight;
    const g = c.getContext("2d");
    g.drawImage(v, 0, 0);
    return Array.from(g.getImageData(Math.floor(c.width * 0.05), Math.floor(c.height * 0.95), 1, 1).data.slice(0, 3));
  });
  const before = await corner();
  await step("repaint");
  const deadline = Date.now() + 10000;
  let after = before;
  while (Date.now() < deadline) {
    after = await corner();
    if (after.some((c, i) => Math.abs(c - before[i]) > 60)) break;
    await new Promise(r => setTimeout(r, 50));
  }
  if (!after.some((c, i) => Math.abs(c - before[i]) > 60)) fail(`picture did not change: ${before} -> ${after}`);
  const { at } = await pictureBox(page);
  await page.mouse.click(...at(0.25, 0.5));
  await step("click", 0.25, 0.5);
  await page.keyboard.down("Shift");
  await page.keyboard.press("KeyH");
  await page.keyboard.up("Shift");
  await page.keyboard.press("KeyI");
  await page.keyboard.down("Shift");
  await page.keyboard.press("Digit1");
  await page.keyboard.up("Shift");
  // No Enter: puppeteer sends WebDriver's U+E007 for it, which Firefox reports as the keypad's
  // Enter (code NumpadEnter), and the page rightly sends the key it is told.
  await step("letters");
  const csp = await page.evaluate(() => window.__probe.csp);
  if (csp.length) fail(`Content-Security-Policy violations: ${csp}`);
  await page.screenshot({ path: screenshot });
  await step("done");
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
