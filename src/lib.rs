//! deskcam streams a camera, an X11 desktop or a test pattern to browsers and video tools as
//! MJPEG, and lets authorised viewers control the desktop.
//!
//! From the top: [`config`] validates the command line; the [`pipeline`] runs a [`source`] in
//! one thread, [`encode`] turns its pictures into JPEG on a pool of threads and the [`hub`]
//! keeps the newest frame; [`http`] serves it to every client from its own thread, and with
//! `--control` hands viewers' events to [`input`]. Value types ([`geometry`], [`image`],
//! [`frame`], [`jpeg`]) and helpers ([`sync`], [`json`], [`rate`], [`clock`]) sit at the bottom;
//! [`viewers`] and [`status`] are what the HTTP side reads besides the frames.

pub mod clock;
pub mod config;
pub mod encode;
pub mod frame;
pub mod geometry;
pub mod http;
pub mod hub;
pub mod image;
pub mod input;
pub mod jpeg;
pub mod json;
pub mod logger;
pub mod orientation;
pub mod pipeline;
pub mod rate;
pub mod source;
pub mod status;
pub mod sync;
pub mod tls;
pub mod viewers;

use std::fmt;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread;

use config::Config;
use encode::EncodeSettings;
use encode::pool::{EncoderPool, Sink};
use hub::Hub;
use pipeline::Pipeline;
use source::SourceError;
use status::SourceStatus;
use viewers::Viewers;

/// Why deskcam could not run, as one sentence for the user.
#[derive(Debug)]
pub enum Error {
    /// The source cannot be used (no display, no camera, unsupported setting).
    Source(SourceError),
    /// `--control` cannot inject input into the display.
    Input(input::InjectError),
    /// The address cannot be served.
    Bind(std::net::SocketAddr, std::io::Error),
    /// HTTPS cannot be served (a certificate file, the state folder).
    Tls(tls::TlsError),
    Io(String, std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Source(e) => write!(f, "{e}"),
            Error::Input(e) => write!(f, "--control: {e}"),
            Error::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            Error::Tls(e) => write!(f, "HTTPS: {e}"),
            Error::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// 2 for what the user can fix in the command line or setup, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Source(_) | Error::Input(_) | Error::Tls(_) => 2,
            Error::Bind(..) | Error::Io(..) => 1,
        }
    }
}

/// Raises the soft open-file limit to the hard one: every client is a socket, and beyond the
/// limit newcomers can only be turned away (503).
fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            log::warn!("cannot raise the open-file limit: {e}");
        }
    }
}

/// Runs the server until SIGINT or SIGTERM.
pub fn run(config: Config) -> Result<ExitCode, Error> {
    raise_fd_limit();
    let mut source = source::new(&config.source).map_err(Error::Source)?;
    // Open once up front so a wrong device or display is one clear message at start, not a
    // "NO SIGNAL" picture nobody asked for.
    source.open().map_err(Error::Source)?;
    let input = start_control(&config)?;
    let camera_controls = source
        .camera_controls()
        .map(|store| http::camera_controls::Access::new(store, config.camera_controls));
    let (tls, certs) = start_tls(&config)?;
    let listener =
        http::bind(config.listen, tls.clone()).map_err(|e| Error::Bind(config.listen, e))?;

    let hub = Hub::new();
    let viewers = Viewers::new();
    let status = Arc::new(SourceStatus::default());
    // Published before serving (the capture thread does it again on every reopen), so the
    // first POST /input cannot find the streamed area unknown while that thread starts.
    status.set_area(source.area());
    let stop_listener = listener.stopper();
    let stop: Arc<dyn Fn() + Send + Sync> = {
        let (hub, viewers) = (hub.clone(), viewers.clone());
        Arc::new(move || {
            hub.shutdown();
            viewers.close();
            stop_listener();
        })
    };
    let capture = start_capture(&config, source, &hub, &viewers, &status, stop.clone())?;
    let hangups = {
        let hub = hub.clone();
        http::hangup::Hangups::start(Box::new(move || hub.wake_all()))
            .map_err(|e| Error::Io("cannot watch client sockets".into(), e))?
    };
    on_signals(stop.clone(), certs)
        .map_err(|e| Error::Io("cannot install the signal handler".into(), e))?;

    // Printed even with --quiet: with --listen ...:0 it is the only way to learn the port.
    let _ = writeln!(
        std::io::stderr(),
        "deskcam: serving {} on {}://{}/",
        config.source.name(),
        if tls.is_some() { "https" } else { "http" },
        listener.addr
    );
    let ctx = Arc::new(http::Context {
        hub: hub.clone(),
        viewers,
        status,
        source: config.source.name(),
        max_clients: config.max_clients,
        streams: AtomicUsize::new(0),
        auth: config.auth.as_ref().map(http::auth::Auth::new),
        input,
        trusted_proxy: config.trusted_proxy,
        camera_controls,
        login_failures: http::limit::RateLimiter::new(
            1.0 / http::LOGIN_REFILL_SECS,
            http::LOGIN_BURST,
        ),
        hangups,
    });
    listener.serve(ctx.clone());
    stop();
    // Release what viewers hold and write their audit lines before the X connection goes.
    if let Some(control) = &ctx.input {
        control.controller.stop();
    }
    if !capture.join().unwrap_or(false) {
        return Err(Error::Io(
            "the capture thread failed".into(),
            std::io::Error::other("see the message above"),
        ));
    }
    log::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Remote control, when asked for: its own X connection, checked at start, so a display
/// without XTest is one clear message rather than a 503 at the first click.
fn start_control(config: &Config) -> Result<Option<http::control::Control>, Error> {
    if !config.control {
        return Ok(None);
    }
    // `--control` is refused with any other source, so the display is the streamed one.
    let display = match &config.source {
        source::Settings::Screen(screen) => screen.display.as_deref(),
        _ => None,
    };
    let injector = input::Injector::connect(display).map_err(Error::Input)?;
    let controller = input::Controller::new(injector)
        .map_err(|e| Error::Io("cannot start the control watchdog".into(), e))?;
    Ok(Some(http::control::Control::new(controller)))
}

/// One thread for the signals: SIGINT and SIGTERM stop the server cleanly (exit 0); SIGHUP
/// reloads the certificate files when serving HTTPS (as nginx does after a Let's Encrypt
/// renewal) and does nothing else, so `systemctl reload` never stops a plain-HTTP instance.
fn on_signals(
    stop: Arc<dyn Fn() + Send + Sync>,
    certs: Option<Arc<tls::Certificates>>,
) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    thread::Builder::new()
        .name("signals".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            for signal in signals.forever() {
                match (signal, &certs) {
                    (SIGHUP, Some(certs)) => certs.reload_and_log(),
                    (SIGHUP, None) => log::info!("SIGHUP: nothing to reload without HTTPS"),
                    _ => stop(),
                }
            }
        })?;
    Ok(())
}

/// The rustls configuration and the certificates behind it, with `--tls-cert` or
/// `--tls-self-signed`: loads (or makes) the certificate and prints its fingerprint (even with
/// --quiet: it is what a user compares with the browser's warning). `None` for plain HTTP.
type Https = (
    Option<Arc<rustls::ServerConfig>>,
    Option<Arc<tls::Certificates>>,
);

fn start_tls(config: &Config) -> Result<Https, Error> {
    let Some(setting) = &config.tls else {
        return Ok((None, None));
    };
    let certs = tls::Certificates::open(setting, config.listen).map_err(Error::Tls)?;
    let server_config = certs.server_config().map_err(Error::Tls)?;
    let _ = writeln!(
        std::io::stderr(),
        "deskcam: TLS certificate SHA-256 fingerprint {} ({})",
        certs.fingerprint(),
        certs.origin
    );
    Ok((Some(server_config), Some(certs)))
}

/// Starts the encoder pool and the capture thread. If capture dies, clients would get a frozen
/// picture marked online forever: the whole server stops instead (`stop`), so a supervisor
/// restarts it. The thread's result says whether it ended cleanly.
fn start_capture(
    config: &Config,
    source: Box<dyn source::Source>,
    hub: &Arc<Hub>,
    viewers: &Arc<Viewers>,
    status: &Arc<SourceStatus>,
    stop: Arc<dyn Fn() + Send + Sync>,
) -> Result<thread::JoinHandle<bool>, Error> {
    // Only a camera is turned (`--flip`, `--mirror`, `--rotate` need `--source camera`).
    let (flip, mirror, rotate) = match &config.source {
        source::Settings::Camera(c) => (c.flip, c.mirror, c.rotate),
        _ => (false, false, orientation::Rotation::R0),
    };
    let settings = EncodeSettings {
        quality: config.quality,
        subsampling: config.subsampling,
        flip,
        mirror,
        rotate,
    };
    let sink: Sink = {
        let hub = hub.clone();
        Arc::new(move |frame| {
            hub.publish(frame);
        })
    };
    let pool = EncoderPool::new(config.workers, settings, sink)
        .map_err(|e| Error::Io("cannot start the encoders".into(), e))?;
    if let source::Settings::Screen(screen) = &config.source
        && screen.band_rows.is_some()
    {
        let stats = pool.band_stats();
        status.set_figures(Arc::new(move || sync::lock(&stats).json()));
    }
    let pipeline = Pipeline {
        source,
        pool,
        hub: hub.clone(),
        viewers: viewers.clone(),
        status: status.clone(),
        idle_stop: config.idle_stop,
        turn: settings.orientation(),
    };
    thread::Builder::new()
        .name("capture".into())
        .spawn(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(|| pipeline.run()));
            if result.is_err() {
                stop();
            }
            result.is_ok()
        })
        .map_err(|e| Error::Io("cannot start the capture thread".into(), e))
}
