// What the page scripts driven in lock-step with a Rust test share (control.mjs, phone.mjs,
// firefox.mjs): the step protocol, waiting until the page's control requests are answered,
// and the page-side probes installed before the page's own scripts run.
import { createInterface } from "node:readline";

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// Prints "STEP name args..." and waits for the test's "next": the test checks the X events of
// that action alone in between.
export async function step(name, ...args) {
  console.log(`STEP ${name} ${args.join(" ")}`.trim());
  const reply = await lines.next();
  if (reply.done || reply.value.trim() !== "next") throw new Error(`test stopped after ${name}`);
}

// Runs in the page before its own scripts: counts animation frames asked for (an idle page
// must ask for none) and records Content-Security-Policy violations (there must be none).
export function probes() {
  window.__probe = { frames: 0, csp: [] };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = cb => { window.__probe.frames++; return raf(cb); };
  document.addEventListener("securitypolicyviolation",
    e => window.__probe.csp.push(`${e.violatedDirective} ${e.blockedURI}`));
}

export const fail = why => { throw new Error(why); };
