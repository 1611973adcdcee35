//! Turns raw command-line arguments into a validated [`Config`], so the rest of the program
//! trusts its settings. Parsing is in two steps (as ripgrep does): `lexopt` collects raw values,
//! then each is checked once here; a bad value becomes one [`ConfigError`] sentence naming the
//! flag and what is allowed, and the process exits with status 2.

use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::geometry::DEFAULT_SIZE;
use crate::http::auth::Credentials;
use crate::image::{CAMERA_PIXEL_FORMATS, CaptureFormat};
use crate::jpeg::{Quality, Subsampling};
use crate::orientation::Rotation;
use crate::source::Settings;
use crate::source::camera::{CameraSettings, FormatChoice};
use crate::source::pattern::PatternSettings;
use crate::source::screen::{ScreenArea, ScreenSettings};
use crate::tls::CertificateSource;

mod args;
mod help;
mod secure;
mod values;

use args::RawArgs;
pub use help::HELP;
pub use secure::default_state_dir;
use values::{number, parse_control, parse_credentials};
pub use values::{parse_listen, parse_region, parse_size};

/// Default listen address: every interface, as mjpg-streamer and ustreamer users expect.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
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

/// The validated command line. The source's own settings are in [`Config::source`]: each
/// source is handed only those.
#[derive(Clone, Debug)]
pub struct Config {
    pub source: Settings,
    pub listen: SocketAddr,
    pub quality: Quality,
    pub subsampling: Subsampling,
    pub max_clients: usize,
    /// Zero means never stop.
    pub idle_stop: Duration,
    pub workers: usize,
    pub quiet: bool,
    /// `--camera-controls`: viewers may change the camera's controls (`POST /camera/controls`).
    pub camera_controls: bool,
    pub control: bool,
    pub auth: Option<Credentials>,
    /// Set by `--tls-cert`/`--tls-key` or `--tls-self-signed`: every endpoint is HTTPS.
    pub tls: Option<CertificateSource>,
    /// `--trusted-proxy`: requests from this address name their client in `X-Forwarded-For`.
    pub trusted_proxy: Option<IpAddr>,
}

/// Which source `--source` names, before its settings are gathered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SourceKind {
    Pattern,
    Screen,
    Camera,
}

impl SourceKind {
    fn name(self) -> &'static str {
        match self {
            SourceKind::Pattern => "pattern",
            SourceKind::Screen => "screen",
            SourceKind::Camera => "camera",
        }
    }
}

#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
    ListDevices,
    ListFormats(PathBuf),
    ListControls(PathBuf),
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

/// The environment the config may read: passed in so tests need not touch the process's own.
pub struct Env {
    pub display: Option<String>,
    pub auth: Option<String>,
    pub cpus: usize,
    /// Where `--tls-self-signed` keeps its certificate unless `--state-dir` says otherwise.
    pub state_dir: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            display: std::env::var("DISPLAY").ok().filter(|d| !d.is_empty()),
            auth: std::env::var(AUTH_ENV).ok().filter(|a| !a.is_empty()),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            state_dir: default_state_dir(
                std::env::var("STATE_DIRECTORY").ok().as_deref(),
                std::env::var("XDG_STATE_HOME").ok().as_deref(),
                std::env::var("HOME").ok().as_deref(),
            ),
        }
    }
}

/// Parses `args` (without the program name).
pub fn parse<I>(args: I, env: &Env) -> Result<Command, ConfigError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    match args::read(args)? {
        args::Read::Help => Ok(Command::Help),
        args::Read::Version => Ok(Command::Version),
        args::Read::Args(raw) => validate(*raw, env),
    }
}

fn validate(raw: RawArgs, env: &Env) -> Result<Command, ConfigError> {
    let device = PathBuf::from(raw.device.as_deref().unwrap_or("/dev/video0"));
    if raw.list_devices {
        return Ok(Command::ListDevices);
    }
    if raw.list_formats {
        return Ok(Command::ListFormats(device));
    }
    if raw.list_controls {
        return Ok(Command::ListControls(device));
    }
    let kind = source_kind(raw.source.as_deref())?;
    let listen = parse_listen(raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN))?;
    let size = raw.size.as_deref().map(parse_size).transpose()?;
    let area = screen_area(raw.region.as_deref(), raw.monitor.clone())?;
    let camera_format = format_choice(raw.format.as_deref())?;
    let rotate = rotation(raw.rotate.as_deref())?;
    let controls = raw
        .set
        .iter()
        .map(|s| parse_control(s))
        .collect::<Result<Vec<_>, _>>()?;
    check_source_flags(&raw, kind, size.is_some())?;
    let numbers = numbers(&raw, env)?;
    let subsampling = subsampling(raw.subsampling.as_deref())?;
    let source = match kind {
        SourceKind::Pattern => Settings::Pattern(PatternSettings {
            size: size.unwrap_or(DEFAULT_SIZE),
            fps: numbers.fps,
        }),
        SourceKind::Screen => Settings::Screen(ScreenSettings {
            display: raw.display.clone().or_else(|| env.display.clone()),
            area,
            cursor: !raw.no_cursor,
            max_fps: numbers.fps,
            band_rows: (!raw.full_frames).then(|| subsampling.mcu_height()),
        }),
        SourceKind::Camera => Settings::Camera(CameraSettings {
            device: device.clone(),
            format: camera_format,
            size,
            fps: numbers.fps,
            flip: raw.flip,
            mirror: raw.mirror,
            rotate,
            controls,
        }),
    };
    let auth = credentials(&raw, env)?;
    let tls = secure::tls(&raw, env.state_dir.clone())?;
    if raw.allow_plain_http && tls.is_some() {
        return err("--allow-plain-http contradicts --tls-cert/--tls-self-signed: pick one");
    }
    let trusted_proxy = secure::trusted_proxy(&raw)?;
    if raw.control {
        secure::check_control(
            listen,
            auth.as_ref(),
            tls.as_ref(),
            raw.allow_plain_http,
            trusted_proxy,
        )?;
    }
    if raw.camera_controls && auth.is_none() && !listen.ip().is_loopback() {
        return err(format!(
            "--camera-controls on {listen} would let anyone on the network change the camera's settings: add a password (--auth-file FILE, DESKCAM_AUTH or --auth USER:PASSWORD), or listen on 127.0.0.1"
        ));
    }
    Ok(Command::Run(Box::new(Config {
        source,
        listen,
        quality: numbers.quality,
        subsampling,
        max_clients: numbers.max_clients,
        idle_stop: numbers.idle_stop,
        workers: numbers.workers,
        quiet: raw.quiet,
        camera_controls: raw.camera_controls,
        control: raw.control,
        auth,
        tls,
        trusted_proxy,
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
        Some(other) => match CaptureFormat::from_flag(other) {
            Some(format) => Ok(FormatChoice::Only(format)),
            None => {
                let names: Vec<String> = CAMERA_PIXEL_FORMATS
                    .iter()
                    .map(|p| CaptureFormat::Raw(*p).flag())
                    .collect();
                err(format!(
                    "--format {other:?}: expected auto, mjpeg, {}",
                    names.join(", ")
                ))
            }
        },
    }
}

fn rotation(text: Option<&str>) -> Result<Rotation, ConfigError> {
    match text {
        None | Some("0") => Ok(Rotation::R0),
        Some("90") => Ok(Rotation::R90),
        Some("180") => Ok(Rotation::R180),
        Some("270") => Ok(Rotation::R270),
        Some(other) => err(format!(
            "--rotate {other:?}: expected 90, 180 or 270 (degrees clockwise)"
        )),
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
        ("--full-frames", raw.full_frames),
        ("--control", raw.control),
    ];
    let camera_only = [
        ("--device", raw.device.is_some()),
        ("--format", raw.format.is_some()),
        ("--flip", raw.flip),
        ("--mirror", raw.mirror),
        ("--rotate", raw.rotate.is_some()),
        ("--set", !raw.set.is_empty()),
        ("--camera-controls", raw.camera_controls),
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
mod tests;
