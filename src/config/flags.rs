//! Every flag, defined once. The parser ([`super::args`]) finds flags here by name, `--help`
//! ([`super::help`]), the man page ([`super::man`]) and the bash and zsh completions
//! ([`super::complete`]) are made from this table, and validation ([`super`]) reads each value
//! through the flag's own entry (its default and range included), so no flag is spelled out
//! anywhere else. docs/flags.md carries the `--help` text; a test fails when the two differ.
//!
//! How to add a flag:
//! 1. Add a `pub static NAME: Flag` below, in the category it belongs to: a switch
//!    ([`Flag::switch`]) or a flag that takes a value ([`Flag::takes`]), with its default,
//!    range, choices or completion as it has them. The doc is one sentence fragment, lower
//!    case, as `--help` shows it; `{choices}` in it becomes the list of choices.
//! 2. List it in [`ALL`], where `--help` should show it.
//! 3. Read it in the validation (`config/mod.rs`): `raw.on(&NAME)` for a switch,
//!    `raw.value(&NAME)` or `raw.value_or_default(&NAME)` for a value, and put the checked
//!    value into `Config` or the settings of the source that uses it.
//! 4. Run `cargo run -- --help` and paste its output into docs/flags.md (the flag-docs test
//!    says so when they differ), and say more there (or in the source's page) if the flag has
//!    rules a line cannot hold.

/// The `--help` sections, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Source,
    Screen,
    Camera,
    Server,
    Https,
    Logging,
    Other,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Source,
        Category::Screen,
        Category::Camera,
        Category::Server,
        Category::Https,
        Category::Logging,
        Category::Other,
    ];

    /// The section's heading.
    pub fn title(self) -> &'static str {
        match self {
            Category::Source => "Source",
            Category::Screen => "Screen (--source screen)",
            Category::Camera => "Camera (--source camera)",
            Category::Server => "Server",
            Category::Https => "HTTPS and proxies",
            Category::Logging => "Logging",
            Category::Other => "Other",
        }
    }
}

/// What a shell may offer for a flag's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Complete {
    /// Free text the user types (a number, a size, a name).
    Text,
    /// One of these words, and nothing else.
    Choices(&'static [&'static str]),
    File,
    Directory,
    /// A V4L2 device node (`/dev/video*`).
    Device,
}

/// What the flag's value is when it is not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultValue {
    None,
    /// A value, checked as if the user had typed it.
    Value(&'static str),
    /// Worked out when the program runs (the number of CPUs, `$DISPLAY`): said, not parsed.
    Said(&'static str),
}

/// One flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    /// `--long`.
    pub long: &'static str,
    /// `-s`, for the few flags that have one.
    pub short: Option<char>,
    /// The value's name in `--help` (`N`, `PATH`); `None` for a switch.
    pub value: Option<&'static str>,
    pub default: DefaultValue,
    pub category: Category,
    /// What it does, as `--help` says it.
    pub doc: &'static str,
    pub complete: Complete,
    /// The whole numbers it takes, both ends included.
    pub range: Option<(u32, u32)>,
    /// May be given more than once; every value counts (otherwise the last one does).
    pub repeats: bool,
    /// Left out of `--help` and the man page (a tool for packagers); still documented in
    /// docs/flags.md and completed.
    pub hidden: bool,
}

impl Flag {
    /// A flag without a value.
    pub const fn switch(long: &'static str, category: Category, doc: &'static str) -> Flag {
        Flag {
            long,
            short: None,
            value: None,
            default: DefaultValue::None,
            category,
            doc,
            complete: Complete::Text,
            range: None,
            repeats: false,
            hidden: false,
        }
    }

    /// A flag that takes a value called `value` in `--help`.
    pub const fn takes(
        long: &'static str,
        value: &'static str,
        category: Category,
        doc: &'static str,
    ) -> Flag {
        Flag {
            value: Some(value),
            ..Flag::switch(long, category, doc)
        }
    }

    pub const fn short(self, short: char) -> Flag {
        Flag {
            short: Some(short),
            ..self
        }
    }

    pub const fn default(self, value: &'static str) -> Flag {
        Flag {
            default: DefaultValue::Value(value),
            ..self
        }
    }

    pub const fn default_said(self, text: &'static str) -> Flag {
        Flag {
            default: DefaultValue::Said(text),
            ..self
        }
    }

    pub const fn choices(self, choices: &'static [&'static str]) -> Flag {
        Flag {
            complete: Complete::Choices(choices),
            ..self
        }
    }

    pub const fn complete(self, complete: Complete) -> Flag {
        Flag { complete, ..self }
    }

    pub const fn range(self, min: u32, max: u32) -> Flag {
        Flag {
            range: Some((min, max)),
            ..self
        }
    }

    pub const fn repeats(self) -> Flag {
        Flag {
            repeats: true,
            ..self
        }
    }

    pub const fn hidden(self) -> Flag {
        Flag {
            hidden: true,
            ..self
        }
    }

    /// The words it accepts, if it takes only some.
    pub fn choice_list(&self) -> &'static [&'static str] {
        match self.complete {
            Complete::Choices(c) => c,
            _ => &[],
        }
    }

    /// The doc with `{choices}` spelled out ("a, b or c").
    pub fn doc_text(&self) -> String {
        self.doc.replace("{choices}", &one_of(self.choice_list()))
    }
}

/// "a, b or c".
pub fn one_of(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

use Category::{Camera, Https, Logging, Other, Screen, Server, Source};

// Source.
pub static SOURCE: Flag = Flag::takes("source", "pattern|screen|camera", Source, "what to stream")
    .default("pattern")
    .choices(&["pattern", "screen", "camera"]);
pub static SIZE: Flag = Flag::takes("size", "WxH", Source, "frame size")
    .default_said("1280x720; camera: its mode nearest that; screen: its real size");
pub static FPS: Flag = Flag::takes(
    "fps",
    "N",
    Source,
    "frames per second, 1-1000 (a maximum for the screen)",
)
.default("30")
.range(1, 1000);
pub static QUALITY: Flag = Flag::takes("quality", "N", Source, "JPEG quality, 1-100")
    .default("80")
    .range(1, 100);
pub static SUBSAMPLING: Flag = Flag::takes(
    "subsampling",
    "420|422|444",
    Source,
    "JPEG chroma subsampling",
)
.default("420")
.choices(&["420", "422", "444"]);
pub static WORKERS: Flag = Flag::takes("workers", "N", Source, "JPEG encoder threads, 1-64")
    .default_said("number of CPUs")
    .range(1, 64);
pub static IDLE_STOP: Flag = Flag::takes(
    "idle-stop",
    "SECONDS",
    Source,
    "stop capturing after this long without clients, 0-86400; 0 = never",
)
.default("10")
.range(0, 86_400);

// Screen.
pub static DISPLAY: Flag =
    Flag::takes("display", ":N", Screen, "X display").default_said("$DISPLAY");
pub static REGION: Flag = Flag::takes(
    "region",
    "WxH+X+Y",
    Screen,
    "stream only this rectangle of the screen",
);
pub static MONITOR: Flag = Flag::takes(
    "monitor",
    "NAME|INDEX",
    Screen,
    "stream only this RandR monitor",
);
pub static NO_CURSOR: Flag = Flag::switch(
    "no-cursor",
    Screen,
    "leave the mouse cursor out of the picture",
);
pub static FULL_FRAMES: Flag = Flag::switch(
    "full-frames",
    Screen,
    "encode every frame whole instead of only the bands that changed (costs more CPU; for comparison)",
);
pub static CONTROL: Flag = Flag::switch(
    "control",
    Screen,
    "let authorised viewers click and type (off by default)",
);

// Camera.
pub static DEVICE: Flag = Flag::takes("device", "PATH", Camera, "V4L2 device")
    .default("/dev/video0")
    .complete(Complete::Device);
pub static FORMAT: Flag = Flag::takes(
    "format",
    "FORMAT",
    Camera,
    "capture format: {choices}; auto prefers the camera's own MJPEG, then the format cheapest to encode",
)
.default("auto")
.choices(&[
    "auto", "mjpeg", "yuyv", "uyvy", "nv12", "yuv420", "rgb24", "bgr24", "grey",
]);
pub static ROTATE: Flag = Flag::takes(
    "rotate",
    "90|180|270",
    Camera,
    "turn the picture clockwise (90 and 270 need a raw format)",
)
.choices(&["90", "180", "270"]);
pub static FLIP: Flag = Flag::switch("flip", Camera, "turn the picture upside down");
pub static MIRROR: Flag = Flag::switch("mirror", Camera, "mirror the picture left to right");
pub static SET: Flag = Flag::takes(
    "set",
    "NAME=VALUE",
    Camera,
    "set a camera control at every open, e.g. --set brightness=140 (repeatable; names as --list-controls and v4l2-ctl show them)",
)
.repeats();
pub static CAMERA_CONTROLS: Flag = Flag::switch(
    "camera-controls",
    Camera,
    "let authorised viewers change the camera's controls (off by default)",
);
pub static LIST_DEVICES: Flag = Flag::switch("list-devices", Camera, "list V4L2 cameras and exit");
pub static LIST_FORMATS: Flag = Flag::switch(
    "list-formats",
    Camera,
    "list the formats, sizes and rates of --device and exit",
);
pub static LIST_CONTROLS: Flag = Flag::switch(
    "list-controls",
    Camera,
    "list the controls of --device (range, default, value) and exit",
);

// Server.
pub static LISTEN: Flag = Flag::takes(
    "listen",
    "[ADDR:]PORT",
    Server,
    "address to serve on (ADDR may be a host name)",
)
.default("0.0.0.0:8080");
pub static MAX_CLIENTS: Flag = Flag::takes(
    "max-clients",
    "N",
    Server,
    "concurrent streams, 1-10000; more get 503",
)
.default("64")
.range(1, 10_000);
pub static AUTH: Flag = Flag::takes(
    "auth",
    "USER:PASSWORD",
    Server,
    "require HTTP Basic authentication for everything",
);
pub static AUTH_FILE: Flag = Flag::takes(
    "auth-file",
    "PATH",
    Server,
    "read USER:PASSWORD from the first line of a file (or set DESKCAM_AUTH=USER:PASSWORD; keeps it out of `ps`)",
)
.complete(Complete::File);

// HTTPS and proxies.
pub static TLS_CERT: Flag = Flag::takes(
    "tls-cert",
    "PATH",
    Https,
    "serve HTTPS with this PEM certificate chain (re-read on SIGHUP)",
)
.complete(Complete::File);
pub static TLS_KEY: Flag = Flag::takes(
    "tls-key",
    "PATH",
    Https,
    "the PEM private key of --tls-cert (re-read on SIGHUP)",
)
.complete(Complete::File);
pub static TLS_SELF_SIGNED: Flag = Flag::switch(
    "tls-self-signed",
    Https,
    "serve HTTPS with a self-signed certificate for this machine's names, made once and kept in --state-dir; prints its SHA-256 fingerprint",
);
pub static STATE_DIR: Flag = Flag::takes(
    "state-dir",
    "PATH",
    Https,
    "where --tls-self-signed keeps it",
)
.default_said("$STATE_DIRECTORY, else $XDG_STATE_HOME/deskcam, else ~/.local/state/deskcam")
.complete(Complete::Directory);
pub static ALLOW_PLAIN_HTTP: Flag = Flag::switch(
    "allow-plain-http",
    Https,
    "allow --control off loopback without HTTPS: only behind a TLS proxy on another host (--control on the network needs HTTPS otherwise)",
);
pub static TRUSTED_PROXY: Flag = Flag::takes(
    "trusted-proxy",
    "ADDR",
    Https,
    "requests from this proxy IP name their client in X-Forwarded-For (logs, password lockout and rate limits see the real viewer)",
);

// Logging.
pub static LOG_LEVEL: Flag = Flag::takes(
    "log-level",
    "LEVEL",
    Logging,
    "how much to log: {choices}; debug adds every snapshot, refused request, dropped connection and X error",
)
.default("info")
.choices(&["error", "warn", "info", "debug"]);
pub static VERBOSE: Flag =
    Flag::switch("verbose", Logging, "log everything (--log-level debug)").short('v');
pub static QUIET: Flag = Flag::switch(
    "quiet",
    Logging,
    "log only warnings and errors (--log-level warn)",
)
.short('q');

// Other.
pub static HELP: Flag = Flag::switch("help", Other, "print this help").short('h');
pub static VERSION: Flag = Flag::switch("version", Other, "print the version").short('V');
pub static GENERATE: Flag = Flag::takes(
    "generate",
    "WHAT",
    Other,
    "print the man page or a completion script, made from this table: {choices}",
)
.choices(&["man", "complete-bash", "complete-zsh"])
.hidden();

/// Every flag, in `--help` order within each category.
pub static ALL: &[&Flag] = &[
    &SOURCE,
    &SIZE,
    &FPS,
    &QUALITY,
    &SUBSAMPLING,
    &WORKERS,
    &IDLE_STOP,
    &DISPLAY,
    &REGION,
    &MONITOR,
    &NO_CURSOR,
    &FULL_FRAMES,
    &CONTROL,
    &DEVICE,
    &FORMAT,
    &ROTATE,
    &FLIP,
    &MIRROR,
    &SET,
    &CAMERA_CONTROLS,
    &LIST_DEVICES,
    &LIST_FORMATS,
    &LIST_CONTROLS,
    &LISTEN,
    &MAX_CLIENTS,
    &AUTH,
    &AUTH_FILE,
    &TLS_CERT,
    &TLS_KEY,
    &TLS_SELF_SIGNED,
    &STATE_DIR,
    &ALLOW_PLAIN_HTTP,
    &TRUSTED_PROXY,
    &LOG_LEVEL,
    &VERBOSE,
    &QUIET,
    &HELP,
    &VERSION,
    &GENERATE,
];

/// The flag called `--long`.
pub fn by_long(long: &str) -> Option<&'static Flag> {
    ALL.iter().copied().find(|f| f.long == long)
}

/// The flag called `-short`.
pub fn by_short(short: char) -> Option<&'static Flag> {
    ALL.iter().copied().find(|f| f.short == Some(short))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique() {
        let mut longs = HashSet::new();
        let mut shorts = HashSet::new();
        for f in ALL {
            assert!(longs.insert(f.long), "--{} twice", f.long);
            if let Some(s) = f.short {
                assert!(shorts.insert(s), "-{s} twice");
            }
            assert!(
                !f.long.starts_with('-') && !f.long.contains([' ', '=']),
                "--{}",
                f.long
            );
        }
    }

    #[test]
    fn each_category_keeps_its_flags_together() {
        // --help lists by category in table order: a flag out of its group would be shown far
        // from where the table puts it.
        let order: Vec<Category> = ALL.iter().map(|f| f.category).collect();
        let mut seen = Vec::new();
        for c in order {
            if seen.last() != Some(&c) {
                assert!(!seen.contains(&c), "{c:?} is split in the table");
                seen.push(c);
            }
        }
        assert_eq!(seen, Category::ALL, "categories in --help order");
    }

    #[test]
    fn docs_agree_with_ranges_and_choices() {
        for f in ALL {
            if let Some((min, max)) = f.range {
                assert!(
                    f.doc.contains(&format!("{min}-{max}")),
                    "--{}'s doc must say its range {min}-{max}",
                    f.long
                );
                assert!(f.value.is_some(), "--{} has a range but no value", f.long);
            }
            let choices = f.choice_list();
            if let Some(name) = f.value.filter(|v| v.contains('|') && !choices.is_empty()) {
                assert_eq!(name, choices.join("|"), "--{}'s value name", f.long);
            }
            if let DefaultValue::Value(d) = f.default
                && !choices.is_empty()
            {
                assert!(choices.contains(&d), "--{} defaults to {d}", f.long);
            }
            assert!(
                f.value.is_some() || (f.default == DefaultValue::None && choices.is_empty()),
                "--{} is a switch with a value's details",
                f.long
            );
            assert!(
                !f.doc.contains("{choices}") || !choices.is_empty(),
                "--{}",
                f.long
            );
        }
    }
}
