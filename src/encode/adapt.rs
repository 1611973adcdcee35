//! Row readers for layouts `jpeg-encoder` cannot take directly (padded rows, YUYV, UYVY, NV12,
//! YU12, grey) and for turned, flipped or mirrored output, so those cost no extra copy of the
//! picture. Camera formats already hold Y'CbCr (BT.601, as UVC and V4L2 specify), so their rows
//! go to the encoder as they are, with no colour conversion; only RGB layouts are converted.

use jpeg_encoder::{ImageBuffer, JpegColorType};

use super::EncodeSettings;
use crate::image::{PixelFormat, Plane, RawImage};
use crate::orientation::Orientation;

pub struct Adapter<'a> {
    img: &'a RawImage,
    orientation: Orientation,
    planes: Vec<Plane>,
    out_width: u16,
    out_height: u16,
}

impl<'a> Adapter<'a> {
    pub fn new(img: &'a RawImage, s: &EncodeSettings) -> Adapter<'a> {
        let orientation = s.orientation();
        let (w, h) = if orientation.transpose {
            (img.height, img.width)
        } else {
            (img.width, img.height)
        };
        Adapter {
            img,
            orientation,
            planes: img.planes(),
            out_width: w as u16,
            out_height: h as u16,
        }
    }

    /// Any row of any layout, pixel by pixel along its walk through the source. `format` is a
    /// constant in each caller, so the match in `sample` folds away.
    #[inline(always)]
    fn walk_row(&self, format: PixelFormat, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let img = self.img;
        let walk = self
            .orientation
            .row(y as usize, img.width as usize, img.height as usize);
        let [ys, cbs, crs, _] = buffers;
        for i in 0..self.out_width as usize {
            let (sx, sy) = walk.at(i);
            let (l, cb, cr) = sample(img, &self.planes, format, sx, sy);
            ys.push(l);
            if format != PixelFormat::Grey {
                cbs.push(cb);
                crs.push(cr);
            }
        }
    }

    /// An upright row of a camera's Y'CbCr layouts: slices and pairs, no per-pixel index maths
    /// (the gain is in docs/performance.md, measured by benches/camera.rs).
    fn forward_row(&self, sy: usize, buffers: &mut [Vec<u8>; 4]) -> bool {
        let img = self.img;
        let d = &img.data;
        let w = img.width as usize;
        let row = &d[sy * img.stride..];
        let [ys, cbs, crs, _] = buffers;
        match img.format {
            PixelFormat::Yuyv | PixelFormat::Uyvy => {
                // Byte positions of Y0, U, Y1, V in each 4-byte pair.
                let [a, u, b, v] = if img.format == PixelFormat::Yuyv {
                    [0, 1, 2, 3]
                } else {
                    [1, 0, 3, 2]
                };
                for pair in row[..2 * w].chunks_exact(4) {
                    ys.extend_from_slice(&[pair[a], pair[b]]);
                    cbs.extend_from_slice(&[pair[u], pair[u]]);
                    crs.extend_from_slice(&[pair[v], pair[v]]);
                }
            }
            PixelFormat::Nv12 => {
                ys.extend_from_slice(&row[..w]);
                let c = &self.planes[1];
                let chroma = &d[c.offset + (sy / 2) * c.stride..][..w];
                for uv in chroma.chunks_exact(2) {
                    cbs.extend_from_slice(&[uv[0], uv[0]]);
                    crs.extend_from_slice(&[uv[1], uv[1]]);
                }
            }
            PixelFormat::Yuv420 => {
                ys.extend_from_slice(&row[..w]);
                for (plane, out) in [(&self.planes[1], cbs), (&self.planes[2], crs)] {
                    for &c in &d[plane.offset + (sy / 2) * plane.stride..][..w / 2] {
                        out.extend_from_slice(&[c, c]);
                    }
                }
            }
            PixelFormat::Grey => ys.extend_from_slice(&row[..w]),
            _ => return false,
        }
        true
    }
}

/// Y, Cb, Cr of source pixel (x, y) of `img`, whose planes are `planes`. The picture was checked
/// (`RawImage::check`), so every index is inside the buffer. Callers pass `format` as a constant
/// (one monomorphic loop per layout), so the match folds away.
#[inline(always)]
pub fn sample(
    img: &RawImage,
    planes: &[Plane],
    format: PixelFormat,
    x: usize,
    y: usize,
) -> (u8, u8, u8) {
    let d = &img.data;
    let s = img.stride;
    match format {
        PixelFormat::Rgb24 => {
            let p = y * s + 3 * x;
            rgb_to_ycbcr(d[p], d[p + 1], d[p + 2])
        }
        PixelFormat::Bgr24 => {
            let p = y * s + 3 * x;
            rgb_to_ycbcr(d[p + 2], d[p + 1], d[p])
        }
        PixelFormat::Bgrx32 => {
            let p = y * s + 4 * x;
            rgb_to_ycbcr(d[p + 2], d[p + 1], d[p])
        }
        // Each pair of pixels shares its chroma.
        PixelFormat::Yuyv => {
            let p = y * s + 4 * (x / 2);
            (d[p + 2 * (x % 2)], d[p + 1], d[p + 3])
        }
        PixelFormat::Uyvy => {
            let p = y * s + 4 * (x / 2);
            (d[p + 1 + 2 * (x % 2)], d[p], d[p + 2])
        }
        // Each 2x2 block shares its chroma.
        PixelFormat::Nv12 => {
            let c = &planes[1];
            let p = c.offset + (y / 2) * c.stride + 2 * (x / 2);
            (d[y * s + x], d[p], d[p + 1])
        }
        PixelFormat::Yuv420 => {
            let (u, v) = (&planes[1], &planes[2]);
            let (cx, cy) = (x / 2, y / 2);
            (
                d[y * s + x],
                d[u.offset + cy * u.stride + cx],
                d[v.offset + cy * v.stride + cx],
            )
        }
        PixelFormat::Grey => (d[y * s + x], 128, 128),
    }
}

/// BT.601 full-range RGB to YCbCr, as JFIF specifies, in 16.16 fixed point.
#[inline]
pub fn rgb_to_ycbcr(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
    let cb = ((-11059 * r - 21709 * g + 32768 * b + 32768) >> 16) + 128;
    let cr = ((32768 * r - 27439 * g - 5329 * b + 32768) >> 16) + 128;
    (
        y.clamp(0, 255) as u8,
        cb.clamp(0, 255) as u8,
        cr.clamp(0, 255) as u8,
    )
}

impl ImageBuffer for Adapter<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        match self.img.format {
            PixelFormat::Grey => JpegColorType::Luma,
            _ => JpegColorType::Ycbcr,
        }
    }
    fn width(&self) -> u16 {
        self.out_width
    }
    fn height(&self) -> u16 {
        self.out_height
    }
    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let img = self.img;
        let walk = self
            .orientation
            .row(y as usize, img.width as usize, img.height as usize);
        if walk.is_forward_row() && self.forward_row(walk.y, buffers) {
            return;
        }
        // One monomorphic loop per layout.
        match img.format {
            PixelFormat::Rgb24 => self.walk_row(PixelFormat::Rgb24, y, buffers),
            PixelFormat::Bgr24 => self.walk_row(PixelFormat::Bgr24, y, buffers),
            PixelFormat::Bgrx32 => self.walk_row(PixelFormat::Bgrx32, y, buffers),
            PixelFormat::Yuyv => self.walk_row(PixelFormat::Yuyv, y, buffers),
            PixelFormat::Uyvy => self.walk_row(PixelFormat::Uyvy, y, buffers),
            PixelFormat::Nv12 => self.walk_row(PixelFormat::Nv12, y, buffers),
            PixelFormat::Yuv420 => self.walk_row(PixelFormat::Yuv420, y, buffers),
            PixelFormat::Grey => self.walk_row(PixelFormat::Grey, y, buffers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuyv_rows(settings: (bool, bool)) -> Vec<[Vec<u8>; 3]> {
        // 4x2 YUYV with a row stride of 12 (4 bytes of padding): Y counts up per pixel, each
        // pair has its own U, V, so any mix-up between pairs shows.
        let data = vec![
            10, 100, 11, 200, 12, 101, 13, 201, 0, 0, 0, 0, //
            20, 110, 21, 210, 22, 111, 23, 211, 0, 0, 0, 0,
        ];
        let img = RawImage {
            format: PixelFormat::Yuyv,
            width: 4,
            height: 2,
            stride: 12,
            data,
            captured: std::time::SystemTime::UNIX_EPOCH,
        };
        let s = EncodeSettings {
            flip: settings.0,
            mirror: settings.1,
            ..EncodeSettings::for_tests()
        };
        let a = Adapter::new(&img, &s);
        (0..2)
            .map(|y| {
                let mut b: [Vec<u8>; 4] = Default::default();
                a.fill_buffers(y, &mut b);
                [b[0].clone(), b[1].clone(), b[2].clone()]
            })
            .collect()
    }

    #[test]
    fn yuyv_rows_keep_pairs_and_honour_flip_and_mirror() {
        let plain = yuyv_rows((false, false));
        assert_eq!(
            plain[0],
            [
                vec![10, 11, 12, 13],
                vec![100, 100, 101, 101],
                vec![200, 200, 201, 201]
            ]
        );
        let flipped = yuyv_rows((true, false));
        assert_eq!(flipped[0][0], vec![20, 21, 22, 23]);
        assert_eq!(flipped[1][0], vec![10, 11, 12, 13]);
        let mirrored = yuyv_rows((false, true));
        assert_eq!(
            mirrored[1],
            [
                vec![23, 22, 21, 20],
                vec![111, 111, 110, 110],
                vec![211, 211, 210, 210]
            ]
        );
        let both = yuyv_rows((true, true));
        assert_eq!(both[0][0], vec![23, 22, 21, 20]);
    }

    #[test]
    fn primaries_convert_as_jfif_says() {
        assert_eq!(rgb_to_ycbcr(0, 0, 0), (0, 128, 128));
        assert_eq!(rgb_to_ycbcr(255, 255, 255), (255, 128, 128));
        let (y, cb, cr) = rgb_to_ycbcr(255, 0, 0);
        assert_eq!(y, 76);
        assert!(cb < 90 && cr == 255, "{cb} {cr}");
    }
}
