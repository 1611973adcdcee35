// Decodes JPEG files in headless Chromium (its own libjpeg-turbo, as a viewer's browser would)
// and prints, per file, "WIDTHxHEIGHT BASE64" of the RGBA pixels read back through a canvas:
//   node decode.mjs FILE...
// A file that does not decode prints "ERROR reason" and the script exits non-zero.
import { chromium } from "playwright-core";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const files = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "deskcam-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.on("console", m => console.error("page:", m.text()));
  for (const f of files) {
    const b64 = readFileSync(f).toString("base64");
    const out = await page.evaluate(async (src) => {
      const img = new Image();
      img.src = src;
      try { await img.decode(); } catch (e) { return "ERROR " + e; }
      const c = document.createElement("canvas");
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      let s = "";
      for (let i = 0; i < px.length; i += 0x8000) s += String.fromCharCode(...px.subarray(i, i + 0x8000));
      return `${c.width}x${c.height} ${btoa(s)}`;
    }, `data:image/jpeg;base64,${b64}`);
    if (out.startsWith("ERROR")) failed = true;
    console.log(out);
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
