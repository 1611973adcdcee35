// Drives the page's camera controls panel in headless Chromium, as a phone user would:
//   node camera_panel.mjs URL SCREENSHOT
// Opens the panel with a tap, clicks a quarter of the way along the brightness slider, waits
// until the server reports the value the slider shows, and
// prints "BRIGHTNESS value" for the caller to compare with the camera (tests/camera/scenarios.sh
// reads it back with v4l2-ctl). Any failure exits non-zero with the reason on stderr.
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, screenshot] = process.argv.slice(2);
// Generous: the test bed's guest emulates its CPU in software.
const SLOW = 180000;
const profile = mkdtempSync(join(tmpdir(), "deskcam-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 390, height: 844 },
  hasTouch: true,
  timeout: SLOW,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(SLOW);
  page.on("console", m => console.error("page:", m.text()));
  await page.goto(url, { timeout: SLOW });
  const open = page.locator("#camctl-open");
  await open.waitFor({ state: "visible" });
  await open.tap();
  const slider = page.locator('#camctl input[name="brightness"]');
  await slider.waitFor({ state: "visible" });
  const before = await slider.inputValue();
  const box = await slider.boundingBox();
  // One action only: every step costs seconds in the emulated guest.
  await page.mouse.click(box.x + box.width * 0.25, box.y + box.height / 2);
  const shown = await slider.inputValue();
  if (shown === before) throw new Error(`the slider did not move from ${before}`);
  // The server's own answer must come to hold the value the slider shows.
  await page.waitForFunction(async want => {
    const r = await fetch("camera/controls", { cache: "no-store" });
    const doc = await r.json();
    return doc.controls.find(c => c.name === "brightness").value === Number(want);
  }, shown, { timeout: SLOW, polling: 500 });
  const label = await page.locator('#camctl label[data-name="brightness"] output').textContent();
  if (label !== shown) throw new Error(`the panel shows ${label}, the slider ${shown}`);
  await page.screenshot({ path: screenshot });
  console.log(`BRIGHTNESS ${shown}`);
} finally {
  await browser.close();
}
