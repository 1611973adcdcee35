//! `--list-devices`, `--list-formats` and `--list-controls`: what each camera offers (formats,
//! sizes, frame rates, image controls), so users can pick `--device`, `--size`, `--fps`,
//! `--format` and `--set` without v4l2-ctl.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::controls::{self, Info, Kind};
use super::device;
use super::mode::{self, Sizes};
use crate::image::CaptureFormat;
use crate::source::SourceError;

/// Every /dev/videoN node, in numeric order.
fn nodes() -> Vec<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/dev")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n: u32 = name.strip_prefix("video")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// One line per video node: what it is and which formats deskcam can use from it.
pub fn devices() -> String {
    let mut out = String::new();
    let nodes = nodes();
    if nodes.is_empty() {
        out.push_str("no V4L2 devices (/dev/video*) found\n");
    }
    for path in nodes {
        let p = path.display();
        match device::open(&path) {
            Ok(opened) => {
                let offers = device::offers(&opened.dev).unwrap_or_default();
                let mut formats: Vec<String> = offers
                    .iter()
                    .filter(|o| mode::from_fourcc(&o.fourcc).is_some())
                    .map(|o| mode::fourcc_text(&o.fourcc))
                    .collect();
                let others = offers.len() - formats.len();
                if others > 0 {
                    formats.push(format!("(+{others} formats deskcam does not use)"));
                }
                let formats = formats.join(" ");
                let _ = writeln!(
                    out,
                    "{p}\t{} (driver {}): {}",
                    opened.card,
                    opened.driver,
                    if formats.is_empty() {
                        "no formats yet".into()
                    } else {
                        formats
                    }
                );
            }
            Err(e) => {
                let _ = writeln!(out, "{p}\tunusable: {e}");
            }
        }
    }
    out
}

/// Every format, size and frame rate of `path`, marking the formats deskcam can use.
pub fn formats(path: &Path) -> Result<String, SourceError> {
    let opened = device::open(path)?;
    let offers = device::offers(&opened.dev)
        .map_err(|e| device::device_failed(path, "VIDIOC_ENUM_FMT", &e))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}, driver {}):",
        path.display(),
        opened.card,
        opened.driver
    );
    if offers.is_empty() {
        out.push_str("  no capture formats (a v4l2loopback device offers one once a producer writes to it)\n");
    }
    for offer in &offers {
        let use_ = match mode::from_fourcc(&offer.fourcc) {
            Some(CaptureFormat::Mjpeg) => "--format mjpeg: passed through".to_string(),
            Some(CaptureFormat::Raw(p)) => {
                format!("--format {}: encoded", p.name().to_ascii_lowercase())
            }
            None => "not used by deskcam".to_string(),
        };
        let fourcc = mode::fourcc_text(&offer.fourcc);
        let _ = writeln!(out, "  {fourcc}  {} ({use_})", offer.description);
        match &offer.sizes {
            Sizes::Discrete(list) => {
                for &size in list {
                    let rates = device::rates(&opened.dev, offer.fourcc, size);
                    let _ = writeln!(
                        out,
                        "    {size:<10} {}",
                        if rates.is_empty() {
                            String::new()
                        } else {
                            format!("{} fps", rates.join(", "))
                        }
                    );
                }
            }
            stepwise => {
                let _ = writeln!(out, "    {}", mode::describe(stepwise));
            }
        }
    }
    Ok(out)
}

/// `--list-controls`: every control of `path` deskcam can set, grouped as v4l2-ctl groups them,
/// with its range, default and current value, and menus with their entries.
pub fn controls(path: &Path) -> Result<String, SourceError> {
    let opened = device::open(path)?;
    let list = controls::query(&opened.dev)
        .map_err(|e| device::device_failed(path, "listing the controls", &e))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}, driver {}): set with --set NAME=VALUE (repeatable)",
        path.display(),
        opened.card,
        opened.driver
    );
    if list.is_empty() {
        out.push_str("  no controls\n");
    }
    let mut class = None;
    for c in &list {
        if class != Some(&c.class) {
            let _ = writeln!(
                out,
                "  {}:",
                if c.class.is_empty() {
                    "Controls"
                } else {
                    &c.class
                }
            );
            class = Some(&c.class);
        }
        let _ = writeln!(out, "    {}", describe(c));
        if let Kind::Menu(items) = &c.kind {
            for (i, name) in items {
                let _ = writeln!(out, "        {i}: {name}");
            }
        }
    }
    Ok(out)
}

/// One control on one line: `brightness  int  0 to 255  default 128  value 128`.
fn describe(c: &Info) -> String {
    let mut line = format!("{:<32} {:<6}", c.name, c.kind.name());
    if c.kind != Kind::Button {
        let range = match c.kind {
            Kind::Menu(_) => format!("{} to {}", c.min, c.max),
            _ => c.allowed(),
        };
        line.push_str(&format!(" {range:<22} default {:<6}", c.default));
        if let Some(v) = c.value {
            line.push_str(&format!(" value {v}"));
        }
    }
    for (on, flag) in [
        (c.read_only, "read-only"),
        (c.inactive, "inactive"),
        (c.kind == Kind::Button, "an action, not a setting"),
    ] {
        if on {
            line.push_str(&format!(" ({flag})"));
        }
    }
    line.trim_end().to_string()
}
