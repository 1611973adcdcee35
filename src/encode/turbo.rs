//! Optional libjpeg-turbo path (cargo feature `turbojpeg`): several times faster per frame than
//! `jpeg-encoder` (docs/performance.md has the figures), and the only SIMD JPEG path on ARM
//! (NEON), at the price of a C library built with cmake (and nasm on x86). The default build
//! stays pure Rust. Camera Y'CbCr goes in as planes, never through RGB.

use std::cell::RefCell;

use turbojpeg::{Compressor, Image, PixelFormat as TjFormat, Subsamp, YuvPlanesImage};

use super::adapt::sample;
use super::{EncodeError, EncodeSettings};
use crate::image::{PixelFormat, Plane, RawImage};
use crate::jpeg::Subsampling;
use crate::orientation::Orientation;

thread_local! {
    /// One compressor per encoder thread: creating one allocates libjpeg's state each time.
    static COMPRESSOR: RefCell<Option<Compressor>> = const { RefCell::new(None) };
}

/// Encodes `img` if libjpeg-turbo takes its layout as it is (packed RGB, BGR or BGRX, grey, YU12
/// planes) or after a cheap split into planes (YUYV, UYVY, NV12, any turn); `None` hands a turned
/// RGB picture back to the pure-Rust path, which adapts any layout.
pub fn try_encode(img: &RawImage, s: &EncodeSettings) -> Option<Result<Vec<u8>, EncodeError>> {
    let o = s.orientation();
    let format = match img.format {
        PixelFormat::Rgb24 => TjFormat::RGB,
        PixelFormat::Bgr24 => TjFormat::BGR,
        PixelFormat::Bgrx32 => TjFormat::BGRX,
        PixelFormat::Grey => return Some(grey(img, s, o)),
        PixelFormat::Yuyv | PixelFormat::Uyvy if !o.transpose => return Some(yuyv(img, s, o)),
        PixelFormat::Yuyv | PixelFormat::Uyvy | PixelFormat::Nv12 | PixelFormat::Yuv420 => {
            return Some(ycbcr(img, s, o));
        }
    };
    if !o.is_identity() {
        return None;
    }
    Some(with_compressor(s, |c| {
        c.set_subsamp(subsamp(s.subsampling))?;
        c.compress_to_vec(Image {
            pixels: &img.data[..],
            width: img.width as usize,
            pitch: img.stride,
            height: img.height as usize,
            format,
        })
    }))
}

fn subsamp(s: Subsampling) -> Subsamp {
    match s {
        Subsampling::S420 => Subsamp::Sub2x2,
        Subsampling::S422 => Subsamp::Sub2x1,
        Subsampling::S444 => Subsamp::None,
    }
}

/// A grey camera's picture as a one-component JPEG: as it is when upright, else its turned copy.
fn grey(img: &RawImage, s: &EncodeSettings, o: Orientation) -> Result<Vec<u8>, EncodeError> {
    let turned;
    let (pixels, width, pitch, height) = if o.is_identity() {
        (
            &img.data[..],
            img.width as usize,
            img.stride,
            img.height as usize,
        )
    } else {
        let planes = img.planes();
        let (w, h) = out_size(img, o);
        turned = luma_plane(img, &planes, o, PixelFormat::Grey);
        (&turned[..], w, w, h)
    };
    with_compressor(s, |c| {
        c.set_subsamp(Subsamp::Gray)?;
        c.compress_to_vec(Image {
            pixels,
            width,
            pitch,
            height,
            format: TjFormat::GRAY,
        })
    })
}

fn out_size(img: &RawImage, o: Orientation) -> (usize, usize) {
    if o.transpose {
        (img.height as usize, img.width as usize)
    } else {
        (img.width as usize, img.height as usize)
    }
}

/// The camera's Y'CbCr planes for libjpeg-turbo (`tj3CompressFromYUVPlanes8`): borrowed as they
/// are where the layout and subsampling already match (YU12 at 4:2:0, NV12's Y plane), otherwise
/// built while walking the source in output order, which also turns the picture.
fn ycbcr(img: &RawImage, s: &EncodeSettings, o: Orientation) -> Result<Vec<u8>, EncodeError> {
    let planes = img.planes();
    let (w, h) = out_size(img, o);
    let upright_420 = o.is_identity() && s.subsampling == Subsampling::S420;
    let d = &img.data[..];
    let compress = |y: (&[u8], usize), u: (&[u8], usize), v: (&[u8], usize)| {
        with_compressor(s, |c| {
            c.compress_yuv_planes_to_vec(&YuvPlanesImage {
                y_plane: y.0,
                u_plane: u.0,
                v_plane: v.0,
                width: w,
                height: h,
                y_stride: y.1,
                u_stride: u.1,
                v_stride: v.1,
                subsamp: subsamp(s.subsampling),
            })
        })
    };
    let plane = |p: &Plane| (&d[p.offset..p.end()], p.stride);
    match img.format {
        PixelFormat::Yuv420 if upright_420 => {
            compress(plane(&planes[0]), plane(&planes[1]), plane(&planes[2]))
        }
        PixelFormat::Nv12 if upright_420 => {
            let uv = &planes[1];
            let (cw, ch) = (w / 2, h / 2);
            let (mut up, mut vp) = (Vec::with_capacity(cw * ch), Vec::with_capacity(cw * ch));
            for row in 0..ch {
                for pair in d[uv.offset + row * uv.stride..][..2 * cw].chunks_exact(2) {
                    up.push(pair[0]);
                    vp.push(pair[1]);
                }
            }
            compress(plane(&planes[0]), (&up, cw), (&vp, cw))
        }
        format => {
            let yp = luma_plane(img, &planes, o, format);
            let (up, vp, cw) = chroma_planes(img, &planes, o, format, s.subsampling);
            compress((&yp, w), (&up, cw), (&vp, cw))
        }
    }
}

/// The output's Y plane, row by row along each row's walk through the source.
fn luma_plane(img: &RawImage, planes: &[Plane], o: Orientation, format: PixelFormat) -> Vec<u8> {
    let (w, h) = out_size(img, o);
    let (sw, sh) = (img.width as usize, img.height as usize);
    let mut out = Vec::with_capacity(w * h);
    for oy in 0..h {
        let walk = o.row(oy, sw, sh);
        out.extend((0..w).map(|i| {
            let (x, y) = walk.at(i);
            sample(img, planes, format, x, y).0
        }));
    }
    out
}

/// The output's Cb and Cr planes at `subsampling`, each sample taken at the top-left pixel of
/// the block it stands for (the source's own chroma is already shared by 2 or 4 pixels), and
/// their stride.
fn chroma_planes(
    img: &RawImage,
    planes: &[Plane],
    o: Orientation,
    format: PixelFormat,
    subsampling: Subsampling,
) -> (Vec<u8>, Vec<u8>, usize) {
    let (w, h) = out_size(img, o);
    let (sw, sh) = (img.width as usize, img.height as usize);
    let (fx, fy) = match subsampling {
        Subsampling::S420 => (2, 2),
        Subsampling::S422 => (2, 1),
        Subsampling::S444 => (1, 1),
    };
    let (cw, ch) = (w.div_ceil(fx), h.div_ceil(fy));
    let (mut up, mut vp) = (Vec::with_capacity(cw * ch), Vec::with_capacity(cw * ch));
    for cy in 0..ch {
        let walk = o.row(cy * fy, sw, sh);
        for cx in 0..cw {
            let (x, y) = walk.at(cx * fx);
            let (_, cb, cr) = sample(img, planes, format, x, y);
            up.push(cb);
            vp.push(cr);
        }
    }
    (up, vp, cw)
}

/// Runs `job` on this thread's compressor, set to the quality of `s`.
fn with_compressor(
    s: &EncodeSettings,
    job: impl FnOnce(&mut Compressor) -> Result<Vec<u8>, turbojpeg::Error>,
) -> Result<Vec<u8>, EncodeError> {
    let fail = |e: turbojpeg::Error| EncodeError::Encoder(format!("libjpeg-turbo: {e}"));
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let c = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert(Compressor::new().map_err(fail)?),
        };
        c.set_quality(s.quality.get().into()).map_err(fail)?;
        job(c).map_err(fail)
    })
}

/// Splits YUYV/UYVY rows two at a time into 4:2:0 planes (chroma of the pair averaged, rounding
/// up); returns how many rows it did (all but an odd last one).
fn pairs_420(
    img: &RawImage,
    flip: bool,
    [a, u, b, v]: [usize; 4],
    yp: &mut [u8],
    up: &mut [u8],
    vp: &mut [u8],
) -> usize {
    let (w, h) = (img.width as usize, img.height as usize);
    let row = |y: usize| {
        let src = if flip { h - 1 - y } else { y };
        &img.data[src * img.stride..][..2 * w]
    };
    let half = w / 2;
    for cy in 0..h / 2 {
        let (r0, r1) = (row(2 * cy), row(2 * cy + 1));
        let (l0, l1) = yp[2 * cy * w..][..2 * w].split_at_mut(w);
        let (urow, vrow) = (&mut up[cy * half..][..half], &mut vp[cy * half..][..half]);
        let pixels = r0.chunks_exact(4).zip(r1.chunks_exact(4));
        let lumas = l0.chunks_exact_mut(2).zip(l1.chunks_exact_mut(2));
        let chroma = urow.iter_mut().zip(vrow.iter_mut());
        for (((p0, p1), (y0, y1)), (cb, cr)) in pixels.zip(lumas).zip(chroma) {
            y0[0] = p0[a];
            y0[1] = p0[b];
            y1[0] = p1[a];
            y1[1] = p1[b];
            *cb = ((p0[u] as u16 + p1[u] as u16 + 1) >> 1) as u8;
            *cr = ((p0[v] as u16 + p1[v] as u16 + 1) >> 1) as u8;
        }
    }
    h / 2 * 2
}

/// A camera's YUYV or UYVY into libjpeg-turbo's planar YCbCr input: the camera already delivers
/// YCbCr (BT.601, as UVC specifies), so the planes are only separated, with chroma rows averaged
/// for 4:2:0 or doubled for 4:4:4, and no colour conversion runs. Flip and mirror are applied
/// while separating, at no extra cost (quarter turns go through [`ycbcr`]).
fn yuyv(img: &RawImage, s: &EncodeSettings, o: Orientation) -> Result<Vec<u8>, EncodeError> {
    let (w, h) = (img.width as usize, img.height as usize);
    let (flip, mirror) = (o.neg_y, o.neg_x);
    // Byte positions of Y0, U, Y1, V in each 4-byte pair.
    let [a, u, b, v] = if img.format == PixelFormat::Uyvy {
        [1, 0, 3, 2]
    } else {
        [0, 1, 2, 3]
    };
    let half = w / 2; // `RawImage::check` guarantees an even width
    let (cw, ch, subsamp) = match s.subsampling {
        Subsampling::S420 => (half, h.div_ceil(2), Subsamp::Sub2x2),
        Subsampling::S422 => (half, h, Subsamp::Sub2x1),
        Subsampling::S444 => (w, h, Subsamp::None),
    };
    let mut yp = vec![0u8; w * h];
    let mut up = vec![0u8; cw * ch];
    let mut vp = vec![0u8; cw * ch];
    let rows = if s.subsampling == Subsampling::S420 && !mirror {
        // The common case, two rows at a time in one pass without per-pixel branches (the gain
        // is in docs/performance.md).
        pairs_420(img, flip, [a, u, b, v], &mut yp, &mut up, &mut vp)
    } else {
        0
    };
    for y in rows..h {
        let src = if flip { h - 1 - y } else { y };
        let row = &img.data[src * img.stride..][..2 * w];
        let luma = &mut yp[y * w..][..w];
        let crow = match s.subsampling {
            Subsampling::S420 => y / 2,
            _ => y,
        };
        let (urow, vrow) = (&mut up[crow * cw..][..cw], &mut vp[crow * cw..][..cw]);
        for (i, p) in row.chunks_exact(4).enumerate() {
            let (j, first, second) = if mirror {
                (half - 1 - i, p[b], p[a])
            } else {
                (i, p[a], p[b])
            };
            luma[2 * j] = first;
            luma[2 * j + 1] = second;
            match s.subsampling {
                Subsampling::S422 => {
                    urow[j] = p[u];
                    vrow[j] = p[v];
                }
                Subsampling::S444 => {
                    urow[2 * j..2 * j + 2].fill(p[u]);
                    vrow[2 * j..2 * j + 2].fill(p[v]);
                }
                // Even rows set the chroma row, odd rows average into it (rounding up).
                Subsampling::S420 if y % 2 == 0 => {
                    urow[j] = p[u];
                    vrow[j] = p[v];
                }
                Subsampling::S420 => {
                    urow[j] = (urow[j] as u16 + p[u] as u16).div_ceil(2) as u8;
                    vrow[j] = (vrow[j] as u16 + p[v] as u16).div_ceil(2) as u8;
                }
            }
        }
    }
    with_compressor(s, |c| {
        c.compress_yuv_planes_to_vec(&YuvPlanesImage {
            y_plane: &yp[..],
            u_plane: &up[..],
            v_plane: &vp[..],
            width: w,
            height: h,
            y_stride: w,
            u_stride: cw,
            v_stride: cw,
            subsamp,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn settings() -> EncodeSettings {
        EncodeSettings::for_tests()
    }

    /// A YUYV picture with a bright top-left quarter on mid grey: every subsampling decodes
    /// to it, and flip + mirror move the bright quarter to the bottom right.
    #[test]
    fn yuyv_goes_through_the_planes_right_way_round() {
        let (w, h) = (64u32, 32u32);
        let mut data = Vec::new();
        for y in 0..h {
            for x in (0..w).step_by(2) {
                let luma = if x < w / 2 && y < h / 2 { 235 } else { 100 };
                data.extend_from_slice(&[luma, 128, luma, 128]);
            }
        }
        let img = RawImage::packed(PixelFormat::Yuyv, w, h, data, SystemTime::now()).unwrap();
        let grey = |jpeg: &[u8], x: u32, y: u32| {
            testkit::picture::Picture::decode(jpeg).unwrap().at(x, y)[0] as i32
        };
        for subsampling in [Subsampling::S420, Subsampling::S422, Subsampling::S444] {
            let s = EncodeSettings {
                subsampling,
                ..settings()
            };
            let jpeg = try_encode(&img, &s).unwrap().unwrap();
            assert!((grey(&jpeg, 8, 8) - 235).abs() < 12, "{subsampling:?}");
            assert!((grey(&jpeg, 56, 24) - 100).abs() < 12, "{subsampling:?}");
            let turned = EncodeSettings {
                flip: true,
                mirror: true,
                ..s
            };
            let jpeg = try_encode(&img, &turned).unwrap().unwrap();
            assert!((grey(&jpeg, 8, 8) - 100).abs() < 12, "{subsampling:?}");
            assert!((grey(&jpeg, 56, 24) - 235).abs() < 12, "{subsampling:?}");
        }
    }

    /// Both encoders get the same BGRX picture (red, green, blue, white quarters) and must
    /// decode to the same colours: the turbojpeg path is a drop-in, not a different picture.
    #[test]
    fn same_picture_as_the_pure_rust_path() {
        let (w, h) = (64u32, 32u32);
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(match (x < w / 2, y < h / 2) {
                    (true, true) => &[0, 0, 255, 0],
                    (false, true) => &[0, 255, 0, 0],
                    (true, false) => &[255, 0, 0, 0],
                    (false, false) => &[255, 255, 255, 0],
                });
            }
        }
        let img = RawImage::packed(PixelFormat::Bgrx32, w, h, data, SystemTime::now()).unwrap();
        let turbo = try_encode(&img, &settings()).unwrap().unwrap();
        let flipped = EncodeSettings {
            flip: true,
            ..settings()
        };
        assert!(
            try_encode(&img, &flipped).is_none(),
            "flip goes the Rust way"
        );
        let decode = |jpeg: &[u8]| {
            let p = testkit::picture::Picture::decode(jpeg).unwrap();
            (0..h)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .flat_map(|(x, y)| p.at(x, y))
                .collect::<Vec<u8>>()
        };
        // The Rust path, forced by skipping the hook: encode with jpeg-encoder directly.
        let mut rust = Vec::new();
        let mut e = jpeg_encoder::Encoder::new(&mut rust, 80);
        e.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
        e.encode(&img.data, w as u16, h as u16, jpeg_encoder::ColorType::Bgra)
            .unwrap();
        let (a, b) = (decode(&turbo), decode(&rust));
        assert_eq!(a.len(), (w * h * 3) as usize);
        for (i, (x, y)) in [(8, 8), (56, 8), (8, 24), (56, 24)].into_iter().enumerate() {
            let p = ((y * w + x) * 3) as usize;
            let want = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]][i];
            for c in 0..3 {
                assert!(
                    (a[p + c] as i32 - want[c]).abs() < 16,
                    "turbo {:?}",
                    &a[p..p + 3]
                );
                assert!((a[p + c] as i32 - b[p + c] as i32).abs() < 16);
            }
        }
    }
}
