// Holds keys and buttons in headless Chromium against a running deskcam with --control, in
// lock-step with the Rust test (tests/control_hold.rs), which watches the X server with a
// recording client and decides how long each hold lasts:
//   node hold.mjs URL
// Prints "PID n" (the browser process, which the test kills at the end), then "STEP name" for
// every action and waits for a line "next" on stdin before the next one. Steps:
//   shift      ShiftLeft is down (the test keeps it down longer than the server's lease)
//   typed      KeyA was pressed with Shift still down
//   shiftup    ShiftLeft is up
//   drag       the left button is down after a move (held, then the page is closed)
//   closed     the page was closed mid-drag
//   drag2      a new page holds the left button; the test kills the browser next
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { pictureBox } from "./picture.mjs";

const [url] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function step(name) {
  console.log(`STEP ${name}`);
  const reply = await lines.next();
  if (reply.done || reply.value.trim() !== "next") throw new Error(`test stopped after ${name}`);
}

// launchServer, not launch: it tells the browser's process id, which the test kills.
const server = await chromium.launchServer({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
console.log(`PID ${server.process().pid}`);
const browser = await chromium.connect(server.wsEndpoint());
const context = await browser.newContext({ viewport: { width: 800, height: 600 } });

async function open() {
  const page = await context.newPage();
  page.on("console", m => console.error("page:", m.text()));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("view").naturalWidth > 0 &&
    document.body.dataset.control === "on", null, { timeout: 15000 });
  // Page coordinates of a spot of the picture (object-fit: contain).
  const { at } = await pictureBox(page);
  return { page, at };
}

async function drag(page, at) {
  await page.mouse.move(...at(0.2, 0.2));
  await page.mouse.down();
  await page.mouse.move(...at(0.3, 0.3), { steps: 3 });
}

const first = await open();
// Keyboard capture starts when the picture gets focus.
await first.page.focus("#view");
await first.page.waitForFunction(() => document.body.dataset.keys === "on");
await first.page.keyboard.down("ShiftLeft");
await step("shift");
await first.page.keyboard.press("KeyA");
await step("typed");
await first.page.keyboard.up("ShiftLeft");
await step("shiftup");
await drag(first.page, first.at);
await step("drag");
await first.page.close();
await step("closed");
const second = await open();
await drag(second.page, second.at);
await step("drag2");
// The test kills the browser now; nothing below runs.
await lines.next();
process.exit(1);
