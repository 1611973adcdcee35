//! The flags that decide who can read what on the wire: HTTPS (`--tls-cert`/`--tls-key` or
//! `--tls-self-signed`), `--allow-plain-http`, `--trusted-proxy`, and the rule that remote
//! control off loopback needs both a password and encryption (issue 12: the password and every
//! keystroke used to travel in clear text).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::args::RawArgs;
use super::flags::{STATE_DIR, TLS_CERT, TLS_KEY, TLS_SELF_SIGNED, TRUSTED_PROXY};
use super::{ConfigError, err};
use crate::http::auth::Credentials;
use crate::tls::CertificateSource;

/// The default state directory: systemd's `$STATE_DIRECTORY` (its first entry), else
/// `$XDG_STATE_HOME/deskcam`, else `~/.local/state/deskcam`.
pub fn default_state_dir(
    systemd: Option<&str>,
    xdg_state_home: Option<&str>,
    home: Option<&str>,
) -> Option<PathBuf> {
    let some = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    // systemd joins several StateDirectory= entries with colons.
    if let Some(dir) = some(systemd.and_then(|s| s.split(':').next())) {
        return Some(dir);
    }
    if let Some(dir) = some(xdg_state_home).filter(|d| d.is_absolute()) {
        return Some(dir.join("deskcam"));
    }
    some(home).map(|h| h.join(".local/state/deskcam"))
}

pub(super) fn tls(
    raw: &RawArgs,
    env_state_dir: Option<PathBuf>,
) -> Result<Option<CertificateSource>, ConfigError> {
    let self_signed = raw.on(&TLS_SELF_SIGNED);
    if raw.on(&STATE_DIR) && !self_signed {
        return err("--state-dir only says where --tls-self-signed keeps its certificate");
    }
    let path = |flag: &str, v: &str| {
        if v.is_empty() {
            err(format!("{flag} needs a file name"))
        } else {
            Ok(PathBuf::from(v))
        }
    };
    match (raw.value(&TLS_CERT), raw.value(&TLS_KEY), self_signed) {
        (None, None, false) => Ok(None),
        (Some(_), _, true) | (_, Some(_), true) => {
            err("--tls-self-signed and --tls-cert/--tls-key cannot be used together")
        }
        (Some(cert), Some(key), false) => Ok(Some(CertificateSource::Files {
            cert: path("--tls-cert", cert)?,
            key: path("--tls-key", key)?,
        })),
        (Some(_), None, false) => {
            err("--tls-cert needs --tls-key PATH (the certificate's private key)")
        }
        (None, Some(_), false) => err("--tls-key needs --tls-cert PATH (the certificate chain)"),
        (None, None, true) => {
            let state_dir = match raw.value(&STATE_DIR) {
                Some(dir) => path("--state-dir", dir)?,
                None => env_state_dir.ok_or_else(|| {
                    ConfigError(
                        "--tls-self-signed needs a folder to keep its certificate in: add --state-dir PATH (there is no $STATE_DIRECTORY, $XDG_STATE_HOME or $HOME)".into(),
                    )
                })?,
            };
            Ok(Some(CertificateSource::SelfSigned { state_dir }))
        }
    }
}

pub(super) fn trusted_proxy(raw: &RawArgs) -> Result<Option<IpAddr>, ConfigError> {
    raw.value(&TRUSTED_PROXY)
        .map(|text| {
            text.parse::<IpAddr>().map_err(|_| {
                ConfigError(format!(
                    "--trusted-proxy {text:?}: expected the proxy's IP address, like 127.0.0.1 or ::1"
                ))
            })
        })
        .transpose()
}

/// Remote control reachable from the network needs a password, and the password and what is
/// typed need encryption: HTTPS here, or a TLS proxy in front (`--allow-plain-http`). Behind a
/// trusted proxy every viewer arrives from the proxy, so even a loopback address needs the
/// password. One sentence naming everything that is missing.
pub(super) fn check_control(
    listen: SocketAddr,
    auth: Option<&Credentials>,
    tls: Option<&CertificateSource>,
    allow_plain_http: bool,
    trusted_proxy: Option<IpAddr>,
) -> Result<(), ConfigError> {
    let local = listen.ip().is_loopback();
    if let (Some(proxy), None) = (trusted_proxy, auth) {
        return err(format!(
            "--control behind --trusted-proxy {proxy} would let anyone who reaches the proxy use this desktop: add a password (--auth-file FILE, DESKCAM_AUTH or --auth USER:PASSWORD)"
        ));
    }
    if local {
        return Ok(());
    }
    let needs_auth = auth.is_none();
    let needs_tls = tls.is_none() && !allow_plain_http;
    let add_tls = "--tls-self-signed (or --tls-cert and --tls-key; --allow-plain-http only behind a TLS proxy on another host)";
    match (needs_auth, needs_tls) {
        (false, false) => Ok(()),
        (true, false) => err(format!(
            "--control on {listen} would let anyone on the network use this desktop: add a password (--auth-file FILE, DESKCAM_AUTH or --auth USER:PASSWORD), or listen on 127.0.0.1"
        )),
        (false, true) => err(format!(
            "--control on {listen} would send the password and every keystroke unencrypted: add {add_tls}, or listen on 127.0.0.1"
        )),
        (true, true) => err(format!(
            "--control on {listen} would let anyone on the network use this desktop, unencrypted: add a password (--auth-file FILE, DESKCAM_AUTH or --auth USER:PASSWORD) and {add_tls}, or listen on 127.0.0.1"
        )),
    }
}
