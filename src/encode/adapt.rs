//! Row readers for layouts `jpeg-encoder` cannot take directly (padded rows, YUYV) and for
//! flipped or mirrored output, so those cost no extra copy of the picture.

use jpeg_encoder::{ImageBuffer, JpegColorType};

use super::EncodeSettings;
use crate::image::{PixelFormat, RawImage};

pub struct Adapter<'a> {
    img: &'a RawImage,
    flip: bool,
    mirror: bool,
}

impl<'a> Adapter<'a> {
    pub fn new(img: &'a RawImage, s: &EncodeSettings) -> Adapter<'a> {
        Adapter {
            img,
            flip: s.flip,
            mirror: s.mirror,
        }
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
        JpegColorType::Ycbcr
    }
    fn width(&self) -> u16 {
        self.img.width as u16
    }
    fn height(&self) -> u16 {
        self.img.height as u16
    }
    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let img = self.img;
        let row_index = if self.flip {
            img.height as usize - 1 - y as usize
        } else {
            y as usize
        };
        let row = &img.data[row_index * img.stride..];
        let w = img.width as usize;
        if img.format == PixelFormat::Yuyv && !self.mirror {
            // The camera path's common case, pair by pair without a per-pixel format match
            // (the gain is in docs/performance.md, measured by benches/camera.rs).
            let [ys, cbs, crs, _] = buffers;
            for pair in row[..2 * w].chunks_exact(4) {
                ys.extend_from_slice(&[pair[0], pair[2]]);
                cbs.extend_from_slice(&[pair[1], pair[1]]);
                crs.extend_from_slice(&[pair[3], pair[3]]);
            }
            return;
        }
        for i in 0..w {
            let x = if self.mirror { w - 1 - i } else { i };
            let (yy, cb, cr) = match img.format {
                PixelFormat::Rgb24 => rgb_to_ycbcr(row[3 * x], row[3 * x + 1], row[3 * x + 2]),
                PixelFormat::Bgrx32 => rgb_to_ycbcr(row[4 * x + 2], row[4 * x + 1], row[4 * x]),
                // YUYV already is YCbCr (BT.601, as UVC specifies); each pair shares its chroma.
                PixelFormat::Yuyv => {
                    let pair = &row[4 * (x / 2)..4 * (x / 2) + 4];
                    (pair[if x % 2 == 0 { 0 } else { 2 }], pair[1], pair[3])
                }
            };
            buffers[0].push(yy);
            buffers[1].push(cb);
            buffers[2].push(cr);
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
