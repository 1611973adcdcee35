//! HTTPS: the certificate deskcam serves, where it comes from (`--tls-cert`/`--tls-key` or
//! `--tls-self-signed`), and SIGHUP reloading it. The vendored tiny_http does the TLS itself
//! (vendor/tiny_http/PATCHES.md, patch 15) with the rustls configuration made here.
//!
//! The configuration asks [`Certificates`] for the certificate at every handshake, so a reload
//! swaps it for new connections while open ones (streams that run for hours) keep theirs.
//! rustls with the `ring` provider: it builds for the Raspberry Pi with only a C compiler,
//! where `aws-lc-rs` needs cmake and more.

pub mod pem;
pub mod self_signed;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Why HTTPS cannot be served, as one sentence for the user.
#[derive(Debug)]
pub enum TlsError {
    Read(PathBuf, io::Error),
    NoCertificate(PathBuf),
    NoKey(PathBuf),
    BadKey(PathBuf, rustls::Error),
    Mismatch { cert: PathBuf, key: PathBuf },
    StateDir(PathBuf, io::Error),
    Write(PathBuf, io::Error),
    Generate(rcgen::Error),
    Config(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Read(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            TlsError::NoCertificate(p) => write!(
                f,
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                p.display()
            ),
            TlsError::NoKey(p) => write!(
                f,
                "{} holds no PEM private key (-----BEGIN PRIVATE KEY----- or an RSA/EC key)",
                p.display()
            ),
            TlsError::BadKey(p, e) => {
                write!(f, "the private key in {} cannot be used: {e}", p.display())
            }
            TlsError::Mismatch { cert, key } => write!(
                f,
                "the private key in {} does not belong to the certificate in {}",
                key.display(),
                cert.display()
            ),
            TlsError::StateDir(p, e) => write!(
                f,
                "cannot create the state folder {} for the self-signed certificate: {e} (choose another with --state-dir)",
                p.display()
            ),
            TlsError::Write(p, e) => write!(f, "cannot write {}: {e}", p.display()),
            TlsError::Generate(e) => write!(f, "cannot make a self-signed certificate: {e}"),
            TlsError::Config(e) => write!(f, "cannot set up TLS: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

/// Where the HTTPS certificate comes from (`--tls-cert`/`--tls-key` or `--tls-self-signed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateSource {
    /// PEM files given by the user (a chain, leaf first, and its private key); re-read on
    /// SIGHUP.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate for this machine's names, made once and kept in `state_dir`.
    SelfSigned { state_dir: PathBuf },
}

/// The certificate in use and the files it comes from.
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    current: Mutex<Arc<CertifiedKey>>,
    /// What the start-up line says about where the certificate came from.
    pub origin: String,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificates({})", self.cert.display())
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(crate::sync::lock(&self.current).clone())
    }
}

impl Certificates {
    /// Loads the certificate `setting` names; for `--tls-self-signed` it is made first when
    /// needed, for the machine's names as seen from `listen`.
    pub fn open(
        setting: &CertificateSource,
        listen: SocketAddr,
    ) -> Result<Arc<Certificates>, TlsError> {
        let (cert, key, origin) = match setting {
            CertificateSource::Files { cert, key } => {
                (cert.clone(), key.clone(), format!("{}", cert.display()))
            }
            CertificateSource::SelfSigned { state_dir } => {
                let names = self_signed::machine_names(listen);
                let kept = self_signed::ensure(state_dir, &names)?;
                let origin = format!(
                    "self-signed, {} {}, for {}",
                    if kept.made { "made in" } else { "kept in" },
                    kept.cert.display(),
                    names.join(", ")
                );
                (kept.cert, kept.key, origin)
            }
        };
        let current = pem::load(&cert, &key)?;
        Ok(Arc::new(Certificates {
            cert,
            key,
            current: Mutex::new(current),
            origin,
        }))
    }

    /// Reads the files again; on success new connections get the new certificate, on failure
    /// the one in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = pem::load(&self.cert, &self.key)?;
        *crate::sync::lock(&self.current) = fresh;
        Ok(())
    }

    /// [`Certificates::reload`] for SIGHUP, with one log line saying what happened; open
    /// connections keep the certificate they started with.
    pub fn reload_and_log(&self) {
        match self.reload() {
            Ok(()) => log::info!(
                "SIGHUP: reloaded the TLS certificate, SHA-256 fingerprint {}",
                self.fingerprint()
            ),
            Err(e) => log::error!("SIGHUP: {e}; the certificate in use stays"),
        }
    }

    /// The SHA-256 fingerprint of the certificate in use, as browsers show it.
    pub fn fingerprint(&self) -> String {
        let current = crate::sync::lock(&self.current).clone();
        current
            .cert
            .first()
            .map_or_else(String::new, |der| fingerprint(der))
    }

    /// The rustls configuration for the server: TLS 1.2 and 1.3 with ring's safe defaults,
    /// HTTP/1.1 by ALPN, the certificate from `self` at every handshake.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// `AB:CD:...`: the SHA-256 of a certificate's DER bytes in the form browsers show.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_look_like_a_browsers() {
        let f = fingerprint(b"abc");
        assert_eq!(
            f,
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }
}
