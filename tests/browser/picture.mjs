// Where the streamed picture sits in the page: the <img> box letterboxed by object-fit: contain,
// computed here independently of the page's own script, so a test catches a page that maps
// pointer positions wrongly.

// Page coordinates of the picture's content box, and `at(fx, fy)`: the page point at fractions
// fx, fy of the picture.
export async function pictureBox(page) {
  const box = await page.evaluate(() => {
    const v = document.getElementById("view");
    const r = v.getBoundingClientRect();
    const s = Math.min(r.width / v.naturalWidth, r.height / v.naturalHeight);
    const w = v.naturalWidth * s, h = v.naturalHeight * s;
    return { left: r.left + (r.width - w) / 2, top: r.top + (r.height - h) / 2, w, h };
  });
  return { box, at: (fx, fy) => [box.left + fx * box.w, box.top + fy * box.h] };
}
