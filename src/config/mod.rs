//! Turns raw command-line arguments into a validated [`Config`], so the rest of the program
//! trusts its settings. Parsing is in two steps (as ripgrep does): `lexopt` collects raw values,
//! then each is checked once here; a bad value becomes one [`ConfigError`] sentence naming the
//! flag and what is allowed, and the process exits with status 2.

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::geometry::{Region, Resolution};
use crate::image::{CaptureFormat, PixelFormat};
use crate::jpeg::{Quality, Subsampling};

mod help;
mod values;

pub use help::HELP;
use values::{number, parse_credentials};
pub use values::{parse_listen, parse_region, parse_size};

/// Default listen address: every interface, as mjpg-streamer and ustreamer users expect.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
pub const DEFAULT_SIZE: Resolution = Resolution {
    width: 1280,
    height: 720,
};
pub const DEFAULT_FPS: u32 = 30;
pub const DEFAULT_QUALITY: u8 = 80;
pub const DEFAULT_MAX_CLIENTS: usize = 64;
/// Seconds without clients before the source stops capturing (camera LED off, no CPU).
pub const DEFAULT_IDLE_STOP_SECS: u64 = 10;
/// Largest frame side we accept: JPEG's own limit is 65535, but nothing real is above 8K.
pub const MAX_SIDE: u32 = 8192;
pub const MAX_FPS: u32 = 1000;
pub const MAX_CLIENTS_LIMIT: usize = 10_000;
pub const MAX_WORKERS: usize = 64;
/// Environment variable holding `user:password`, so credentials stay out of `ps`.
pub const AUTH_ENV: &str = "DESKCAM_AUTH";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Pattern,
    Screen,
    Camera,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Pattern => "pattern",
            SourceKind::Screen => "screen",
            SourceKind::Camera => "camera",
        }
    }
}

/// What part of the screen to stream: a rectangle, or a RandR monitor by name or index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScreenArea {
    Whole,
    Region(Region),
    Monitor(String),
}

/// Which camera format the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatChoice {
    /// The camera's own MJPEG where it offers the size, else what is cheapest to encode.
    Auto,
    Only(CaptureFormat),
}

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    /// Never print the password, even in a debug dump.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({:?}, <hidden>)", self.user)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub source: SourceKind,
    pub listen: SocketAddr,
    /// `None` when the user gave no `--size`: the pattern uses [`DEFAULT_SIZE`], a camera its
    /// nearest mode to it, the screen its real size.
    pub size: Option<Resolution>,
    pub fps: u32,
    pub quality: Quality,
    pub subsampling: Subsampling,
    pub max_clients: usize,
    /// Zero means never stop.
    pub idle_stop: Duration,
    pub workers: usize,
    pub quiet: bool,
    pub display: Option<String>,
    pub area: ScreenArea,
    pub cursor: bool,
    pub device: PathBuf,
    pub camera_format: FormatChoice,
    pub flip: bool,
    pub mirror: bool,
    pub control: bool,
    pub auth: Option<Credentials>,
}

#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
    ListDevices,
    ListFormats(PathBuf),
}

/// A user mistake on the command line: one sentence, exit status 2.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (see --help)", self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// Raw values as the user typed them, before validation.
#[derive(Default)]
struct RawArgs {
    source: Option<String>,
    listen: Option<String>,
    size: Option<String>,
    fps: Option<String>,
    quality: Option<String>,
    subsampling: Option<String>,
    max_clients: Option<String>,
    idle_stop: Option<String>,
    workers: Option<String>,
    quiet: bool,
    display: Option<String>,
    region: Option<String>,
    monitor: Option<String>,
    no_cursor: bool,
    device: Option<String>,
    format: Option<String>,
    flip: bool,
    mirror: bool,
    control: bool,
    auth: Option<String>,
    auth_file: Option<String>,
    list_devices: bool,
    list_formats: bool,
}

/// The environment the config may read: passed in so tests need not touch the process's own.
pub struct Env {
    pub display: Option<String>,
    pub auth: Option<String>,
    pub cpus: usize,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            display: std::env::var("DISPLAY").ok().filter(|d| !d.is_empty()),
            auth: std::env::var(AUTH_ENV).ok().filter(|a| !a.is_empty()),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Parses `args` (without the program name).
pub fn parse<I>(args: I, env: &Env) -> Result<Command, ConfigError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;
    let mut raw = RawArgs::default();
    let mut parser = lexopt::Parser::from_args(args);
    loop {
        let arg = match parser.next() {
            Ok(Some(arg)) => arg,
            Ok(None) => break,
            Err(e) => return err(e.to_string()),
        };
        let slot = match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("quiet") | Short('q') => {
                raw.quiet = true;
                continue;
            }
            Long("no-cursor") => {
                raw.no_cursor = true;
                continue;
            }
            Long("flip") => {
                raw.flip = true;
                continue;
            }
            Long("mirror") => {
                raw.mirror = true;
                continue;
            }
            Long("control") => {
                raw.control = true;
                continue;
            }
            Long("list-devices") => {
                raw.list_devices = true;
                continue;
            }
            Long("list-formats") => {
                raw.list_formats = true;
                continue;
            }
            Long("source") => &mut raw.source,
            Long("listen") => &mut raw.listen,
            Long("size") => &mut raw.size,
            Long("fps") => &mut raw.fps,
            Long("quality") => &mut raw.quality,
            Long("subsampling") => &mut raw.subsampling,
            Long("max-clients") => &mut raw.max_clients,
            Long("idle-stop") => &mut raw.idle_stop,
            Long("workers") => &mut raw.workers,
            Long("display") => &mut raw.display,
            Long("region") => &mut raw.region,
            Long("monitor") => &mut raw.monitor,
            Long("device") => &mut raw.device,
            Long("format") => &mut raw.format,
            Long("auth") => &mut raw.auth,
            Long("auth-file") => &mut raw.auth_file,
            // Not echoed: a value typed without its flag may be a password (`--control me:pw`).
            Value(_) => {
                return err(
                    "unexpected argument without a flag (flags start with --; a value follows its flag)",
                );
            }
            other => return err(other.unexpected().to_string()),
        };
        let value = match parser.value() {
            Ok(v) => v,
            Err(e) => return err(e.to_string()),
        };
        match value.into_string() {
            Ok(v) => *slot = Some(v),
            Err(v) => return err(format!("value {:?} is not valid UTF-8", v)),
        }
    }
    validate(raw, env)
}

fn validate(raw: RawArgs, env: &Env) -> Result<Command, ConfigError> {
    let device = PathBuf::from(raw.device.as_deref().unwrap_or("/dev/video0"));
    if raw.list_devices {
        return Ok(Command::ListDevices);
    }
    if raw.list_formats {
        return Ok(Command::ListFormats(device));
    }
    let source = source_kind(raw.source.as_deref())?;
    let listen = parse_listen(raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN))?;
    let size = raw.size.as_deref().map(parse_size).transpose()?;
    let area = screen_area(raw.region.as_deref(), raw.monitor.clone())?;
    let camera_format = format_choice(raw.format.as_deref())?;
    check_source_flags(&raw, source, size.is_some())?;
    let numbers = numbers(&raw, env)?;
    let subsampling = subsampling(raw.subsampling.as_deref())?;
    let auth = credentials(&raw, env)?;
    if raw.control && auth.is_none() && !listen.ip().is_loopback() {
        return err(format!(
            "--control on {listen} would let anyone on the network use this desktop: add --auth USER:PASSWORD, or listen on 127.0.0.1"
        ));
    }
    Ok(Command::Run(Box::new(Config {
        source,
        listen,
        size,
        fps: numbers.fps,
        quality: numbers.quality,
        subsampling,
        max_clients: numbers.max_clients,
        idle_stop: numbers.idle_stop,
        workers: numbers.workers,
        quiet: raw.quiet,
        display: raw.display.or_else(|| env.display.clone()),
        area,
        cursor: !raw.no_cursor,
        device,
        camera_format,
        flip: raw.flip,
        mirror: raw.mirror,
        control: raw.control,
        auth,
    })))
}

fn source_kind(text: Option<&str>) -> Result<SourceKind, ConfigError> {
    match text {
        None | Some("pattern") => Ok(SourceKind::Pattern),
        Some("screen") => Ok(SourceKind::Screen),
        Some("camera") => Ok(SourceKind::Camera),
        Some(other) => err(format!(
            "--source {other:?}: expected pattern, screen or camera"
        )),
    }
}

fn subsampling(text: Option<&str>) -> Result<Subsampling, ConfigError> {
    match text {
        None | Some("420") => Ok(Subsampling::S420),
        Some("422") => Ok(Subsampling::S422),
        Some("444") => Ok(Subsampling::S444),
        Some(other) => err(format!("--subsampling {other:?}: expected 420, 422 or 444")),
    }
}

fn screen_area(region: Option<&str>, monitor: Option<String>) -> Result<ScreenArea, ConfigError> {
    match (region, monitor) {
        (Some(_), Some(_)) => err("--region and --monitor cannot be used together"),
        (Some(r), None) => Ok(ScreenArea::Region(parse_region(r)?)),
        (None, Some(m)) if m.is_empty() => err("--monitor needs a name or an index"),
        (None, Some(m)) => Ok(ScreenArea::Monitor(m)),
        (None, None) => Ok(ScreenArea::Whole),
    }
}

fn format_choice(text: Option<&str>) -> Result<FormatChoice, ConfigError> {
    match text {
        None | Some("auto") => Ok(FormatChoice::Auto),
        Some("mjpeg") => Ok(FormatChoice::Only(CaptureFormat::Mjpeg)),
        Some("yuyv") => Ok(FormatChoice::Only(CaptureFormat::Raw(PixelFormat::Yuyv))),
        Some(other) => err(format!("--format {other:?}: expected auto, mjpeg or yuyv")),
    }
}

/// Flags that only mean something for one source are refused with another, rather than
/// silently ignored.
fn check_source_flags(
    raw: &RawArgs,
    source: SourceKind,
    has_size: bool,
) -> Result<(), ConfigError> {
    let screen_only = [
        ("--display", raw.display.is_some()),
        ("--region", raw.region.is_some()),
        ("--monitor", raw.monitor.is_some()),
        ("--no-cursor", raw.no_cursor),
        ("--control", raw.control),
    ];
    let camera_only = [
        ("--device", raw.device.is_some()),
        ("--format", raw.format.is_some()),
        ("--flip", raw.flip),
        ("--mirror", raw.mirror),
    ];
    for (flags, needs) in [
        (&screen_only[..], SourceKind::Screen),
        (&camera_only[..], SourceKind::Camera),
    ] {
        if let Some((flag, _)) = flags.iter().find(|(_, given)| *given && source != needs) {
            return err(format!("{flag} needs --source {}", needs.name()));
        }
    }
    if source == SourceKind::Screen && has_size {
        return err(
            "--size does not apply to --source screen (it streams the real screen size; use --region or --monitor for a part)",
        );
    }
    Ok(())
}

/// The numeric flags, each within its range.
struct Numbers {
    fps: u32,
    quality: Quality,
    max_clients: usize,
    idle_stop: Duration,
    workers: usize,
}

fn numbers(raw: &RawArgs, env: &Env) -> Result<Numbers, ConfigError> {
    let quality = number(
        "--quality",
        raw.quality.as_deref(),
        DEFAULT_QUALITY as u32,
        1,
        100,
    )?;
    Ok(Numbers {
        fps: number("--fps", raw.fps.as_deref(), DEFAULT_FPS, 1, MAX_FPS)?,
        quality: Quality::new(quality as u8).ok_or_else(|| ConfigError("--quality".into()))?,
        max_clients: number(
            "--max-clients",
            raw.max_clients.as_deref(),
            DEFAULT_MAX_CLIENTS as u32,
            1,
            MAX_CLIENTS_LIMIT as u32,
        )? as usize,
        idle_stop: Duration::from_secs(number(
            "--idle-stop",
            raw.idle_stop.as_deref(),
            DEFAULT_IDLE_STOP_SECS as u32,
            0,
            86_400,
        )? as u64),
        workers: number(
            "--workers",
            raw.workers.as_deref(),
            env.cpus.clamp(1, MAX_WORKERS) as u32,
            1,
            MAX_WORKERS as u32,
        )? as usize,
    })
}

/// `--auth`, `--auth-file` or `DESKCAM_AUTH`, in that order; never echoed.
fn credentials(raw: &RawArgs, env: &Env) -> Result<Option<Credentials>, ConfigError> {
    match (&raw.auth, &raw.auth_file) {
        (Some(_), Some(_)) => err("--auth and --auth-file cannot be used together"),
        (Some(a), None) => Ok(Some(parse_credentials("--auth", a)?)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("--auth-file {path:?}: {e}")))?;
            let line = text.lines().next().unwrap_or("");
            Ok(Some(parse_credentials("--auth-file", line)?))
        }
        (None, None) => env
            .auth
            .as_deref()
            .map(|a| parse_credentials(AUTH_ENV, a))
            .transpose(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn env() -> Env {
        Env {
            display: Some(":0".into()),
            auth: None,
            cpus: 2,
        }
    }

    fn run(args: &[&str]) -> Result<Config, ConfigError> {
        match parse(args.iter().map(|s| s.to_string()), &env())? {
            Command::Run(c) => Ok(*c),
            other => panic!("expected a run command, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let c = run(&[]).unwrap();
        assert_eq!(c.source, SourceKind::Pattern);
        assert_eq!(c.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.size, None);
        assert_eq!(c.fps, 30);
        assert_eq!(c.quality.get(), 80);
        assert_eq!(c.max_clients, 64);
        assert_eq!(c.idle_stop, Duration::from_secs(10));
        assert_eq!(c.workers, 2);
        assert!(!c.control);
        assert!(c.auth.is_none());
    }

    #[test]
    fn values_are_parsed() {
        let c = run(&[
            "--size",
            "640x480",
            "--fps=15",
            "--quality",
            "55",
            "--listen",
            "127.0.0.1:0",
            "--max-clients",
            "3",
        ])
        .unwrap();
        assert_eq!(
            c.size,
            Some(Resolution {
                width: 640,
                height: 480
            })
        );
        assert_eq!(c.fps, 15);
        assert_eq!(c.quality.get(), 55);
        assert_eq!(c.max_clients, 3);
        assert_eq!(c.listen.port(), 0);
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, flag) in [
            (&["--fps", "0"][..], "--fps"),
            (&["--fps", "abc"][..], "--fps"),
            (&["--quality", "101"][..], "--quality"),
            (&["--size", "1280"][..], "--size"),
            (&["--size", "8x8"][..], "--size"),
            (&["--size", "100000x10"][..], "--size"),
            (&["--listen", "nowhere"][..], "--listen"),
            (&["--source", "webcam"][..], "--source"),
            (&["--max-clients", "0"][..], "--max-clients"),
            (&["--subsampling", "411"][..], "--subsampling"),
            (&["--bogus"][..], "--bogus"),
            (&["--fps"][..], "--fps"),
        ] {
            let e = run(args).unwrap_err();
            assert!(e.to_string().contains(flag), "{args:?} gave {e}");
        }
    }

    #[test]
    fn listen_forms() {
        let p = |t| parse_listen(t).map(|a| a.to_string());
        assert_eq!(p("8080").unwrap(), "0.0.0.0:8080");
        assert_eq!(p(":9000").unwrap(), "0.0.0.0:9000");
        assert_eq!(p("127.0.0.1:0").unwrap(), "127.0.0.1:0");
        assert_eq!(p("[::1]:8080").unwrap(), "[::1]:8080");
        assert!(parse_listen("localhost:8080").unwrap().ip().is_loopback());
        for bad in ["", "nowhere", "localhost", "1.2.3.4:99999", "host:"] {
            assert!(
                parse_listen(bad).unwrap_err().0.contains("--listen"),
                "{bad}"
            );
        }
    }

    #[test]
    fn stray_values_are_not_echoed() {
        let e = run(&["--control", "me:secret"]).unwrap_err();
        assert!(!e.0.contains("secret"), "{e}");
    }

    #[test]
    fn source_specific_flags_need_their_source() {
        assert!(
            run(&["--device", "/dev/video1"])
                .unwrap_err()
                .0
                .contains("--source camera")
        );
        assert!(
            run(&["--control"])
                .unwrap_err()
                .0
                .contains("--source screen")
        );
        assert!(run(&["--source", "screen", "--size", "640x480"]).is_err());
        assert!(run(&["--source", "camera", "--device", "/dev/video1", "--flip"]).is_ok());
    }

    #[test]
    fn control_on_network_needs_auth() {
        let e = run(&["--source", "screen", "--control"]).unwrap_err();
        assert!(e.0.contains("--auth"), "{e}");
        assert!(
            run(&[
                "--source",
                "screen",
                "--control",
                "--listen",
                "127.0.0.1:8080"
            ])
            .is_ok()
        );
        let c = run(&["--source", "screen", "--control", "--auth", "me:secret"]).unwrap();
        assert_eq!(c.auth.unwrap().password, "secret");
    }

    #[test]
    fn credentials_are_never_echoed() {
        let e = run(&["--auth", "nocolon-secret"]).unwrap_err();
        assert!(!e.to_string().contains("secret"));
        assert!(
            !format!(
                "{:?}",
                Credentials {
                    user: "u".into(),
                    password: "pw123".into()
                }
            )
            .contains("pw123")
        );
    }

    #[test]
    fn region_and_monitor() {
        let c = run(&["--source", "screen", "--region", "800x600+10+20"]).unwrap();
        assert_eq!(
            c.area,
            ScreenArea::Region(Region {
                x: 10,
                y: 20,
                width: 800,
                height: 600
            })
        );
        assert!(run(&["--source", "screen", "--region", "800x600"]).is_err());
        assert!(run(&["--source", "screen", "--region", "1x1+0+0"]).is_err());
        let c = run(&["--source", "screen", "--monitor", "HDMI-1"]).unwrap();
        assert_eq!(c.area, ScreenArea::Monitor("HDMI-1".into()));
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(parse(["--help"], &env()), Ok(Command::Help)));
        assert!(matches!(parse(["-V"], &env()), Ok(Command::Version)));
        assert!(
            matches!(parse(["--list-formats", "--device", "/dev/video3"], &env()), Ok(Command::ListFormats(p)) if p == Path::new("/dev/video3"))
        );
    }
}
