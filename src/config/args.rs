//! The first of the two parsing steps (as ripgrep does): `lexopt` collects what the user typed,
//! flag by flag, without judging it; [`super::validate`] then checks every value once.

use std::ffi::OsString;

use super::{ConfigError, err};

/// Raw values as the user typed them, before validation.
#[derive(Default)]
pub(super) struct RawArgs {
    pub(super) source: Option<String>,
    pub(super) listen: Option<String>,
    pub(super) size: Option<String>,
    pub(super) fps: Option<String>,
    pub(super) quality: Option<String>,
    pub(super) subsampling: Option<String>,
    pub(super) max_clients: Option<String>,
    pub(super) idle_stop: Option<String>,
    pub(super) workers: Option<String>,
    pub(super) quiet: bool,
    pub(super) display: Option<String>,
    pub(super) region: Option<String>,
    pub(super) monitor: Option<String>,
    pub(super) no_cursor: bool,
    pub(super) full_frames: bool,
    pub(super) device: Option<String>,
    pub(super) format: Option<String>,
    pub(super) flip: bool,
    pub(super) mirror: bool,
    pub(super) control: bool,
    pub(super) auth: Option<String>,
    pub(super) auth_file: Option<String>,
    pub(super) tls_cert: Option<String>,
    pub(super) tls_key: Option<String>,
    pub(super) tls_self_signed: bool,
    pub(super) state_dir: Option<String>,
    pub(super) allow_plain_http: bool,
    pub(super) trusted_proxy: Option<String>,
    pub(super) list_devices: bool,
    pub(super) list_formats: bool,
    pub(super) list_controls: bool,
    pub(super) rotate: Option<String>,
    /// Every `--set NAME=VALUE`, in order (the flag repeats).
    pub(super) set: Vec<String>,
    pub(super) camera_controls: bool,
}

impl RawArgs {
    /// The switch (a flag without a value) called `--name`.
    fn switch(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "quiet" => &mut self.quiet,
            "no-cursor" => &mut self.no_cursor,
            "full-frames" => &mut self.full_frames,
            "flip" => &mut self.flip,
            "mirror" => &mut self.mirror,
            "control" => &mut self.control,
            "tls-self-signed" => &mut self.tls_self_signed,
            "allow-plain-http" => &mut self.allow_plain_http,
            "list-devices" => &mut self.list_devices,
            "list-formats" => &mut self.list_formats,
            "list-controls" => &mut self.list_controls,
            "camera-controls" => &mut self.camera_controls,
            _ => return None,
        })
    }

    /// Where the value of the flag `--name` goes.
    fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "source" => &mut self.source,
            "listen" => &mut self.listen,
            "size" => &mut self.size,
            "fps" => &mut self.fps,
            "quality" => &mut self.quality,
            "subsampling" => &mut self.subsampling,
            "max-clients" => &mut self.max_clients,
            "idle-stop" => &mut self.idle_stop,
            "workers" => &mut self.workers,
            "display" => &mut self.display,
            "region" => &mut self.region,
            "monitor" => &mut self.monitor,
            "device" => &mut self.device,
            "format" => &mut self.format,
            "auth" => &mut self.auth,
            "auth-file" => &mut self.auth_file,
            "tls-cert" => &mut self.tls_cert,
            "tls-key" => &mut self.tls_key,
            "state-dir" => &mut self.state_dir,
            "trusted-proxy" => &mut self.trusted_proxy,
            "rotate" => &mut self.rotate,
            _ => return None,
        })
    }
}

/// What the command line asks for before validation.
pub(super) enum Read {
    Help,
    Version,
    Args(Box<RawArgs>),
}

/// Collects the raw flags; only an unknown flag, a missing value or non-UTF-8 text is refused.
pub(super) fn read<I>(args: I) -> Result<Read, ConfigError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;
    let mut raw = RawArgs::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| ConfigError(e.to_string()))? {
        match arg {
            Short('h') | Long("help") => return Ok(Read::Help),
            Short('V') | Long("version") => return Ok(Read::Version),
            Short('q') => raw.quiet = true,
            Long(name) if raw.switch(name).is_some() => {
                if let Some(on) = raw.switch(name) {
                    *on = true;
                }
            }
            Long("set") => {
                let value = parser.value().map_err(|e| ConfigError(e.to_string()))?;
                let value = value
                    .into_string()
                    .map_err(|v| ConfigError(format!("--set {v:?} is not valid UTF-8")))?;
                raw.set.push(value);
            }
            Long(name) if raw.slot(name).is_some() => {
                let name = name.to_string();
                let value = parser.value().map_err(|e| ConfigError(e.to_string()))?;
                let value = value
                    .into_string()
                    .map_err(|v| ConfigError(format!("value {v:?} is not valid UTF-8")))?;
                if let Some(slot) = raw.slot(&name) {
                    *slot = Some(value);
                }
            }
            // Not echoed: a value typed without its flag may be a password (`--control me:pw`).
            Value(_) => {
                return err(
                    "unexpected argument without a flag (flags start with --; a value follows its flag)",
                );
            }
            other => return err(other.unexpected().to_string()),
        }
    }
    Ok(Read::Args(Box::new(raw)))
}
