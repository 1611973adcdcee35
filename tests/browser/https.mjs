// Opens the deskcam page in Debian's headless Chromium and clicks once on the picture, for the
// HTTPS and reverse-proxy tests (tests/tls.rs, tests/proxy.rs):
//   node https.mjs URL [USER:PASSWORD]
// The certificate is checked for real: the test runs this with HOME pointing at an NSS
// database (~/.pki/nssdb) that trusts its test CA, which is where Chromium on Linux looks.
// Prints "MARK shown|hidden" (the page's "not encrypted" mark), then "CLICKED fx fy" once the
// server has answered the click (it answers once the X server has the event). Any failure
// exits non-zero with the reason on stderr.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pictureBox } from "./picture.mjs";

const [url, credentials] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "deskcam-https-"));
const httpCredentials = credentials
  ? { username: credentials.split(":")[0], password: credentials.split(":").slice(1).join(":") }
  : undefined;
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 800, height: 600 },
  httpCredentials,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  page.on("console", m => console.error("page:", m.text()));
  const answers = [];
  page.on("response", r => { if (new URL(r.url()).pathname.endsWith("/input")) answers.push(r.status()); });
  // A certificate Chromium does not trust fails here (net::ERR_CERT_AUTHORITY_INVALID).
  const response = await page.goto(url);
  if (!response || response.status() !== 200) throw new Error(`page: ${response && response.status()}`);
  await page.waitForFunction(() => document.getElementById("view").naturalWidth > 0 &&
    document.body.dataset.control === "on", null, { timeout: 15000 });
  // /state is read every 2 s; the mark follows the first answer.
  await page.waitForFunction(() => !document.getElementById("status").textContent.includes("connecting"),
    null, { timeout: 15000 });
  console.log(`MARK ${await page.isVisible("#plain") ? "shown" : "hidden"}`);
  const { at } = await pictureBox(page);
  const [fx, fy] = [0.25, 0.5];
  await page.mouse.click(...at(fx, fy));
  // The page sends one request at a time; done when nothing is queued or in flight.
  await page.waitForFunction(() => deskcam.control.idle(), null, { timeout: 15000 });
  if (!answers.length || answers.some(s => s !== 204)) throw new Error(`control answers: ${answers}`);
  console.log(`CLICKED ${fx} ${fy}`);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
