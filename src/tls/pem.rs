//! A certificate chain and its private key from PEM files, checked to belong together, so a
//! wrong file is one sentence at start (or at a SIGHUP reload) rather than failed handshakes.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::TlsError;

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read(path.to_path_buf(), e))
}

/// The chain in `cert` (leaf first, as Let's Encrypt's `fullchain.pem`) and the key in `key`
/// (PKCS#8, PKCS#1 or SEC1; it may be the same file).
pub fn load(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, TlsError> {
    let text = read(cert)?;
    let chain = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TlsError::NoCertificate(cert.to_path_buf()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_path_buf()));
    }
    let key_der = PrivateKeyDer::from_pem_slice(&read(key)?)
        .map_err(|_| TlsError::NoKey(key.to_path_buf()))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key_der)
        .map_err(|e| TlsError::BadKey(key.to_path_buf(), e))?;
    let certified = CertifiedKey::new(chain, signer);
    match certified.keys_match() {
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::Mismatch {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        }),
        // A key type whose public half rustls cannot derive is checked by the handshake.
        _ => Ok(Arc::new(certified)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .unwrap();
        p
    }

    #[test]
    fn pairs_load_and_mistakes_are_named() {
        let dir = std::env::temp_dir().join(format!("deskcam-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let make = || {
            let key = rcgen::KeyPair::generate().unwrap();
            let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
            let cert = params.self_signed(&key).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (cert_a, key_a) = make();
        let (_, key_b) = make();
        let cert = file(&dir, "a.pem", &cert_a);
        let key = file(&dir, "a.key", &key_a);
        assert!(load(&cert, &key).is_ok());
        let both = file(&dir, "both.pem", &format!("{key_a}{cert_a}"));
        assert!(load(&both, &both).is_ok(), "one file with both");
        let other = file(&dir, "b.key", &key_b);
        assert!(matches!(
            load(&cert, &other),
            Err(TlsError::Mismatch { .. })
        ));
        assert!(matches!(load(&key, &key), Err(TlsError::NoCertificate(_))));
        assert!(matches!(load(&cert, &cert), Err(TlsError::NoKey(_))));
        let missing = dir.join("missing.pem");
        assert!(matches!(load(&missing, &key), Err(TlsError::Read(..))));
        let e = load(&cert, &other).unwrap_err().to_string();
        assert!(!e.contains('\n') && e.contains("a.pem"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
