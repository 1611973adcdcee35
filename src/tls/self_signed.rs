//! `--tls-self-signed`: a certificate for this machine's names, made once and kept, so a LAN
//! user without a domain accepts it (or compares its fingerprint) once and not at every start.
//! A new one is made only when the kept one is missing, unreadable, no longer covers a name
//! the machine has now (a new address), or is within [`RENEW_DAYS`] of its end.

use std::fs;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;

use super::{TlsError, pem};
use crate::clock::utc_date;

pub const CERT_FILE: &str = "tls-self-signed.pem";
pub const KEY_FILE: &str = "tls-self-signed.key";
/// Lifetime of a new certificate: Apple's platforms refuse TLS server certificates valid for
/// longer than 825 days.
pub const VALID_DAYS: u64 = 825;
/// A kept certificate this close to its end is replaced at start.
pub const RENEW_DAYS: u64 = 30;

/// The kept certificate's files and whether they were just made.
pub struct Kept {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub made: bool,
}

/// The names a browser on the LAN may use for this machine: `localhost`, the host name (and
/// `NAME.local` for mDNS, as a Raspberry Pi answers), the loopback addresses, the listening
/// address and every address of the machine's interfaces (IPv6 link-local ones need a zone a
/// certificate cannot name).
pub fn machine_names(listen: SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    let uname = rustix::system::uname();
    let host = uname.nodename().to_string_lossy().to_ascii_lowercase();
    if is_dns_name(&host) && host != "localhost" {
        if !host.contains('.') {
            names.push(format!("{host}.local"));
        }
        names.push(host);
    }
    let mut ips: Vec<IpAddr> = vec![[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()];
    if !listen.ip().is_unspecified() {
        ips.push(listen.ip());
    }
    if let Ok(interfaces) = nix::ifaddrs::getifaddrs() {
        for a in interfaces.filter_map(|i| i.address) {
            if let Some(v4) = a.as_sockaddr_in() {
                ips.push(v4.ip().into());
            } else if let Some(v6) = a.as_sockaddr_in6() {
                let ip = v6.ip();
                if ip.segments()[0] & 0xffc0 != 0xfe80 {
                    ips.push(ip.into());
                }
            }
        }
    }
    for ip in ips {
        let ip = ip.to_string();
        if !names.contains(&ip) {
            names.push(ip);
        }
    }
    names
}

fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The kept certificate in `dir` for `names`, made (and the folder created) when needed.
pub fn ensure(dir: &Path, names: &[String]) -> Result<Kept, TlsError> {
    let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if pem::load(&cert, &key).is_ok_and(|kept| still_good(&kept, names)) {
        return Ok(Kept {
            cert,
            key,
            made: false,
        });
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| TlsError::StateDir(dir.to_path_buf(), e))?;
    let (cert_pem, key_pem) = generate(names, SystemTime::now())?;
    // The key first: a certificate without its key would be kept and fail at every start.
    write_new(&key, key_pem.as_bytes(), 0o600)?;
    write_new(&cert, cert_pem.as_bytes(), 0o644)?;
    Ok(Kept {
        cert,
        key,
        made: true,
    })
}

/// A self-signed certificate (ECDSA P-256) for `names`, valid from a day before `now` (clocks
/// differ) for [`VALID_DAYS`]; PEM of the certificate and of its key.
pub fn generate(names: &[String], now: SystemTime) -> Result<(String, String), TlsError> {
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(TlsError::Generate)?;
    let day = Duration::from_secs(86_400);
    let date = |t: SystemTime| {
        let (y, m, d) = utc_date(t);
        rcgen::date_time_ymd(y, m, d)
    };
    params.not_before = date(now - day);
    params.not_after = date(now + day * VALID_DAYS as u32);
    let host = names.get(1).map_or("localhost", String::as_str);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("deskcam on {host}"));
    let key = rcgen::KeyPair::generate().map_err(TlsError::Generate)?;
    let cert = params.self_signed(&key).map_err(TlsError::Generate)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Covers every name in `names`, and is valid now and [`RENEW_DAYS`] from now (checked as a
/// browser would, with the certificate as its own trust anchor).
fn still_good(kept: &CertifiedKey, names: &[String]) -> bool {
    let Some(der) = kept.cert.first() else {
        return false;
    };
    let Ok(cert) = webpki::EndEntityCert::try_from(der) else {
        return false;
    };
    let covers = names.iter().all(|n| {
        ServerName::try_from(n.as_str())
            .is_ok_and(|name| cert.verify_is_valid_for_subject_name(&name).is_ok())
    });
    covers && valid_at(der, &cert, SystemTime::now()) && {
        let later = SystemTime::now() + Duration::from_secs(RENEW_DAYS * 86_400);
        valid_at(der, &cert, later)
    }
}

fn valid_at(der: &CertificateDer<'_>, cert: &webpki::EndEntityCert<'_>, t: SystemTime) -> bool {
    let Ok(anchor) = webpki::anchor_from_trusted_cert(der) else {
        return false;
    };
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    cert.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &[],
        UnixTime::since_unix_epoch(since),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .is_ok()
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so a crash
/// never leaves half a key.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let tmp = path.with_extension("tmp");
    let result = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        TlsError::Write(path.to_path_buf(), e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("deskcam-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn names_include_loopback_and_the_listening_address() {
        let names = machine_names("192.0.2.7:8443".parse().unwrap());
        for n in ["localhost", "127.0.0.1", "::1", "192.0.2.7"] {
            assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
        }
        assert!(!names.iter().any(|n| n.starts_with("fe80")), "{names:?}");
        assert!(is_dns_name("raspberrypi") && !is_dns_name("a_b") && !is_dns_name("-a"));
    }

    #[test]
    fn kept_until_a_name_is_missing() {
        let dir = temp_dir("selfsigned");
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let first = ensure(&dir.join("sub"), &names).unwrap();
        assert!(first.made);
        let pem1 = fs::read(&first.cert).unwrap();
        let mode = fs::metadata(&first.key).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        let again = ensure(&dir.join("sub"), &names).unwrap();
        assert!(!again.made, "kept");
        assert_eq!(fs::read(&again.cert).unwrap(), pem1);
        let more = [names.clone(), vec!["192.0.2.9".to_string()]].concat();
        let renewed = ensure(&dir.join("sub"), &more).unwrap();
        assert!(renewed.made, "a new address needs a new certificate");
        assert!(still_good(
            &pem::load(&renewed.cert, &renewed.key).unwrap(),
            &more
        ));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_expiring_certificate_is_not_kept() {
        let dir = temp_dir("expiring");
        fs::create_dir_all(&dir).unwrap();
        let names = vec!["localhost".to_string()];
        // Made long ago: it ends within RENEW_DAYS.
        let then = SystemTime::now() - Duration::from_secs((VALID_DAYS - 10) * 86_400);
        let (cert, key) = generate(&names, then).unwrap();
        fs::write(dir.join(CERT_FILE), cert).unwrap();
        fs::write(dir.join(KEY_FILE), key).unwrap();
        let kept = pem::load(&dir.join(CERT_FILE), &dir.join(KEY_FILE)).unwrap();
        assert!(!still_good(&kept, &names));
        let fresh = ensure(&dir, &names).unwrap();
        assert!(fresh.made);
        let _ = fs::remove_dir_all(&dir);
    }
}
