//! HTTPS from the client's side: a test certificate authority made with the `openssl` command
//! (not with deskcam's own certificate code), server certificates it signs, and rustls clients
//! that trust only it, so a test proves the server's chain verifies as a browser would check it.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::child::tool;

/// A client TLS connection over TCP.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// A throw-away certificate authority in a temporary folder (removed on drop).
pub struct TestCa {
    pub dir: PathBuf,
    /// The CA certificate (PEM): what `curl --cacert` and a browser's trust store get.
    pub cert: PathBuf,
    key: PathBuf,
}

/// A server certificate signed by a [`TestCa`].
pub struct Leaf {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

fn openssl(args: &[&str], dir: &Path) {
    tool(Command::new("openssl").args(args).current_dir(dir));
}

/// EC P-256 key options for `openssl req -newkey`.
const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

impl TestCa {
    /// A new CA named after `name` (also the folder's name, with the process id).
    pub fn new(name: &str) -> TestCa {
        let dir = std::env::temp_dir().join(format!("deskcam-ca-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("CA folder");
        let subject = format!("/CN=deskcam test CA {name}");
        openssl(
            &[
                &["req", "-x509", "-nodes"][..],
                &EC,
                &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
                &["-subj", &subject],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ]
            .concat(),
            &dir,
        );
        TestCa {
            cert: dir.join("ca.pem"),
            key: dir.join("ca.key"),
            dir,
        }
    }

    /// A server certificate for `localhost` and 127.0.0.1, called `name` (several may exist).
    pub fn leaf(&self, name: &str) -> Leaf {
        let ext = self.dir.join(format!("{name}.ext"));
        std::fs::write(
            &ext,
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("extensions file");
        let (key, csr, cert) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        let subject = format!("/CN=deskcam test {name}");
        openssl(
            &[
                &["req", "-nodes"][..],
                &EC,
                &["-keyout", &key, "-out", &csr, "-subj", &subject],
            ]
            .concat(),
            &self.dir,
        );
        let ca = self.cert.to_string_lossy();
        let ca_key = self.key.to_string_lossy();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-out",
                &cert,
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ],
            &self.dir,
        );
        Leaf {
            cert: self.dir.join(cert),
            key: self.dir.join(key),
        }
    }

    /// A home folder whose NSS database (`.pki/nssdb`, where Chromium on Linux looks) trusts
    /// this CA for servers; made once, with `certutil`.
    pub fn browser_home(&self) -> PathBuf {
        let home = self.dir.join("home");
        let db = home.join(".pki/nssdb");
        if db.join("cert9.db").exists() {
            return home;
        }
        std::fs::create_dir_all(&db).expect("NSS folder");
        let sql = format!("sql:{}", db.display());
        let certutil = |args: &[&str]| {
            tool(Command::new("certutil").args(["-d", &sql]).args(args));
        };
        certutil(&["-N", "--empty-password"]);
        certutil(&[
            "-A",
            "-t",
            "C,,",
            "-n",
            "deskcam test CA",
            "-i",
            &self.cert.to_string_lossy(),
        ]);
        home
    }

    /// A rustls client configuration that trusts this CA alone.
    pub fn client(&self) -> Arc<ClientConfig> {
        client_trusting(&self.cert)
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Leaf {
    /// The certificate's DER bytes, as a server presents it.
    pub fn der(&self) -> Vec<u8> {
        der_of(&self.cert)
    }
}

/// The DER bytes of the first certificate in a PEM file.
pub fn der_of(pem: &Path) -> Vec<u8> {
    CertificateDer::from_pem_file(pem)
        .unwrap_or_else(|e| panic!("no certificate in {}: {e}", pem.display()))
        .to_vec()
}

/// The SHA-256 fingerprint `openssl` computes for the certificate in `pem` (`AB:CD:...`).
pub fn openssl_fingerprint(pem: &Path) -> String {
    let out = tool(
        Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(pem),
    );
    out.stdout
        .trim()
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A rustls client configuration whose only trust anchors are the certificates in `ca`.
pub fn client_trusting(ca: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots
            .add(cert.expect("CA certificate"))
            .expect("a usable CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// A TLS connection to `addr` (its IP address is the name checked), handshake done; `Err`
/// with rustls's reason when the handshake fails.
pub fn try_connect(addr: SocketAddr, config: &Arc<ClientConfig>) -> Result<TlsStream, String> {
    let tcp = crate::http::connect(addr);
    let name = ServerName::IpAddress(addr.ip().into());
    let conn = ClientConnection::new(config.clone(), name).map_err(|e| e.to_string())?;
    let mut s = StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).map_err(|e| e.to_string())?;
    }
    Ok(s)
}

/// [`try_connect`], panicking on failure.
pub fn connect(addr: SocketAddr, config: &Arc<ClientConfig>) -> TlsStream {
    try_connect(addr, config).unwrap_or_else(|e| panic!("TLS to {addr}: {e}"))
}

/// The certificate (DER) the server at `addr` presents to a new connection.
pub fn server_certificate(addr: SocketAddr, config: &Arc<ClientConfig>) -> Vec<u8> {
    let s = connect(addr, config);
    s.conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .expect("the server presented a certificate")
}

/// The first flight of a TLS client (its ClientHello record) for a server at `addr`, as bytes
/// to send by hand.
pub fn client_hello(addr: SocketAddr, config: &Arc<ClientConfig>) -> Vec<u8> {
    let name = ServerName::IpAddress(addr.ip().into());
    let mut conn = ClientConnection::new(config.clone(), name).expect("client");
    let mut hello = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut hello).expect("ClientHello");
    }
    hello
}
