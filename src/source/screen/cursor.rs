//! Draws the mouse pointer into a grabbed picture. X keeps the cursor out of `GetImage` (it is
//! a hardware or software sprite), so a remote viewer would not see where the pointer is; XFixes
//! `GetCursorImage` hands us the current shape as premultiplied ARGB with its hotspot.

/// The current cursor shape, as XFixes gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorImage {
    pub width: u32,
    pub height: u32,
    pub xhot: u32,
    pub yhot: u32,
    /// Premultiplied ARGB, one `u32` per pixel (alpha in the top byte), row by row.
    pub pixels: Vec<u32>,
    /// Changes whenever the shape does (XFixes `cursor_serial`).
    pub serial: u32,
}

/// A B,G,R,X picture being composited into.
pub struct Bgrx<'a> {
    pub data: &'a mut [u8],
    pub width: u32,
    pub height: u32,
    pub stride: usize,
}

/// Blends `cursor` over `dst` with its hotspot at (`x`, `y`) of the picture (which may be
/// outside it: only the visible part is drawn). Premultiplied "over": out = src + dst*(1-a).
pub fn composite(dst: &mut Bgrx<'_>, cursor: &CursorImage, x: i64, y: i64) {
    let left = x - cursor.xhot as i64;
    let top = y - cursor.yhot as i64;
    if cursor.pixels.len() < (cursor.width * cursor.height) as usize {
        return; // a malformed reply draws nothing rather than panicking
    }
    for cy in 0..cursor.height as i64 {
        let py = top + cy;
        if py < 0 || py >= dst.height as i64 {
            continue;
        }
        for cx in 0..cursor.width as i64 {
            let px = left + cx;
            if px < 0 || px >= dst.width as i64 {
                continue;
            }
            let p = cursor.pixels[(cy * cursor.width as i64 + cx) as usize];
            let a = p >> 24;
            if a == 0 {
                continue;
            }
            let i = py as usize * dst.stride + px as usize * 4;
            let src = [p as u8, (p >> 8) as u8, (p >> 16) as u8]; // B, G, R
            for (d, s) in dst.data[i..i + 3].iter_mut().zip(src) {
                *d = (s as u32 + (*d as u32 * (255 - a) + 127) / 255).min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(pixels: Vec<u32>, w: u32, h: u32, hot: (u32, u32)) -> CursorImage {
        CursorImage {
            width: w,
            height: h,
            xhot: hot.0,
            yhot: hot.1,
            pixels,
            serial: 1,
        }
    }

    fn picture(w: u32, h: u32, bgrx: [u8; 4]) -> Vec<u8> {
        bgrx.repeat((w * h) as usize)
    }

    fn pixel(data: &[u8], w: u32, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * w + x) * 4) as usize;
        [data[i], data[i + 1], data[i + 2]]
    }

    #[test]
    fn opaque_red_lands_at_hotspot_offset_in_bgr_order() {
        let mut data = picture(8, 8, [0, 0, 0, 0]);
        // 2x2 cursor, hotspot (1,1), top-left pixel opaque red.
        let c = cursor(vec![0xFFFF0000, 0, 0, 0], 2, 2, (1, 1));
        let mut dst = Bgrx {
            data: &mut data,
            width: 8,
            height: 8,
            stride: 32,
        };
        composite(&mut dst, &c, 4, 5);
        assert_eq!(pixel(&data, 8, 3, 4), [0, 0, 255]);
        assert_eq!(
            pixel(&data, 8, 4, 5),
            [0, 0, 0],
            "transparent pixel left alone"
        );
    }

    #[test]
    fn half_transparent_blends_premultiplied() {
        let mut data = picture(2, 1, [200, 200, 200, 0]);
        // 50% black (premultiplied: colour 0), 50% white (premultiplied: 128).
        let c = cursor(vec![0x80000000, 0x80808080], 2, 1, (0, 0));
        let mut dst = Bgrx {
            data: &mut data,
            width: 2,
            height: 1,
            stride: 8,
        };
        composite(&mut dst, &c, 0, 0);
        assert_eq!(pixel(&data, 2, 0, 0), [100, 100, 100]);
        assert_eq!(pixel(&data, 2, 1, 0), [228, 228, 228]);
    }

    #[test]
    fn clipped_at_every_edge_without_panicking() {
        let mut data = picture(4, 4, [0, 0, 0, 0]);
        let c = cursor(vec![0xFFFFFFFF; 9], 3, 3, (1, 1));
        for (x, y) in [(-1, -1), (0, 0), (3, 3), (4, 4), (-10, 2), (2, 100)] {
            let mut dst = Bgrx {
                data: &mut data,
                width: 4,
                height: 4,
                stride: 16,
            };
            composite(&mut dst, &c, x, y);
        }
        assert_eq!(pixel(&data, 4, 0, 0), [255, 255, 255]);
        assert_eq!(pixel(&data, 4, 1, 1), [255, 255, 255]);
    }

    #[test]
    fn short_pixel_buffer_draws_nothing() {
        let mut data = picture(4, 4, [0, 0, 0, 0]);
        let c = cursor(vec![0xFFFFFFFF; 2], 3, 3, (0, 0));
        let mut dst = Bgrx {
            data: &mut data,
            width: 4,
            height: 4,
            stride: 16,
        };
        composite(&mut dst, &c, 1, 1);
        assert!(data.iter().all(|&b| b == 0));
    }
}
