// Drives headless Chromium against a running deskcam with --control, in lock-step with the
// Rust test (tests/control.rs), which watches the X server with a recording client:
//   node control.mjs URL WIDTHxHEIGHT SCREENSHOT [view]
// With "view" the server runs without --control: the page must say "view only" and a click
// must send nothing.
// For every action it prints "STEP name fx fy" (fractions of the streamed picture it aimed
// at) once the page has sent and seen answered every control request of that action, then
// waits for a line on stdin before the next one, so the test can check the X events of that
// action alone. Any failure exits non-zero with the reason on stderr.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pictureBox } from "./picture.mjs";

const [url, size, screenshot, viewOnly] = process.argv.slice(2);
const [vw, vh] = size.split("x").map(Number);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
let page;
// The page sends one control request at a time and merges pointer moves and wheel steps per
// animation frame (index.html, "remote control"): it is done with an action when nothing is
// queued, pending or unanswered, and the server answers only once the X server has the event.
const settled = () => page.waitForFunction(() => deskcam.control.idle(), null, { timeout: 15000 });
async function step(name, fx = "", fy = "") {
  await settled();
  console.log(`STEP ${name} ${fx} ${fy}`);
  const reply = await lines.next();
  if (reply.done || reply.value.trim() !== "next") throw new Error(`test stopped after ${name}`);
}

const profile = mkdtempSync(join(tmpdir(), "deskcam-chromium-"));
// Playwright passes the profile as --user-data-dir itself (it refuses the flag in args).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: vw, height: vh },
  hasTouch: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  page = await browser.newPage();
  page.on("console", m => console.error("page:", m.text()));
  // Control requests the page makes: a view-only page must make none (the server would refuse
  // them anyway, so the X recorder alone could not tell).
  let controlRequests = 0;
  page.on("request", r => { if (/\/(input|pointer)\b/.test(new URL(r.url()).pathname)) controlRequests++; });
  await page.goto(url);
  if (viewOnly === "view") {
    await page.waitForFunction(() => document.getElementById("view").naturalWidth > 0 &&
      document.getElementById("status").textContent.includes("view only"), null, { timeout: 15000 });
    const badge = await page.textContent("#mode");
    if (badge !== "view only" || await page.getAttribute("body", "data-control") !== "off")
      throw new Error(`view-only page shows ${badge}`);
    await page.mouse.click(vw / 2, vh / 2);
    await page.mouse.click(vw / 2, vh / 2, { button: "right" });
    await page.keyboard.press("KeyA");
    // Absence is proven by a sentinel: once the handlers' animation frames have run, a request
    // the page makes now is seen after any control request those handlers started.
    await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
    const sentinel = page.waitForRequest(r => r.url().endsWith("/state?sentinel=1"), { timeout: 15000 });
    await page.evaluate(() => fetch("/state?sentinel=1"));
    await sentinel;
    if (controlRequests > 0) throw new Error(`a view-only page sent ${controlRequests} control requests`);
    await step("viewclick");
    await page.screenshot({ path: screenshot });
    await step("done");
    process.exit(0);
  }
  // Live frames and control on (the page reads /state when it loads).
  await page.waitForFunction(() => {
    const v = document.getElementById("view");
    return v.naturalWidth > 0 && document.body.dataset.control === "on";
  }, null, { timeout: 15000 });

  // The colour of the picture near a corner, read from the live <img> through a canvas.
  const corner = () => page.evaluate(() => {
    const v = document.getElementById("view");
    const c = document.createElement("canvas");
    c.width = v.naturalWidth; c.height = v.naturalHeight;
    const g = c.getContext("2d");
    g.drawImage(v, 0, 0);
    return Array.from(g.getImageData(Math.floor(c.width * 0.05), Math.floor(c.height * 0.95), 1, 1).data.slice(0, 3));
  });
  const before = await corner();
  console.log(`SIZE ${await page.evaluate(() => { const v = document.getElementById("view"); return v.naturalWidth + "x" + v.naturalHeight; })}`);
  await step("repaint");
  // The test repainted the desktop: a live stream shows it within a few frames.
  const deadline = Date.now() + 10000;
  let after = before;
  while (Date.now() < deadline) {
    after = await corner();
    if (after.some((c, i) => Math.abs(c - before[i]) > 60)) break;
    await page.waitForTimeout(50);
  }
  if (!after.some((c, i) => Math.abs(c - before[i]) > 60)) throw new Error(`picture did not change: ${before} -> ${after}`);

  // Page coordinates of a spot of the picture (picture.mjs).
  const { at } = await pictureBox(page);

  await page.mouse.click(...at(0.25, 0.5));
  await step("click", 0.25, 0.5);
  await page.mouse.click(...at(0.75, 0.2), { button: "right" });
  await step("right", 0.75, 0.2);
  await page.mouse.dblclick(...at(0.5, 0.75));
  await step("dblclick", 0.5, 0.75);
  await page.mouse.move(...at(0.1, 0.1));
  await page.mouse.down();
  await page.mouse.move(...at(0.3, 0.4), { steps: 5 });
  await page.mouse.up();
  await step("drag", 0.3, 0.4);
  await page.mouse.move(...at(0.6, 0.6));
  await page.mouse.wheel(0, 300);
  await step("wheel", 0.6, 0.6);
  // Touch, through the DevTools protocol (Playwright's touchscreen only taps).
  const cdp = await page.context().newCDPSession(page);
  const touch = (type, points) => cdp.send("Input.dispatchTouchEvent", {
    type, touchPoints: points.map(([x, y], id) => ({ x, y, id })) });
  await page.touchscreen.tap(...at(0.4, 0.6));
  await step("tap", 0.4, 0.6);
  await touch("touchStart", [at(0.6, 0.4)]);
  await page.waitForTimeout(800);
  await touch("touchEnd", []);
  await step("longpress", 0.6, 0.4);
  {
    const [cx, cy] = at(0.5, 0.5);
    let pts = [[cx - 30, cy], [cx + 30, cy]];
    await touch("touchStart", pts);
    for (let i = 1; i <= 13; i++) {   // fingers up by 130 px: three 40 px scroll steps down
      await touch("touchMove", pts.map(([x, y]) => [x, y - 10 * i]));
      await page.waitForTimeout(20);
    }
    await touch("touchEnd", []);
  }
  await step("twofinger", 0.5, 0.5);
  // Physical keys with Shift held, as a user types "Hi!" and Enter on a US keyboard.
  for (const k of ["Shift+KeyH", "KeyI", "Shift+Digit1", "Enter"]) await page.keyboard.press(k);
  await step("type");
  await page.screenshot({ path: screenshot });
  await step("done");
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
