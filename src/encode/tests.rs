//! Every camera layout, every way up, through [`encode`] (so the libjpeg-turbo path too when the
//! crate is built with `--features turbojpeg`), decoded again: each quarter of the picture must
//! keep its colour and land where the turn puts it. A swapped chroma pair, a wrong plane offset
//! or stride, or a turn the wrong way round moves or changes a colour.

use std::time::SystemTime;

use testkit::picture::Picture;

use super::{EncodeSettings, encode};
use crate::geometry::Resolution;
use crate::image::{PixelFormat, RawImage};
use crate::jpeg::Subsampling;
use crate::orientation::{Orientation, Rotation};

const W: usize = 64;
const H: usize = 32;
/// Bytes of padding after each row of the first plane, as drivers add for alignment.
const PAD: usize = 8;

/// Red, green, blue and white quarters (top left, top right, bottom left, bottom right).
fn rgb(x: usize, y: usize) -> [u8; 3] {
    match (x < W / 2, y < H / 2) {
        (true, true) => [255, 0, 0],
        (false, true) => [0, 255, 0],
        (true, false) => [0, 0, 255],
        (false, false) => [255, 255, 255],
    }
}

fn ycc(x: usize, y: usize) -> [u8; 3] {
    let [r, g, b] = rgb(x, y);
    let (y, cb, cr) = super::adapt::rgb_to_ycbcr(r, g, b);
    [y, cb, cr]
}

/// The picture in `format`, with padded rows (and, for YU12, chroma rows padded by half).
fn picture(format: PixelFormat) -> RawImage {
    let stride = W * format.bytes_per_pixel() + PAD;
    let planes = format.planes(W as u32, H as u32, stride);
    let mut d = vec![0u8; planes.last().unwrap().padded_end()];
    for y in 0..H {
        for x in 0..W {
            let p = y * stride;
            let [r, g, b] = rgb(x, y);
            let [l, cb, cr] = ycc(x, y);
            match format {
                PixelFormat::Rgb24 => d[p + 3 * x..p + 3 * x + 3].copy_from_slice(&[r, g, b]),
                PixelFormat::Bgr24 => d[p + 3 * x..p + 3 * x + 3].copy_from_slice(&[b, g, r]),
                PixelFormat::Bgrx32 => d[p + 4 * x..p + 4 * x + 4].copy_from_slice(&[b, g, r, 0]),
                PixelFormat::Yuyv => {
                    d[p + 2 * x] = l;
                    d[p + 4 * (x / 2) + 1] = cb;
                    d[p + 4 * (x / 2) + 3] = cr;
                }
                PixelFormat::Uyvy => {
                    d[p + 2 * x + 1] = l;
                    d[p + 4 * (x / 2)] = cb;
                    d[p + 4 * (x / 2) + 2] = cr;
                }
                PixelFormat::Nv12 => {
                    d[p + x] = l;
                    let c = planes[1].offset + (y / 2) * planes[1].stride + 2 * (x / 2);
                    d[c] = cb;
                    d[c + 1] = cr;
                }
                PixelFormat::Yuv420 => {
                    d[p + x] = l;
                    for (plane, v) in [(planes[1], cb), (planes[2], cr)] {
                        d[plane.offset + (y / 2) * plane.stride + x / 2] = v;
                    }
                }
                PixelFormat::Grey => d[p + x] = l,
            }
        }
    }
    let img = RawImage {
        format,
        width: W as u32,
        height: H as u32,
        stride,
        data: d,
        captured: SystemTime::UNIX_EPOCH,
    };
    img.check().unwrap();
    img
}

/// Every layout the encoder takes: the cameras' raw formats and the screen's B,G,R,X.
fn all() -> impl Iterator<Item = PixelFormat> {
    crate::image::CAMERA_PIXEL_FORMATS
        .into_iter()
        .chain([PixelFormat::Bgrx32])
}
fn check(format: PixelFormat, s: &EncodeSettings) {
    let img = picture(format);
    let jpeg = encode(&img, s).unwrap();
    let picture = Picture::decode(&jpeg).unwrap();
    let o = s.orientation();
    let out = o.output_size(Resolution {
        width: W as u32,
        height: H as u32,
    });
    let what = format!("{format:?} {:?} {:?}", s.rotate, s.subsampling);
    assert_eq!(
        (picture.width, picture.height),
        (out.width, out.height),
        "{what}"
    );
    let grey = format == PixelFormat::Grey;
    // The centre of each quarter of the output, and where it comes from.
    let (ow, oh) = (out.width as usize, out.height as usize);
    for (ox, oy) in [
        (ow / 4, oh / 4),
        (3 * ow / 4, oh / 4),
        (ow / 4, 3 * oh / 4),
        (3 * ow / 4, 3 * oh / 4),
    ] {
        let (sx, sy) = o.row(oy, W, H).at(ox);
        let got = picture.at(ox as u32, oy as u32);
        // A grey JPEG decodes to R = G = B = its luma.
        let want = if grey {
            [ycc(sx, sy)[0]; 3]
        } else {
            rgb(sx, sy)
        };
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (*g as i32 - *w as i32).abs() <= 24,
                "{what}: output ({ox},{oy}) is {got:?}, wanted {want:?} from ({sx},{sy})"
            );
        }
    }
}

#[test]
fn every_layout_keeps_its_colours_every_way_up() {
    for format in all() {
        for rotate in [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270] {
            for (flip, mirror) in [(false, false), (true, false), (false, true)] {
                let s = EncodeSettings {
                    rotate,
                    flip,
                    mirror,
                    ..EncodeSettings::for_tests()
                };
                check(format, &s);
            }
        }
    }
}

#[test]
fn every_layout_at_every_subsampling() {
    for format in all() {
        for subsampling in [Subsampling::S420, Subsampling::S422, Subsampling::S444] {
            for rotate in [Rotation::R0, Rotation::R90] {
                let s = EncodeSettings {
                    subsampling,
                    rotate,
                    ..EncodeSettings::for_tests()
                };
                check(format, &s);
            }
        }
    }
}

#[test]
fn a_quarter_turn_puts_the_top_left_at_the_top_right() {
    // Independent of the orientation maths: red (top left) goes to the top right at 90 and to
    // the bottom left at 270.
    let img = picture(PixelFormat::Nv12);
    for (rotate, (x, y)) in [(Rotation::R90, (24, 8)), (Rotation::R270, (8, 56))] {
        let s = EncodeSettings {
            rotate,
            ..EncodeSettings::for_tests()
        };
        let [r, g, b] = Picture::decode(&encode(&img, &s).unwrap())
            .unwrap()
            .at(x, y);
        assert!(r > 200 && g < 60 && b < 60, "{rotate:?}: {:?}", [r, g, b]);
    }
    assert!(Orientation::new(Rotation::R0, false, false).is_identity());
}
