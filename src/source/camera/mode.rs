//! Chooses the capture format and size from what a camera offers: pure logic, so the rules
//! ("auto prefers MJPEG", "no --size means the mode nearest 1280x720") are unit-tested without a
//! device.

use crate::config::{CameraFormat, DEFAULT_SIZE, Resolution};

/// The pixel formats deskcam can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pixel {
    /// The camera's own JPEG ("MJPG", or "JPEG" on some older drivers): passed through.
    Mjpeg,
    /// YUYV 4:2:2, the format every UVC camera offers: encoded here.
    Yuyv,
}

impl Pixel {
    pub fn from_fourcc(fourcc: &[u8; 4]) -> Option<Pixel> {
        match fourcc {
            b"MJPG" | b"JPEG" => Some(Pixel::Mjpeg),
            b"YUYV" => Some(Pixel::Yuyv),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Pixel::Mjpeg => "MJPEG",
            Pixel::Yuyv => "YUYV",
        }
    }
}

/// A fourcc as text; codes with the big-endian flag (bit 31) or other non-ASCII bytes print `?`.
pub fn fourcc_text(fourcc: &[u8; 4]) -> String {
    fourcc
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect::<String>()
}

/// The sizes a camera offers for one format, as V4L2 enumerates them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sizes {
    Discrete(Vec<Resolution>),
    /// Any size in a range on a grid (continuous ranges have step 1).
    Stepwise {
        min: Resolution,
        max: Resolution,
        step: Resolution,
    },
}

impl Sizes {
    pub fn offers(&self, size: Resolution) -> bool {
        match self {
            Sizes::Discrete(list) => list.contains(&size),
            Sizes::Stepwise { min, max, step } => {
                let fits = |v: u32, lo: u32, hi: u32, st: u32| {
                    (lo..=hi).contains(&v) && (v - lo).is_multiple_of(st.max(1))
                };
                fits(size.width, min.width, max.width, step.width)
                    && fits(size.height, min.height, max.height, step.height)
            }
        }
    }

    /// The offered size nearest `want` (by area, then by aspect-ratio error).
    pub fn nearest(&self, want: Resolution) -> Option<Resolution> {
        match self {
            Sizes::Discrete(list) => list.iter().copied().min_by_key(|s| distance(*s, want)),
            Sizes::Stepwise { min, max, step } => {
                let snap = |v: u32, lo: u32, hi: u32, st: u32| {
                    let v = v.clamp(lo, hi);
                    lo + (v - lo) / st.max(1) * st.max(1)
                };
                Some(Resolution {
                    width: snap(want.width, min.width, max.width, step.width),
                    height: snap(want.height, min.height, max.height, step.height),
                })
            }
        }
    }
}

fn distance(a: Resolution, b: Resolution) -> (u64, u64) {
    let area = |r: Resolution| r.width as i64 * r.height as i64;
    let aspect =
        (a.width as i64 * b.height as i64 - b.width as i64 * a.height as i64).unsigned_abs();
    ((area(a) - area(b)).unsigned_abs(), aspect)
}

/// What to ask the camera for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub pixel: Pixel,
    pub size: Resolution,
}

/// Picks a format and size from `offered`, or says in one sentence why nothing fits.
pub fn choose(
    offered: &[(Pixel, Sizes)],
    format: CameraFormat,
    size: Option<Resolution>,
) -> Result<Choice, String> {
    let allowed: Vec<Pixel> = match format {
        // MJPEG first: passthrough costs almost no CPU and USB 2 cannot carry YUYV at 720p30.
        CameraFormat::Auto => vec![Pixel::Mjpeg, Pixel::Yuyv],
        CameraFormat::Mjpeg => vec![Pixel::Mjpeg],
        CameraFormat::Yuyv => vec![Pixel::Yuyv],
    };
    let usable: Vec<&(Pixel, Sizes)> = allowed
        .iter()
        .filter_map(|p| offered.iter().find(|(q, _)| q == p))
        .collect();
    if usable.is_empty() {
        let names: Vec<&str> = allowed.iter().map(|p| p.name()).collect();
        return Err(format!("offers no {} format", names.join(" or ")));
    }
    match size {
        Some(want) => usable
            .iter()
            .find(|(_, sizes)| sizes.offers(want))
            .map(|(pixel, _)| Choice {
                pixel: *pixel,
                size: want,
            })
            .ok_or_else(|| {
                let mut all: Vec<String> = Vec::new();
                for (pixel, sizes) in &usable {
                    all.push(format!("{} {}", pixel.name(), describe(sizes)));
                }
                format!("does not offer --size {want}; it offers {}", all.join("; "))
            }),
        None => {
            // The size nearest 1280x720 over every usable format; among equally near ones the
            // earlier (preferred) format wins because min_by_key keeps the first minimum.
            usable
                .iter()
                .filter_map(|(pixel, sizes)| {
                    sizes.nearest(DEFAULT_SIZE).map(|size| Choice {
                        pixel: *pixel,
                        size,
                    })
                })
                .min_by_key(|c| distance(c.size, DEFAULT_SIZE))
                .ok_or_else(|| "offers no frame size".to_string())
        }
    }
}

pub fn describe(sizes: &Sizes) -> String {
    match sizes {
        Sizes::Discrete(list) => list
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Sizes::Stepwise { min, max, step } => {
            format!("{min} to {max} in steps of {step}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(width: u32, height: u32) -> Resolution {
        Resolution { width, height }
    }

    fn webcam() -> Vec<(Pixel, Sizes)> {
        vec![
            (
                Pixel::Yuyv,
                Sizes::Discrete(vec![r(640, 480), r(1280, 720), r(1920, 1080)]),
            ),
            (
                Pixel::Mjpeg,
                Sizes::Discrete(vec![r(640, 480), r(1920, 1080)]),
            ),
        ]
    }

    #[test]
    fn auto_prefers_mjpeg_when_it_has_the_size() {
        let c = choose(&webcam(), CameraFormat::Auto, Some(r(640, 480))).unwrap();
        assert_eq!(c.pixel, Pixel::Mjpeg);
        let c = choose(&webcam(), CameraFormat::Auto, Some(r(1280, 720))).unwrap();
        assert_eq!(
            c,
            Choice {
                pixel: Pixel::Yuyv,
                size: r(1280, 720)
            }
        );
    }

    #[test]
    fn no_size_takes_the_mode_nearest_720p() {
        let c = choose(&webcam(), CameraFormat::Auto, None).unwrap();
        assert_eq!(
            c,
            Choice {
                pixel: Pixel::Yuyv,
                size: r(1280, 720)
            }
        );
        let c = choose(&webcam(), CameraFormat::Mjpeg, None).unwrap();
        assert_eq!(c.size, r(640, 480));
        // A tie in distance goes to MJPEG.
        let both = vec![
            (Pixel::Yuyv, Sizes::Discrete(vec![r(1280, 720)])),
            (Pixel::Mjpeg, Sizes::Discrete(vec![r(1280, 720)])),
        ];
        assert_eq!(
            choose(&both, CameraFormat::Auto, None).unwrap().pixel,
            Pixel::Mjpeg
        );
    }

    #[test]
    fn unsupported_size_or_format_is_one_sentence() {
        let e = choose(&webcam(), CameraFormat::Auto, Some(r(800, 600))).unwrap_err();
        assert!(
            e.contains("800x600") && e.contains("YUYV 640x480, 1280x720"),
            "{e}"
        );
        let yuyv_only = vec![(Pixel::Yuyv, Sizes::Discrete(vec![r(640, 480)]))];
        let e = choose(&yuyv_only, CameraFormat::Mjpeg, None).unwrap_err();
        assert!(e.contains("no MJPEG"), "{e}");
    }

    #[test]
    fn stepwise_sizes_snap_to_the_grid() {
        let s = Sizes::Stepwise {
            min: r(64, 64),
            max: r(1920, 1080),
            step: r(16, 8),
        };
        assert!(s.offers(r(1280, 720)));
        assert!(!s.offers(r(1281, 720)));
        assert!(!s.offers(r(3840, 2160)));
        assert_eq!(s.nearest(r(4000, 100)), Some(r(1920, 96)));
    }
}
