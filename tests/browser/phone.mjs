// The page on a phone: headless Chromium with a 390x844 touch viewport against a running
// deskcam with --control, in lock-step with tests/control/browser.rs (see lockstep.mjs):
//   node phone.mjs URL SCREENSHOT
// Checks, each against the X server: pinch-zoom then a tap lands on the exact desktop pixel
// (a two-finger pan moves only the view); the on-screen keyboard types characters as text and
// Backspace/Enter as keys; a sticky Ctrl, Ctrl+Alt+Del, F5 and an arrow from the extra keys;
// paste; touchpad mode (relative moves, a tap clicks where the pointer is, a two-finger tap
// right-clicks, a long press drags, and a cancelled touch releases the button). Also: every
// toolbar button is at least 44 px, no idle animation loop, no policy violation.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pictureBox } from "./picture.mjs";
import { step as report, probes, fail } from "./lockstep.mjs";

const [url, screenshot] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "deskcam-phone-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let page;
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 15000 });
const settled = () => until(() => deskcam.control.idle());
async function step(name, ...args) { await settled(); await report(name, ...args); }
try {
  page = await browser.newPage();
  page.on("console", m => console.error("page:", m.text()));
  await page.addInitScript(probes);
  await page.goto(url);
  await until(() => document.getElementById("view").naturalWidth > 0 && document.body.dataset.control === "on");
  const cdp = await page.context().newCDPSession(page);
  const touch = (type, points) => cdp.send("Input.dispatchTouchEvent", {
    type, touchPoints: points.map(([x, y], id) => ({ x, y, id })) });
  // A gesture: fingers from `from` to `to` (lists of points) in `n` moves.
  async function gesture(from, to, n = 10, end = "touchEnd") {
    await touch("touchStart", from);
    for (let i = 1; i <= n; i++) {
      await touch("touchMove", from.map(([x, y], k) => [x + (to[k][0] - x) * i / n, y + (to[k][1] - y) * i / n]));
      await page.waitForTimeout(16);
    }
    await touch(end, []);
  }
  const tapOn = selector => page.tap(selector);

  // Touch targets: every toolbar button shown is at least 44x44 CSS pixels.
  const small = await page.evaluate(() => [...document.querySelectorAll("#bar button")]
    .filter(b => b.offsetParent).map(b => [b.id, b.getBoundingClientRect()])
    .filter(([, r]) => r.width < 44 || r.height < 44).map(([id, r]) => `${id} ${r.width}x${r.height}`));
  if (small.length) fail(`touch targets under 44 px: ${small}`);
  if (await page.isVisible("#kbd-open") !== true || await page.isVisible("#pad") !== true)
    fail("a touch screen gets no keyboard or touchpad button");

  // Pinch out around the middle of the picture: zoomed to the most (4 CSS px a pixel).
  let { at } = await pictureBox(page);
  const [cx, cy] = at(0.5, 0.5);
  await gesture([[cx - 10, cy], [cx + 10, cy]], [[cx - 180, cy], [cx + 180, cy]]);
  await until(() => deskcam.view.mode === "zoom" && deskcam.view.scale === 4);
  await step("pinch");
  // Two fingers together: the zoomed picture pans (and the desktop gets nothing).
  const before = await page.evaluate(() => [deskcam.view.stage.scrollLeft, deskcam.view.stage.scrollTop]);
  await gesture([[150, 400], [250, 400]], [[30, 340], [130, 340]]);
  const after = await page.evaluate(() => [deskcam.view.stage.scrollLeft, deskcam.view.stage.scrollTop]);
  if (!(after[0] - before[0] > 60 && after[1] - before[1] > 30)) fail(`the pan moved the view ${before} -> ${after}`);
  await step("pan");
  // A tap in the middle of one desktop pixel lands on that pixel.
  ({ at } = await pictureBox(page));
  const { box } = await pictureBox(page);
  const px = Math.floor((200 - box.left) / box.w * 1280), py = Math.floor((420 - box.top) / box.h * 720);
  await page.touchscreen.tap(box.left + (px + 0.5) * box.w / 1280, box.top + (py + 0.5) * box.h / 720);
  await step("pinchtap", px, py);
  await tapOn("#scale");
  await until(() => deskcam.view.mode === "fit");

  // The on-screen keyboard: characters as text, Backspace and Enter as keys.
  await tapOn("#kbd-open");
  await until(() => document.activeElement.id === "kbd" && !document.getElementById("keys").hidden);
  await page.keyboard.insertText("Hi there");
  await page.keyboard.press("Backspace");
  await page.keyboard.insertText("e");
  await page.keyboard.press("Enter");
  await step("kbdtype");
  // Extra keys, the phone keyboard still up: a sticky Ctrl holds for the next character.
  await tapOn('#keys [data-mod="ControlLeft"]');
  await until(() => document.querySelector('[data-mod="ControlLeft"]').getAttribute("aria-pressed") === "true");
  await page.keyboard.insertText("c");
  await until(() => document.querySelector('[data-mod="ControlLeft"]').getAttribute("aria-pressed") === "false");
  if (await page.evaluate(() => document.activeElement.id) !== "kbd") fail("the extra keys took the focus");
  await step("sticky");
  await tapOn("#keys [data-combo]");
  await step("cad");
  await tapOn('#keys [data-code="F5"]');
  await tapOn('#keys [data-code="ArrowLeft"]');
  await step("fkeys");
  // The buttons of the extra keys are touch targets too.
  const smallKeys = await page.evaluate(() => [...document.querySelectorAll("#keys button")]
    .map(b => b.getBoundingClientRect()).filter(r => r.width < 44 || r.height < 44).length);
  if (smallKeys) fail(`${smallKeys} extra keys under 44 px`);
  await page.screenshot({ path: screenshot });
  await tapOn("#keys-open");

  // Paste a typed snippet.
  await tapOn("#paste-open");
  await page.fill("#paste-text", "from a phone: ok");
  await tapOn("#paste-send");
  await until(() => document.getElementById("paste-state").textContent === "typed all 16 characters");
  await step("phonepaste");
  await tapOn("#paste-stop");

  // Touchpad mode: the pointer starts in the middle of what the window shows.
  await tapOn("#pad");
  await until(() => deskcam.pointer.pad);
  await step("padon");
  // A finger moved -40, 20 CSS px (below the picture: the whole window is the pad) moves the
  // pointer by that much of what is shown: 40 / scale desktop pixels, from where it is.
  const scale = await page.evaluate(() => deskcam.view.scale);
  await gesture([[200, 700]], [[160, 720]], 8);
  await step("padmove", (-40 / scale).toFixed(2), (20 / scale).toFixed(2));
  // A tap anywhere clicks where the pointer is, two fingers tapped right-click there.
  await page.touchscreen.tap(40, 780);
  await step("padtap");
  await touch("touchStart", [[100, 700], [160, 700]]);
  await touch("touchEnd", []);
  await step("padtwotap");
  // A long press then a move drags; the touch cancelled by the browser releases the button.
  await touch("touchStart", [[200, 700]]);
  await until(() => deskcam.control.heldButtons.size === 1);
  for (let i = 1; i <= 5; i++) { await touch("touchMove", [[200 + 6 * i, 700]]); await page.waitForTimeout(16); }
  await touch("touchCancel", []);
  await until(() => deskcam.control.heldButtons.size === 0);
  await step("paddrag");
  await tapOn("#pad");

  // Idle: no animation frames asked for; nothing blocked by the policy.
  await settled();
  const frames = await page.evaluate(() => window.__probe.frames);
  await page.waitForTimeout(1000);
  if (await page.evaluate(() => window.__probe.frames) !== frames) fail("an idle page asks for animation frames");
  const csp = await page.evaluate(() => window.__probe.csp);
  if (csp.length) fail(`Content-Security-Policy violations: ${csp}`);
  await step("done");
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
