// Drives headless Chromium against a running deskcam with --control, in lock-step with the
// Rust test (tests/control/browser.rs), which watches the X server with a recording client:
//   node control.mjs URL WIDTHxHEIGHT SCREENSHOT [view|more [USER:PASSWORD]]
// With "view" the server runs without --control: the page must say "view only" and a click
// must send nothing. With "more" the page's desktop features follow the basic actions:
// refusals shown (503, 429 with its wait), the badge, buttons released when the pointer or
// the window is lost, fullscreen with Keyboard Lock and the hold-Esc way out, visible focus,
// the "not encrypted" notice, 1:1 scaling, Ctrl+Alt+Del from the extra keys, paste, and last
// (the server then refuses this address for a while) the login lockout shown.
// For every action it prints "STEP name args" (for pointer actions, the picture fractions or
// screen pixel it aimed at) once the page has sent and seen answered every control request of
// that action, then waits for "next" on stdin before the next one, so the test can check the
// X events of that action alone. Any failure exits non-zero with the reason on stderr.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pictureBox } from "./picture.mjs";
import { step as report, probes, fail } from "./lockstep.mjs";

const [url, size, screenshot, variant, credentials] = process.argv.slice(2);
const httpCredentials = credentials
  ? { username: credentials.split(":")[0], password: credentials.split(":").slice(1).join(":") }
  : undefined;
const [vw, vh] = size.split("x").map(Number);
let page;
// The page sends one control request at a time and merges pointer moves and wheel steps per
// animation frame: it is done with an action when deskcam.control.idle() (nothing queued,
// unanswered or waiting for its frame), and the server answers only once X has the event.
const settled = () => page.waitForFunction(() => deskcam.control.idle(), null, { timeout: 15000 });
async function step(name, ...args) {
  await settled();
  await report(name, ...args);
}
const until = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 15000 }).catch(async e => {
  const seen = await page.evaluate(() => ({ msg: document.getElementById("msg").textContent,
    hidden: document.getElementById("msg").hidden, idle: deskcam.control.idle() })).catch(() => ({}));
  fail(`${e.message} waiting for ${fn}; the page: ${JSON.stringify(seen)}`);
});

// The control requests the page got refused: status and the server's one-line reason.
const answers = [];
// The first refusal the page got (its body arrives a moment after the status).
const refusal = async () => {
  for (let i = 0; i < 300 && !answers.length; i++) await new Promise(r => setTimeout(r, 50));
  return answers.shift() || fail("no refusal seen");
};

const profile = mkdtempSync(join(tmpdir(), "deskcam-chromium-"));
// Playwright passes the profile as --user-data-dir itself (it refuses the flag in args).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: vw, height: vh },
  hasTouch: true,
  httpCredentials,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  page = await browser.newPage();
  page.on("console", m => console.error("page:", m.text()));
  await page.addInitScript(probes);
  // Control requests the page makes: a view-only page must make none (the server would refuse
  // them anyway, so the X recorder alone could not tell).
  let controlRequests = 0;
  page.on("request", r => { if (/\/(input|pointer)\b/.test(new URL(r.url()).pathname)) controlRequests++; });
  page.on("response", async r => {
    if (new URL(r.url()).pathname.endsWith("/input") && r.status() !== 204) {
      const body = await r.text().catch(() => "");
      answers.push({ status: r.status(), body: body.trim() });
    }
  });

  await page.goto(url);
  // Nothing the page needs was blocked by its own policy (the hashes match the scripts).
  const cspClean = async () => {
    const csp = await page.evaluate(() => window.__probe.csp);
    if (csp.length) fail(`Content-Security-Policy violations: ${csp}`);
  };
  // An idle page asks for no animation frames (no loop running for nothing).
  const noIdleLoop = async what => {
    await settled();
    const before = await page.evaluate(() => window.__probe.frames);
    await page.waitForTimeout(1000);
    const after = await page.evaluate(() => window.__probe.frames);
    if (after !== before) fail(`${what}: an idle page asked for ${after - before} animation frames in 1 s`);
  };
  if (variant === "view") {
    await until(() => document.getElementById("view").naturalWidth > 0 &&
      document.getElementById("status").textContent.includes("view only"));
    const badge = await page.textContent("#mode");
    if (badge !== "view only" || await page.getAttribute("body", "data-control") !== "off")
      fail(`view-only page shows ${badge}`);
    await page.mouse.click(vw / 2, vh / 2);
    await page.mouse.click(vw / 2, vh / 2, { button: "right" });
    await page.keyboard.press("KeyA");
    // Absence is proven by a sentinel: once the handlers' animation frames have run, a request
    // the page makes now is seen after any control request those handlers started.
    await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
    const sentinel = page.waitForRequest(r => r.url().endsWith("/state?sentinel=1"), { timeout: 15000 });
    await page.evaluate(() => fetch("/state?sentinel=1"));
    await sentinel;
    if (controlRequests > 0) fail(`a view-only page sent ${controlRequests} control requests`);
    await noIdleLoop("view only");
    await cspClean();
    await step("viewclick");
    await page.screenshot({ path: screenshot });
    await step("done");
    process.exit(0);
  }
  // Live frames and control on (the page reads /state when it loads).
  await until(() => document.getElementById("view").naturalWidth > 0 && document.body.dataset.control === "on");

  if (variant === "more") {
    // A refusal is shown with the server's own reason: the test opens every session the
    // server allows before this page's first event, so that event is refused.
    await step("fill");
    const { at } = await pictureBox(page);
    await page.mouse.click(...at(0.7, 0.7));
    await until(() => !document.getElementById("msg").hidden);
    const refused = await refusal();
    if (![409, 429, 503].includes(refused.status)) fail(`the first event got ${refused.status}`);
    const msg = await page.textContent("#msg");
    // A 429 is shown with its wait (and sent again after it); anything else with its reason.
    const shown = refused.status === 429 ? /waiting \d+ s/.test(msg) : msg.includes(refused.body);
    if (!shown) fail(`the page says "${msg}", the server ${refused.status} "${refused.body}"`);
    // The test ends its sessions; the refused events (the move, press and release of that
    // click) were dropped, not sent again.
    await step("refused", refused.status);
    answers.length = 0;
  }

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
  if (!after.some((c, i) => Math.abs(c - before[i]) > 60)) fail(`picture did not change: ${before} -> ${after}`);

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
  await noIdleLoop("control");

  // After the lockout the refused click waits to be sent again: the page is not idle then.
  const lockedOut = variant === "more" && await more(at);
  await cspClean();
  await page.screenshot({ path: screenshot });
  await (lockedOut ? report("done") : step("done"));
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}

// The desktop features, after the basic actions (keyboard captured by the clicks above).
async function more(at) {
  const state = () => page.evaluate(() => ({
    keys: document.body.dataset.keys, focus: document.activeElement?.id,
    full: !!document.fullscreenElement, msg: document.getElementById("msg").hidden ? "" : document.getElementById("msg").textContent,
  }));
  // Screen-reader announcements: the status line and the messages are live regions.
  const live = await page.evaluate(() => [document.getElementById("status").getAttribute("aria-live"),
    document.getElementById("msg").getAttribute("role")]);
  if (live[0] !== "polite" || live[1] !== "alert") fail(`live regions: ${live}`);
  // Only what changes the picture's state is announced, not the frame rate of every poll.
  const quiet = await page.evaluate(() => [document.getElementById("status").textContent,
    document.getElementById("figures").getAttribute("aria-hidden"), document.getElementById("figures").textContent]);
  if (quiet[0].includes("fps") || quiet[1] !== "true" || !quiet[2].includes("fps")) fail(`status line: ${quiet}`);

  // The badge: clicking it captures the keyboard, and keys go out at once (before, they were
  // ignored while the badge had focus). Clicked again, it releases the keyboard.
  await page.click("#mode");           // captured by the clicks above: this releases
  if ((await state()).keys !== "off") fail("the badge did not release the keyboard");
  await page.keyboard.press("KeyX");
  await step("badgeoff");
  await page.click("#mode");
  const s = await state();
  if (s.keys !== "on" || s.focus !== "view") fail(`the badge did not capture the keyboard: ${JSON.stringify(s)}`);
  for (const k of ["KeyO", "KeyK"]) await page.keyboard.press(k);
  await step("badge");

  // A held button goes up when the pointer capture is lost, and when the window loses focus;
  // then no heartbeat keeps anything held.
  await page.evaluate(() => {
    const v = document.getElementById("view");
    window.__capture = { id: null, got: false };
    v.addEventListener("pointerdown", e => { window.__capture.id = e.pointerId; });
    v.addEventListener("gotpointercapture", () => { window.__capture.got = true; });
  });
  await page.mouse.move(...at(0.3, 0.6));
  await page.mouse.down();
  // The capture the press asked for takes effect with the pointer's next event (Pointer
  // Events 3, "process pending pointer capture"), and so does its loss.
  await page.mouse.move(...at(0.3, 0.61));
  await until(() => deskcam.control.heldButtons.size === 1 && window.__capture.got);
  await page.evaluate(() => document.getElementById("view").releasePointerCapture(window.__capture.id));
  await page.mouse.move(...at(0.31, 0.61));
  await until(() => deskcam.control.heldButtons.size === 0);
  await page.mouse.up();
  await step("lostcapture", 0.3, 0.6);
  await page.mouse.move(...at(0.35, 0.65));
  await page.mouse.down();
  await until(() => deskcam.control.heldButtons.size === 1);
  // Another tab in front takes the focus from this page's window.
  const other = await page.context().newPage();
  await other.bringToFront();
  const blurred = await page.evaluate(() => deskcam.control.heldButtons.size === 0);
  if (!blurred) {
    // Headless Chromium may keep every tab focused: then the blur is dispatched, which runs the
    // same handler a real one does.
    await page.evaluate(() => window.dispatchEvent(new FocusEvent("blur")));
  }
  await until(() => deskcam.control.heldButtons.size === 0);
  await other.close();
  await page.bringToFront();
  await page.mouse.up();
  await step("blur", 0.35, 0.65, blurred ? "real" : "dispatched");

  // Over plain HTTP the notice is there, and a click (or tap) opens its explanation.
  await page.click("#plain");
  if (!await page.isVisible("#plain-why")) fail("the 'not encrypted' notice does not open");
  await page.click("#plain");

  // Fullscreen with Keyboard Lock: a short Esc and Alt+Tab go to the desktop; holding Esc for
  // a second leaves fullscreen and releases the keyboard, focus on the badge.
  await page.click("#full");
  // Fullscreen, the keyboard captured, and the lock asked for (the message follows it).
  await until(() => !!document.fullscreenElement && document.body.dataset.keys === "on" &&
    document.getElementById("msg").textContent.startsWith("fullscreen"));
  const locked = await page.evaluate(() => deskcam.fullscreen.locked);
  if (!locked) console.error("keyboard lock refused:", await page.evaluate(() => deskcam.fullscreen.lockRefused));
  await step("fullscreen", locked ? 1 : 0);
  await page.keyboard.press("Escape");
  await step("esc");
  if (!(await state()).full) fail("a short Esc left fullscreen");
  await page.keyboard.press("Alt+Tab");
  await step("alttab");
  await page.keyboard.down("Escape");
  await until(() => !document.fullscreenElement && document.body.dataset.keys === "off");
  await page.keyboard.up("Escape");
  const out = await state();
  if (out.focus !== "mode" || !out.msg.includes("released")) fail(`after holding Esc: ${JSON.stringify(out)}`);
  await step("holdesc");

  // Keyboard released: Tab moves between the controls, and the focused one shows it.
  await page.keyboard.press("Tab");
  const ring = await page.evaluate(() => {
    const e = document.activeElement, cs = getComputedStyle(e);
    return { tag: e.tagName, style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
  });
  if (ring.tag !== "BUTTON" || ring.style === "none" || !(ring.width >= 2)) fail(`focus not visible: ${JSON.stringify(ring)}`);
  await step("tabfocus");

  // A refusal with a wait (429): the test floods the server from this machine's address, so
  // the rate limit refuses the page's click; the page says how long it waits. The test stops
  // the flood, and the click goes out again and lands, once.
  // Leaving fullscreen may have moved the picture: where it is now.
  ({ at } = await pictureBox(page));
  // On a busy machine a token may come free between the flood's requests, so the page clicks
  // until one of its requests is refused; every click must then land exactly once, the
  // refused one too (sent again after the wait), none lost and none doubled.
  await step("flood");
  const waiting = () => page.evaluate(() => /waiting \d+ s/.test(document.getElementById("msg").textContent) &&
    !document.getElementById("msg").hidden);
  let clicks = 0;
  while (clicks < 20 && !await waiting()) {
    await page.mouse.click(...at(0.6, 0.3));
    clicks++;
    await page.waitForTimeout(100);
  }
  await until(() => /waiting \d+ s/.test(document.getElementById("msg").textContent) && !document.getElementById("msg").hidden);
  if ((await refusal()).status !== 429) fail("the refusal was not a 429");
  answers.length = 0;
  await report("flooded");
  await step("ratelimited", 0.6, 0.3, clicks);

  // 1:1: the picture at its own size, panned; a click lands on the exact desktop pixel.
  await page.click("#scale");
  await until(() => deskcam.view.mode === "1:1" && deskcam.view.scale === 1);
  await page.evaluate(() => { deskcam.view.stage.scrollLeft = 333; deskcam.view.stage.scrollTop = 111; });
  {
    const { box } = await pictureBox(page);
    const [px, py] = [700, 400];
    await page.mouse.click(box.left + (px + 0.5) * box.w / 1280, box.top + (py + 0.5) * box.h / 720);
    await step("exact", px, py);
  }
  await page.click("#scale");
  await until(() => deskcam.view.mode === "fit");

  // The extra keys: Ctrl+Alt+Del in one request.
  await page.click("#keys-open");
  await page.click('#keys [data-combo]');
  await step("cad");
  await page.click("#keys-open");

  // Paste: the clipboard (granted to this page), typed in slices with progress; a long one
  // stopped part way types exactly what it said it had typed.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.evaluate(() => navigator.clipboard.writeText("Pasted: ü€!\n"));
  await page.click("#paste-open");
  await page.click("#paste-read");
  await until(() => document.getElementById("paste-text").value === "Pasted: ü€!\n");
  await page.click("#paste-send");
  await until(() => document.getElementById("paste-state").textContent === "typed all 12 characters");
  await step("paste");
  const long = "0123456789".repeat(25);
  await page.fill("#paste-text", long);
  await page.click("#paste-send");
  await until(() => document.getElementById("paste-state").textContent === "typed all 250 characters" &&
    document.getElementById("paste-progress").value === 250);
  await step("pastelong", 250);
  await page.fill("#paste-text", "a".repeat(3000));
  await page.click("#paste-send");
  await until(() => document.getElementById("paste-progress").value >= 100);
  await page.click("#paste-stop");
  await until(() => document.getElementById("paste-state").textContent.startsWith("stopped after"));
  const stopped = Number((await page.textContent("#paste-state")).match(/stopped after (\d+) of 3000/)[1]);
  if (!(stopped >= 100 && stopped < 3000)) fail(`stopped after ${stopped}`);
  await step("pastestop", stopped);
  await page.click("#paste-stop");   // Close
  if (await page.evaluate(() => document.getElementById("paste").open)) fail("the paste dialog did not close");

  // The login lockout: the test sends wrong passwords from this address until the server
  // refuses it (429); the page's next click and its /state poll show why and the wait.
  if (!credentials) return false;
  await step("lockout");
  await page.mouse.click(...at(0.5, 0.5));
  await until(() => { const m = document.getElementById("msg");
    return !m.hidden && /wrong passwords/.test(m.textContent) && /waiting \d+ s/.test(m.textContent); });
  await until(() => /wrong passwords from this address: wait \d+ s/.test(document.getElementById("status").textContent));
  await report("lockedout");
  return true;
}
