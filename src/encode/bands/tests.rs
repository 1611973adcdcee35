//! Byte identity: a stitched frame equals a full encode with the same restart interval, for
//! every subsampling, awkward sizes and random damage, with whichever encoder this build uses
//! (`make test` runs these for the default build and the `turbojpeg` one).

use std::sync::Arc;
use std::time::SystemTime;

use super::*;
use crate::jpeg::Quality;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n.max(1)
    }
}

fn settings(subsampling: Subsampling) -> EncodeSettings {
    EncodeSettings {
        quality: Quality::new(80).unwrap(),
        subsampling,
        flip: false,
        mirror: false,
        rotate: crate::orientation::Rotation::R0,
    }
}

/// B,G,R,X pixels: gradients with noise, so the scans hold every byte value (stuffed 0xFF too).
fn picture(w: u32, h: u32, rng: &mut Rng) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let n = rng.below(64) as u8;
            px.extend_from_slice(&[(x * 3) as u8 ^ n, (y * 5) as u8, ((x + y) * 2) as u8 | n, 0]);
        }
    }
    px
}

/// Cuts `px` into bands, reusing `prev`'s `Arc` where a band's bytes did not change (what the
/// screen source does).
fn banded(px: &[u8], w: u32, h: u32, rows: u32, prev: Option<&BandedImage>) -> BandedImage {
    let row = (w * 4) as usize;
    let bands = px
        .chunks(row * rows as usize)
        .enumerate()
        .map(|(i, b)| match prev {
            Some(p) if p.bands.get(i).is_some_and(|old| old[..] == *b) => p.bands[i].clone(),
            _ => Arc::new(b.to_vec()),
        })
        .collect();
    BandedImage {
        width: w,
        height: h,
        band_rows: rows,
        bands,
        captured: SystemTime::now(),
    }
}

#[test]
fn stitched_bands_are_byte_identical_to_a_full_encode() {
    let mut rng = Rng(0x5eed);
    for sub in [Subsampling::S420, Subsampling::S422, Subsampling::S444] {
        let s = settings(sub);
        // Widths off the MCU grid, a last band of a few rows, a picture of one band or less.
        for (w, h) in [(200, 75), (64, 16), (33, 7), (17, 40), (320, 240)] {
            let px = picture(w, h, &mut rng);
            let full = encode_restart(&px, w, h, &s).unwrap();
            let img = banded(&px, w, h, sub.mcu_height(), None);
            let stitched =
                encode_banded(&img, &s, &mut Planner::default(), &mut BandCache::default())
                    .unwrap();
            assert!(stitched == full, "{sub:?} {w}x{h}: stitched frame differs");
            let bands = h.div_ceil(sub.mcu_height()) as usize;
            let markers = full
                .windows(2)
                .filter(|p| p[0] == 0xFF && (RST0..=RST0 + 7).contains(&p[1]))
                .count();
            assert_eq!(
                markers,
                bands - 1,
                "{sub:?} {w}x{h}: one RSTn between bands"
            );
            let decoded = jpeg_decoder::Decoder::new(&stitched[..]).decode().unwrap();
            assert_eq!(decoded.len(), (w * h * 3) as usize);
        }
    }
}

#[test]
fn random_damage_keeps_every_frame_identical_and_encodes_only_changed_bands() {
    let mut rng = Rng(0xdecade);
    for sub in [Subsampling::S420, Subsampling::S444] {
        let s = settings(sub);
        let (w, h, rows) = (150u32, 100u32, sub.mcu_height());
        let mut px = picture(w, h, &mut rng);
        let (mut planner, mut cache) = (Planner::default(), BandCache::default());
        let mut prev: Option<BandedImage> = None;
        let mut encoded = 0;
        for frame in 0..30 {
            // 0-3 random rectangles of random colour; sometimes nothing at all.
            let mut touched = vec![false; h.div_ceil(rows) as usize];
            for _ in 0..rng.below(4) {
                let (x0, y0) = (rng.below(w), rng.below(h));
                let (x1, y1) = (
                    x0 + 1 + rng.below(w - x0),
                    y0 + 1 + rng.below(h - y0).min(20),
                );
                let c = rng.next().to_le_bytes();
                for y in y0..y1.min(h) {
                    touched[(y / rows) as usize] = true;
                    for x in x0..x1.min(w) {
                        let i = ((y * w + x) * 4) as usize;
                        px[i..i + 3].copy_from_slice(&c[..3]);
                    }
                }
            }
            let img = banded(&px, w, h, rows, prev.as_ref());
            let planned = {
                let mut p = Planner {
                    last: planner.last.clone(),
                };
                p.plan(&img)
            };
            if frame > 0 {
                for &i in &planned {
                    assert!(
                        touched[i],
                        "{sub:?} frame {frame}: band {i} re-encoded untouched"
                    );
                }
            }
            encoded += planned.len();
            let stitched = encode_banded(&img, &s, &mut planner, &mut cache).unwrap();
            let full = encode_restart(&px, w, h, &s).unwrap();
            assert!(stitched == full, "{sub:?} frame {frame}: differs");
            prev = Some(img);
        }
        let total = 30 * h.div_ceil(rows) as usize;
        assert!(
            encoded < total,
            "{sub:?}: {encoded} of {total} bands encoded"
        );
    }
}

#[test]
fn a_new_shape_starts_over_and_a_missing_band_empties_the_cache() {
    let s = settings(Subsampling::S420);
    let mut rng = Rng(7);
    let (mut planner, mut cache) = (Planner::default(), BandCache::default());
    for (w, h) in [(64, 48), (48, 64), (64, 48)] {
        let px = picture(w, h, &mut rng);
        let img = banded(&px, w, h, 16, None);
        let stitched = encode_banded(&img, &s, &mut planner, &mut cache).unwrap();
        assert!(
            stitched == encode_restart(&px, w, h, &s).unwrap(),
            "{w}x{h}"
        );
    }
    // The previous frame's band 1 never arrived (its encode failed): no frame, cache emptied.
    let shape = Shape {
        width: 64,
        height: 48,
        band_rows: 16,
    };
    let band = Arc::new(BandJpeg::encode(&vec![9; 64 * 16 * 4], 64, &s).unwrap());
    cache.bands[1] = None;
    assert!(cache.stitch(shape, vec![(0, band.clone())]).is_none());
    assert!(cache.shape.is_none());
    let all = (0..3).map(|i| (i, band.clone())).collect();
    assert!(
        cache.stitch(shape, all).is_some(),
        "a whole frame rebuilds it"
    );
}
