//! Parsers for single flag values: each checks its text once and names the flag in its error.

use std::net::SocketAddr;

use super::{ConfigError, MAX_SIDE, err};
use crate::geometry::{Region, Resolution};
use crate::http::auth::Credentials;
use crate::source::camera::ControlSetting;

/// `ADDR:PORT`, `HOST:PORT` (resolved now), `:PORT` or a bare `PORT` (every interface, as
/// ustreamer's `--port` and mjpg-streamer's `-p` users type it).
pub fn parse_listen(text: &str) -> Result<SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    let bad = || {
        ConfigError(format!(
            "--listen {text:?}: expected ADDR:PORT or PORT, like 0.0.0.0:8080, localhost:9000 or 8080"
        ))
    };
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    // A host name: only with a port, and the first address it resolves to.
    let has_port = text
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if let Some(addr) = has_port
        .then(|| text.to_socket_addrs().ok()?.next())
        .flatten()
    {
        return Ok(addr);
    }
    Err(bad())
}

/// Parses `WxH`, both sides 16..=8192 (JPEG allows 65535; nothing real is above 8K).
pub fn parse_size(text: &str) -> Result<Resolution, ConfigError> {
    let bad = || {
        ConfigError(format!(
            "--size {text:?}: expected WxH with sides from 16 to {MAX_SIDE}, like 1280x720"
        ))
    };
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let width: u32 = w.parse().map_err(|_| bad())?;
    let height: u32 = h.parse().map_err(|_| bad())?;
    if !(16..=MAX_SIDE).contains(&width) || !(16..=MAX_SIDE).contains(&height) {
        return Err(bad());
    }
    Ok(Resolution { width, height })
}

/// Parses an X geometry `WxH+X+Y`.
pub fn parse_region(text: &str) -> Result<Region, ConfigError> {
    let bad = || {
        ConfigError(format!(
            "--region {text:?}: expected WxH+X+Y, like 1920x1080+1920+0"
        ))
    };
    let (size, rest) = text.split_once('+').ok_or_else(bad)?;
    let (x, y) = rest.split_once('+').ok_or_else(bad)?;
    let (w, h) = size.split_once(['x', 'X']).ok_or_else(bad)?;
    let p = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let region = Region {
        x: p(x)?,
        y: p(y)?,
        width: p(w)?,
        height: p(h)?,
    };
    if region.width < 16
        || region.height < 16
        || region.width > MAX_SIDE
        || region.height > MAX_SIDE
    {
        return err(format!(
            "--region {text:?}: width and height must be from 16 to {MAX_SIDE}"
        ));
    }
    Ok(region)
}

pub(super) fn parse_credentials(origin: &str, text: &str) -> Result<Credentials, ConfigError> {
    match text.split_once(':') {
        Some((user, password)) if !user.is_empty() && !password.is_empty() => Ok(Credentials {
            user: user.to_string(),
            password: password.to_string(),
        }),
        // Never echo the value: it may be a password typed in the wrong place.
        _ => err(format!(
            "{origin}: expected USER:PASSWORD with neither part empty"
        )),
    }
}

/// Parses `--set NAME=VALUE`: a v4l2-ctl control name and a whole number (booleans are 0 or 1,
/// menus take the entry's index, as v4l2-ctl has it). The camera checks both once it is open.
pub(super) fn parse_control(text: &str) -> Result<ControlSetting, ConfigError> {
    let bad = || {
        ConfigError(format!(
            "--set {:?}: expected NAME=VALUE with a whole number, like brightness=140 (see --list-controls)",
            text.chars().take(100).collect::<String>()
        ))
    };
    let (name, value) = text.split_once('=').ok_or_else(bad)?;
    let name = name.trim().to_ascii_lowercase();
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(bad());
    }
    let value = value.trim().parse::<i64>().map_err(|_| bad())?;
    Ok(ControlSetting { name, value })
}
