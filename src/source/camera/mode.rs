//! Chooses the capture format and size from what a camera offers: pure logic, so the rules
//! ("auto prefers MJPEG", "no --size means the mode nearest 1280x720") are unit-tested without a
//! device.

use std::fmt;

use super::settings::FormatChoice;
use crate::geometry::{DEFAULT_SIZE, Resolution};
use crate::image::{CaptureFormat, PixelFormat};

/// The capture format a V4L2 fourcc stands for, if deskcam can use it: the camera's own JPEG
/// ("MJPG", or "JPEG" on some older drivers) is passed through; raw pixels (YUYV 4:2:2, which
/// every UVC camera offers, and the layouts of capture bridges and SoC cameras) are encoded here.
pub fn from_fourcc(fourcc: &[u8; 4]) -> Option<CaptureFormat> {
    let raw = match fourcc {
        b"MJPG" | b"JPEG" => return Some(CaptureFormat::Mjpeg),
        b"YUYV" => PixelFormat::Yuyv,
        b"UYVY" => PixelFormat::Uyvy,
        b"NV12" => PixelFormat::Nv12,
        b"YU12" => PixelFormat::Yuv420,
        b"RGB3" => PixelFormat::Rgb24,
        b"BGR3" => PixelFormat::Bgr24,
        b"GREY" => PixelFormat::Grey,
        _ => return None,
    };
    Some(CaptureFormat::Raw(raw))
}

/// What `--format auto` tries, best first: MJPEG costs almost no CPU (and USB 2 cannot carry
/// YUYV at 720p30); then the raw formats by what one frame costs to encode (benches/camera.rs
/// measures them; docs/performance.md has the figures): 4:2:0 planes go to the encoder as they
/// are, 4:2:2 needs its planes separated, RGB a colour conversion. Grey comes last: it drops
/// the colour a camera offering anything else has.
const AUTO_ORDER: [CaptureFormat; 8] = [
    CaptureFormat::Mjpeg,
    CaptureFormat::Raw(PixelFormat::Yuv420),
    CaptureFormat::Raw(PixelFormat::Nv12),
    CaptureFormat::Raw(PixelFormat::Yuyv),
    CaptureFormat::Raw(PixelFormat::Uyvy),
    CaptureFormat::Raw(PixelFormat::Rgb24),
    CaptureFormat::Raw(PixelFormat::Bgr24),
    CaptureFormat::Raw(PixelFormat::Grey),
];

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
    pub format: CaptureFormat,
    pub size: Resolution,
}

/// Why no mode fits; the variant decides what the error message adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoMode {
    /// None of the wanted formats is offered.
    NoFormat { wanted: Vec<CaptureFormat> },
    /// The wanted size is offered in none of the usable formats.
    NoSize {
        want: Resolution,
        offered: Vec<(CaptureFormat, Sizes)>,
    },
    /// The usable formats list no size at all.
    NoSizes,
}

impl fmt::Display for NoMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoMode::NoFormat { wanted } => {
                let names: Vec<&str> = wanted.iter().map(|p| p.name()).collect();
                write!(f, "offers no {} format", names.join(" or "))
            }
            NoMode::NoSize { want, offered } => {
                let all: Vec<String> = offered
                    .iter()
                    .map(|(format, sizes)| format!("{} {}", format.name(), describe(sizes)))
                    .collect();
                write!(
                    f,
                    "does not offer --size {want}; it offers {}",
                    all.join("; ")
                )
            }
            NoMode::NoSizes => f.write_str("offers no frame size"),
        }
    }
}

/// Picks a format and size from `offered`. `passthrough` is false when the picture must be
/// decoded to be served as asked (a quarter turn): `auto` then leaves MJPEG out.
pub fn choose(
    offered: &[(CaptureFormat, Sizes)],
    choice: FormatChoice,
    size: Option<Resolution>,
    passthrough: bool,
) -> Result<Choice, NoMode> {
    let allowed: Vec<CaptureFormat> = match choice {
        FormatChoice::Auto => AUTO_ORDER
            .into_iter()
            .filter(|f| passthrough || *f != CaptureFormat::Mjpeg)
            .collect(),
        FormatChoice::Only(format) => vec![format],
    };
    let usable: Vec<&(CaptureFormat, Sizes)> = allowed
        .iter()
        .filter_map(|p| offered.iter().find(|(q, _)| q == p))
        .collect();
    if usable.is_empty() {
        return Err(NoMode::NoFormat { wanted: allowed });
    }
    match size {
        Some(want) => usable
            .iter()
            .find(|(_, sizes)| sizes.offers(want))
            .map(|(format, _)| Choice {
                format: *format,
                size: want,
            })
            .ok_or_else(|| NoMode::NoSize {
                want,
                offered: usable.iter().map(|u| (*u).clone()).collect(),
            }),
        // The size nearest 1280x720 over every usable format; among equally near ones the
        // earlier (preferred) format wins because min_by_key keeps the first minimum.
        None => usable
            .iter()
            .filter_map(|(format, sizes)| {
                sizes.nearest(DEFAULT_SIZE).map(|size| Choice {
                    format: *format,
                    size,
                })
            })
            .min_by_key(|c| distance(c.size, DEFAULT_SIZE))
            .ok_or(NoMode::NoSizes),
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

    const MJPEG: CaptureFormat = CaptureFormat::Mjpeg;
    const YUYV: CaptureFormat = CaptureFormat::Raw(PixelFormat::Yuyv);
    const AUTO: FormatChoice = FormatChoice::Auto;

    fn webcam() -> Vec<(CaptureFormat, Sizes)> {
        vec![
            (
                YUYV,
                Sizes::Discrete(vec![r(640, 480), r(1280, 720), r(1920, 1080)]),
            ),
            (MJPEG, Sizes::Discrete(vec![r(640, 480), r(1920, 1080)])),
        ]
    }

    #[test]
    fn auto_prefers_mjpeg_when_it_has_the_size() {
        let c = choose(&webcam(), AUTO, Some(r(640, 480)), true).unwrap();
        assert_eq!(c.format, MJPEG);
        let c = choose(&webcam(), AUTO, Some(r(1280, 720)), true).unwrap();
        assert_eq!(
            c,
            Choice {
                format: YUYV,
                size: r(1280, 720)
            }
        );
    }

    #[test]
    fn no_size_takes_the_mode_nearest_720p() {
        let c = choose(&webcam(), AUTO, None, true).unwrap();
        assert_eq!(
            c,
            Choice {
                format: YUYV,
                size: r(1280, 720)
            }
        );
        let c = choose(&webcam(), FormatChoice::Only(MJPEG), None, true).unwrap();
        assert_eq!(c.size, r(640, 480));
        // A tie in distance goes to MJPEG.
        let both = vec![
            (YUYV, Sizes::Discrete(vec![r(1280, 720)])),
            (MJPEG, Sizes::Discrete(vec![r(1280, 720)])),
        ];
        assert_eq!(choose(&both, AUTO, None, true).unwrap().format, MJPEG);
    }

    #[test]
    fn unsupported_size_or_format_is_one_sentence() {
        let e = choose(&webcam(), AUTO, Some(r(800, 600)), true).unwrap_err();
        assert!(matches!(e, NoMode::NoSize { want, .. } if want == r(800, 600)));
        let e = e.to_string();
        assert!(
            e.contains("800x600") && e.contains("YUYV 640x480, 1280x720"),
            "{e}"
        );
        let yuyv_only = vec![(YUYV, Sizes::Discrete(vec![r(640, 480)]))];
        let e = choose(&yuyv_only, FormatChoice::Only(MJPEG), None, true).unwrap_err();
        assert_eq!(
            e,
            NoMode::NoFormat {
                wanted: vec![MJPEG]
            }
        );
        assert!(e.to_string().contains("no MJPEG"), "{e}");
    }

    #[test]
    fn auto_takes_the_cheapest_raw_format_and_skips_mjpeg_for_quarter_turns() {
        let nv12 = CaptureFormat::Raw(PixelFormat::Nv12);
        let yu12 = CaptureFormat::Raw(PixelFormat::Yuv420);
        let grey = CaptureFormat::Raw(PixelFormat::Grey);
        let rgb = CaptureFormat::Raw(PixelFormat::Rgb24);
        let all = |fs: &[CaptureFormat]| -> Vec<(CaptureFormat, Sizes)> {
            fs.iter()
                .map(|f| (*f, Sizes::Discrete(vec![r(640, 480)])))
                .collect()
        };
        let pick = |fs: &[CaptureFormat], passthrough| {
            choose(&all(fs), AUTO, Some(r(640, 480)), passthrough)
                .unwrap()
                .format
        };
        assert_eq!(pick(&[grey, rgb, YUYV, nv12, yu12, MJPEG], true), MJPEG);
        assert_eq!(pick(&[grey, rgb, YUYV, nv12, yu12, MJPEG], false), yu12);
        assert_eq!(pick(&[grey, rgb, YUYV, nv12], true), nv12);
        assert_eq!(pick(&[grey, rgb], true), rgb);
        assert_eq!(pick(&[grey], true), grey);
        assert!(matches!(
            choose(&all(&[MJPEG]), AUTO, None, false),
            Err(NoMode::NoFormat { .. })
        ));
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
