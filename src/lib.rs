//! deskcam streams a camera, an X11 desktop or a test pattern to browsers and video tools as
//! MJPEG, and lets authorised viewers control the desktop.
//!
//! From the top: [`config`] validates the command line; a [`source`] captures pictures in one
//! thread; [`encode`] turns them into JPEG on a pool of threads; the [`hub`] keeps the newest
//! frame; [`http`] serves it to every client from its own thread.

pub mod config;
pub mod encode;
pub mod frame;
pub mod http;
pub mod hub;
pub mod input;
pub mod json;
pub mod logger;
pub mod source;
pub mod sync;

use std::fmt;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread;

use config::Config;
use encode::EncodeSettings;
use encode::pool::EncoderPool;
use source::SourceError;

/// Why deskcam could not run, as one sentence for the user.
#[derive(Debug)]
pub enum Error {
    /// The source cannot be used (no display, no camera, unsupported setting).
    Source(SourceError),
    /// `--control` cannot inject input into the display.
    Input(input::InjectError),
    /// The address cannot be served.
    Bind(std::net::SocketAddr, std::io::Error),
    Io(String, std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Source(e) => write!(f, "{e}"),
            Error::Input(e) => write!(f, "--control: {e}"),
            Error::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            Error::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// 2 for what the user can fix in the command line or setup, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Source(_) | Error::Input(_) => 2,
            Error::Bind(..) | Error::Io(..) => 1,
        }
    }
}

/// Raises the soft open-file limit to the hard one: every client is a socket, and tiny_http's
/// accept thread panics when it runs out of descriptors (tiny_http issue #195).
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
    let mut source = source::from_config(&config).map_err(Error::Source)?;
    // Open once up front so a wrong device or display is one clear message at start, not a
    // "NO SIGNAL" picture nobody asked for.
    source.open().map_err(Error::Source)?;
    // Its own X connection, checked at start: a display without XTest is one clear message.
    let input = if config.control {
        let injector = input::Injector::connect(config.display.as_deref()).map_err(Error::Input)?;
        Some(http::control::Control::new(injector))
    } else {
        None
    };
    let listener = http::bind(config.listen).map_err(|e| Error::Bind(config.listen, e))?;

    let hub = hub::Hub::new();
    // Published before serving (the capture thread does it again on every reopen), so the
    // first POST /input cannot find the streamed area unknown while that thread starts.
    hub.set_geometry(source.geometry());
    let settings = EncodeSettings {
        quality: config.quality,
        subsampling: config.subsampling,
        flip: config.flip,
        mirror: config.mirror,
    };
    let pool = EncoderPool::new(config.workers, settings, hub.clone())
        .map_err(|e| Error::Io("cannot start the encoders".into(), e))?;
    let stop = Arc::new(listener.stopper());
    let capture = {
        let hub = hub.clone();
        let idle = config.idle_stop;
        let stop = stop.clone();
        thread::Builder::new()
            .name("capture".into())
            .spawn(move || {
                // If capture dies, clients would get a frozen picture marked online forever:
                // stop the whole server instead, so a supervisor restarts it.
                let loop_result = panic::catch_unwind(AssertUnwindSafe(|| {
                    source::capture_loop(source, hub.clone(), pool, idle)
                }));
                if loop_result.is_err() {
                    hub.shutdown();
                    stop();
                }
                loop_result.is_ok()
            })
            .map_err(|e| Error::Io("cannot start the capture thread".into(), e))?
    };

    let hub_for_signal = hub.clone();
    ctrlc::set_handler(move || {
        hub_for_signal.shutdown();
        stop();
    })
    .map_err(|e| {
        Error::Io(
            "cannot install the signal handler".into(),
            std::io::Error::other(e),
        )
    })?;

    // Printed even with --quiet: with --listen ...:0 it is the only way to learn the port.
    let _ = writeln!(
        std::io::stderr(),
        "deskcam: serving {} on http://{}/",
        config.source.name(),
        listener.addr
    );
    let ctx = Arc::new(http::Context {
        hub: hub.clone(),
        source: config.source.name(),
        max_clients: config.max_clients,
        streams: AtomicUsize::new(0),
        auth: config.auth.as_ref().map(http::auth::Auth::new),
        input,
        login_failures: http::limit::RateLimiter::new(
            1.0 / http::LOGIN_REFILL_SECS,
            http::LOGIN_BURST,
        ),
    });
    listener.serve(ctx);
    hub.shutdown();
    if !capture.join().unwrap_or(false) {
        return Err(Error::Io(
            "the capture thread failed".into(),
            std::io::Error::other("see the message above"),
        ));
    }
    log::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
