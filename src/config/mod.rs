//! Turns raw command-line arguments into a validated [`Config`], so the rest of the program
//! trusts its settings. Every flag is defined once, in [`flags`]; parsing is in two steps (as
//! ripgrep does): [`args`] collects raw values by the table, then each is checked once here; a
//! bad value becomes one [`ConfigError`] sentence naming the flag and what is allowed, and the
//! process exits with status 2. `--help`, the man page and the shell completions are made from
//! the same table ([`help`], [`man`], [`complete`]).

use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use log::LevelFilter;

use crate::geometry::DEFAULT_SIZE;
use crate::http::auth::Credentials;
use crate::image::CaptureFormat;
use crate::jpeg::{Quality, Subsampling};
use crate::orientation::Rotation;
use crate::source::Settings;
use crate::source::camera::{CameraSettings, FormatChoice};
use crate::source::pattern::PatternSettings;
use crate::source::screen::{ScreenArea, ScreenSettings};
use crate::tls::CertificateSource;

mod args;
mod complete;
pub mod flags;
mod help;
mod man;
mod secure;
mod values;

use args::RawArgs;
use flags::{Category, Flag};
pub use help::help;
pub use secure::default_state_dir;
use values::{parse_control, parse_credentials};
pub use values::{parse_listen, parse_region, parse_size};

/// Largest frame side we accept: JPEG's own limit is 65535, but nothing real is above 8K.
pub const MAX_SIDE: u32 = 8192;
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
    /// `--log-level`, `--verbose` or `--quiet`.
    pub log_level: LevelFilter,
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

/// What `--generate` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generated {
    Man,
    CompleteBash,
    CompleteZsh,
}

#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
    Generate(Generated),
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
    /// The man page's date: `$SOURCE_DATE_EPOCH` (reproducible builds), else now.
    pub date: SystemTime,
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
            date: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map_or_else(SystemTime::now, |secs| {
                    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
                }),
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
        args::Read::Generate(what) => generated(&what).map(Command::Generate),
        args::Read::Args(raw) => validate(*raw, env),
    }
}

/// The text `--generate` prints.
pub fn generate(what: Generated, env: &Env) -> String {
    match what {
        Generated::Man => man::page(env.date),
        Generated::CompleteBash => complete::bash(),
        Generated::CompleteZsh => complete::zsh(),
    }
}

fn generated(what: &str) -> Result<Generated, ConfigError> {
    match choice(&flags::GENERATE, Some(what))? {
        "man" => Ok(Generated::Man),
        "complete-bash" => Ok(Generated::CompleteBash),
        _ => Ok(Generated::CompleteZsh),
    }
}

/// The value of a flag that takes one of its table's choices (or its default), checked.
fn choice<'a>(flag: &Flag, text: Option<&'a str>) -> Result<&'a str, ConfigError> {
    let choices = flag.choice_list();
    match text {
        Some(t) if choices.contains(&t) => Ok(t),
        Some(t) => err(format!(
            "--{} {t:?}: expected {}",
            flag.long,
            flags::one_of(choices)
        )),
        None => err(format!("--{} needs a value", flag.long)),
    }
}

/// A whole number within the flag's range: the value given, else its default.
fn number(raw: &RawArgs, flag: &Flag) -> Result<Option<u32>, ConfigError> {
    let Some(text) = raw.value_or_default(flag) else {
        return Ok(None);
    };
    let (min, max) = flag.range.unwrap_or((0, u32::MAX));
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => err(format!(
            "--{} {text:?}: expected a whole number from {min} to {max}",
            flag.long
        )),
    }
}

/// [`number`] for a flag with a default in the table, so there always is one.
fn whole(raw: &RawArgs, flag: &Flag) -> Result<u32, ConfigError> {
    number(raw, flag)?.ok_or_else(|| ConfigError(format!("--{} needs a value", flag.long)))
}

fn validate(raw: RawArgs, env: &Env) -> Result<Command, ConfigError> {
    use flags::*;
    let device = PathBuf::from(raw.value_or_default(&DEVICE).unwrap_or_default());
    if raw.on(&LIST_DEVICES) {
        return Ok(Command::ListDevices);
    }
    if raw.on(&LIST_FORMATS) {
        return Ok(Command::ListFormats(device));
    }
    if raw.on(&LIST_CONTROLS) {
        return Ok(Command::ListControls(device));
    }
    let kind = source_kind(&raw)?;
    check_source_flags(&raw, kind)?;
    let listen = parse_listen(raw.value_or_default(&LISTEN).unwrap_or_default())?;
    let size = raw.value(&SIZE).map(parse_size).transpose()?;
    let fps = whole(&raw, &FPS)?;
    let subsampling = subsampling(&raw)?;
    let source = match kind {
        SourceKind::Pattern => Settings::Pattern(PatternSettings {
            size: size.unwrap_or(DEFAULT_SIZE),
            fps,
        }),
        SourceKind::Screen => Settings::Screen(ScreenSettings {
            display: raw
                .value(&DISPLAY)
                .map(str::to_string)
                .or_else(|| env.display.clone()),
            area: screen_area(raw.value(&REGION), raw.value(&MONITOR))?,
            cursor: !raw.on(&NO_CURSOR),
            max_fps: fps,
            band_rows: (!raw.on(&FULL_FRAMES)).then(|| subsampling.mcu_height()),
        }),
        SourceKind::Camera => Settings::Camera(CameraSettings {
            device,
            format: format_choice(&raw)?,
            size,
            fps,
            flip: raw.on(&FLIP),
            mirror: raw.on(&MIRROR),
            rotate: rotation(&raw)?,
            controls: raw
                .values(&SET)
                .map(parse_control)
                .collect::<Result<Vec<_>, _>>()?,
        }),
    };
    let quality = whole(&raw, &QUALITY)?;
    let auth = credentials(&raw, env)?;
    let tls = secure::tls(&raw, env.state_dir.clone())?;
    let allow_plain_http = raw.on(&ALLOW_PLAIN_HTTP);
    if allow_plain_http && tls.is_some() {
        return err("--allow-plain-http contradicts --tls-cert/--tls-self-signed: pick one");
    }
    let trusted_proxy = secure::trusted_proxy(&raw)?;
    let control = raw.on(&CONTROL);
    if control {
        secure::check_control(
            listen,
            auth.as_ref(),
            tls.as_ref(),
            allow_plain_http,
            trusted_proxy,
        )?;
    }
    let camera_controls = raw.on(&CAMERA_CONTROLS);
    if camera_controls && auth.is_none() && !listen.ip().is_loopback() {
        return err(format!(
            "--camera-controls on {listen} would let anyone on the network change the camera's settings: add a password (--auth-file FILE, DESKCAM_AUTH or --auth USER:PASSWORD), or listen on 127.0.0.1"
        ));
    }
    Ok(Command::Run(Box::new(Config {
        source,
        listen,
        quality: Quality::new(quality as u8).ok_or_else(|| ConfigError("--quality".into()))?,
        subsampling,
        max_clients: whole(&raw, &MAX_CLIENTS)? as usize,
        idle_stop: Duration::from_secs(whole(&raw, &IDLE_STOP)?.into()),
        workers: match number(&raw, &WORKERS)? {
            Some(n) => n as usize,
            None => env
                .cpus
                .clamp(1, WORKERS.range.map_or(1, |(_, max)| max) as usize),
        },
        log_level: log_level(&raw)?,
        camera_controls,
        control,
        auth,
        tls,
        trusted_proxy,
    })))
}

fn source_kind(raw: &RawArgs) -> Result<SourceKind, ConfigError> {
    let flag = &flags::SOURCE;
    Ok(match choice(flag, raw.value_or_default(flag))? {
        "screen" => SourceKind::Screen,
        "camera" => SourceKind::Camera,
        _ => SourceKind::Pattern,
    })
}

fn subsampling(raw: &RawArgs) -> Result<Subsampling, ConfigError> {
    let flag = &flags::SUBSAMPLING;
    Ok(match choice(flag, raw.value_or_default(flag))? {
        "422" => Subsampling::S422,
        "444" => Subsampling::S444,
        _ => Subsampling::S420,
    })
}

fn screen_area(region: Option<&str>, monitor: Option<&str>) -> Result<ScreenArea, ConfigError> {
    match (region, monitor) {
        (Some(_), Some(_)) => err("--region and --monitor cannot be used together"),
        (Some(r), None) => Ok(ScreenArea::Region(parse_region(r)?)),
        (None, Some("")) => err("--monitor needs a name or an index"),
        (None, Some(m)) => Ok(ScreenArea::Monitor(m.to_string())),
        (None, None) => Ok(ScreenArea::Whole),
    }
}

/// `--format`: one of the table's choices, or another spelling `v4l2-ctl` users type (`YU12`,
/// `gray`).
fn format_choice(raw: &RawArgs) -> Result<FormatChoice, ConfigError> {
    let flag = &flags::FORMAT;
    match raw.value_or_default(flag) {
        Some("auto") => Ok(FormatChoice::Auto),
        text => match text.and_then(CaptureFormat::from_flag) {
            Some(format) => Ok(FormatChoice::Only(format)),
            None => choice(flag, text).map(|_| FormatChoice::Auto),
        },
    }
}

fn rotation(raw: &RawArgs) -> Result<Rotation, ConfigError> {
    match raw.value(&flags::ROTATE) {
        None | Some("0") => Ok(Rotation::R0),
        Some("90") => Ok(Rotation::R90),
        Some("180") => Ok(Rotation::R180),
        Some("270") => Ok(Rotation::R270),
        Some(other) => err(format!(
            "--rotate {other:?}: expected 90, 180 or 270 (degrees clockwise)"
        )),
    }
}

/// `--log-level`, `--verbose` or `--quiet`: one of them, as often as liked.
fn log_level(raw: &RawArgs) -> Result<LevelFilter, ConfigError> {
    let flag = &flags::LOG_LEVEL;
    let mut chosen = Vec::new();
    if raw.on(flag) {
        chosen.push((flag, choice(flag, raw.value(flag))?));
    }
    if raw.on(&flags::VERBOSE) {
        chosen.push((&flags::VERBOSE, "debug"));
    }
    if raw.on(&flags::QUIET) {
        chosen.push((&flags::QUIET, "warn"));
    }
    match chosen[..] {
        [] => Ok(level(choice(flag, raw.value_or_default(flag))?)),
        [(_, name)] => Ok(level(name)),
        [(a, _), (b, _), ..] => err(format!(
            "--{} and --{} each set how much is logged: give one",
            a.long, b.long
        )),
    }
}

fn level(name: &str) -> LevelFilter {
    match name {
        "error" => LevelFilter::Error,
        "warn" => LevelFilter::Warn,
        "debug" => LevelFilter::Debug,
        _ => LevelFilter::Info,
    }
}

/// A flag of the Screen or Camera section is refused with another source, rather than
/// silently ignored (the `--list-*` ones have answered before this).
fn check_source_flags(raw: &RawArgs, source: SourceKind) -> Result<(), ConfigError> {
    for (category, needs, name) in [
        (Category::Screen, SourceKind::Screen, "screen"),
        (Category::Camera, SourceKind::Camera, "camera"),
    ] {
        let stray = flags::ALL
            .iter()
            .find(|f| f.category == category && source != needs && raw.on(f));
        if let Some(flag) = stray {
            return err(format!("--{} needs --source {name}", flag.long));
        }
    }
    if source == SourceKind::Screen && raw.on(&flags::SIZE) {
        return err(
            "--size does not apply to --source screen (it streams the real screen size; use --region or --monitor for a part)",
        );
    }
    Ok(())
}

/// `--auth`, `--auth-file` or `DESKCAM_AUTH`, in that order; never echoed.
fn credentials(raw: &RawArgs, env: &Env) -> Result<Option<Credentials>, ConfigError> {
    match (raw.value(&flags::AUTH), raw.value(&flags::AUTH_FILE)) {
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
