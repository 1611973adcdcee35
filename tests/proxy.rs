//! The reverse-proxy setup of docs/proxy.md with Debian's real nginx: the nginx block is read
//! from the document itself (only its ports and certificate paths are changed), so the
//! configuration users copy is the one tested. nginx terminates TLS with a test CA's
//! certificate and serves a screen deskcam with `--control` under `/front/` and a test-pattern
//! deskcam under `/back/`; through it: both pages, the redirect of `/front`, each instance's own
//! `/state` and snapshot, a stream whose frames are not held back, the viewer's own address in
//! deskcam's log (`--trusted-proxy`), and a click in headless Chromium on the `/front/` page.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use testkit::child::{Guard, tool};
use testkit::http::{MjpegReader, State, basic_auth, epoch_seconds, https_request, timestamp};
use testkit::server::Deskcam;
use testkit::tls::{TestCa, TlsStream};
use testkit::wait::wait_until;
use testkit::x11::{Recorder, Xvfb};

use crate::tls::browser::{assert_press_at, chromium_click};

const WAIT: Duration = Duration::from_secs(15);
const USER: &str = "viewer:proxy-pw-5";

/// The ```nginx block of docs/proxy.md.
fn documented_site() -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/proxy.md"))
        .expect("docs/proxy.md");
    let start = doc
        .find("```nginx\n")
        .expect("an nginx block in docs/proxy.md")
        + 9;
    let len = doc[start..]
        .find("```")
        .expect("the end of the nginx block");
    doc[start..start + len].to_string()
}

/// `text` with `from` replaced by `to`, which must occur exactly once (a changed document
/// fails here rather than testing something else).
fn swap(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} in docs/proxy.md");
    text.replacen(from, to, 1)
}

/// nginx with the documented site, on `port`, in its own folder; stopped on drop.
struct Nginx {
    _child: Guard,
    port: u16,
}

impl Nginx {
    fn start(ca: &TestCa, front: SocketAddr, back: SocketAddr) -> Nginx {
        let leaf = ca.leaf("nginx");
        let dir = ca.dir.join("nginx");
        std::fs::create_dir_all(&dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut site = documented_site();
        site = swap(
            &site,
            "listen 443 ssl;",
            &format!("listen 127.0.0.1:{port} ssl;"),
        );
        site = swap(
            &site,
            "/etc/letsencrypt/live/desk.example/fullchain.pem",
            &leaf.cert.to_string_lossy(),
        );
        site = swap(
            &site,
            "/etc/letsencrypt/live/desk.example/privkey.pem",
            &leaf.key.to_string_lossy(),
        );
        site = swap(&site, "127.0.0.1:8081", &front.to_string());
        site = swap(&site, "127.0.0.1:8082", &back.to_string());
        std::fs::write(dir.join("site.conf"), site).unwrap();
        let d = dir.display();
        let main = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             include {d}/site.conf;\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();
        let conf = dir.join("nginx.conf");
        tool(
            Command::new("nginx")
                .args(["-t", "-q", "-p"])
                .arg(&dir)
                .arg("-c")
                .arg(&conf)
                .args(["-e"])
                .arg(dir.join("error.log")),
        );
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(Guard)
            .expect("nginx must be installed (tools/deps.sh installs it)");
        let up = wait_until(WAIT, || TcpStream::connect(("127.0.0.1", port)).is_ok());
        assert!(
            up,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        Nginx {
            _child: child,
            port,
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

/// A TLS connection to nginx from another loopback address (127.0.0.2), so deskcam's log can
/// show whose address it took.
fn connect_from_127_0_0_2(to: SocketAddr, config: &Arc<ClientConfig>) -> TlsStream {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&SocketAddr::from(([127, 0, 0, 2], 0)).into())
        .unwrap();
    s.connect(&to.into()).unwrap();
    let tcp: TcpStream = s.into();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let name = ServerName::IpAddress(to.ip().into());
    let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

fn get(nginx: &Nginx, config: &Arc<ClientConfig>, path: &str) -> testkit::http::Reply {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{}\r\n",
        nginx.addr(),
        basic_auth(USER)
    );
    https_request(nginx.addr(), config, request.as_bytes())
}

#[test]
fn nginx_serves_two_instances_under_one_origin_with_control() {
    let ca = TestCa::new("proxy");
    let client = ca.client();
    let (w, h) = (1024, 768);
    let x = Xvfb::start(w, h);
    let rec = Recorder::start(&x.display);
    let proxied = ["--trusted-proxy", "127.0.0.1", "--auth", USER];
    let front = Deskcam::start(
        &[
            &["--source", "screen", "--display", &x.display, "--control"][..],
            &proxied,
        ]
        .concat(),
    );
    let back = Deskcam::start(&[&["--size", "160x120", "--fps", "2"][..], &proxied].concat());
    let nginx = Nginx::start(&ca, front.addr, back.addr);

    for path in ["/front/", "/back/"] {
        let r = get(&nginx, &client, path);
        assert_eq!(r.status, 200, "{path}: {}", r.head);
        assert!(r.text().contains("<img id=\"view\""), "{path} is the page");
    }
    let r = get(&nginx, &client, "/front");
    assert_eq!(r.status, 301, "{}", r.head);
    assert!(
        r.header("Location").is_some_and(|l| l.ends_with("/front/")),
        "{}",
        r.head
    );
    // Each prefix reaches its own instance.
    let state = |path: &str| State(get(&nginx, &client, path).text());
    assert_eq!(state("/front/state").int("width"), Some(w as i64));
    assert_eq!(state("/back/state").int("width"), Some(160));
    assert_eq!(state("/front/state").bool("control"), Some(true));
    for path in ["/front/snapshot", "/back/snapshot?fresh=1"] {
        let r = get(&nginx, &client, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("Content-Type").as_deref(), Some("image/jpeg"));
        assert!(r.body.starts_with(&[0xFF, 0xD8]));
    }

    // A stream at 2 frames a second: each frame arrives well within a second of being taken,
    // which a buffering proxy (holding small frames until its buffer fills) would not do.
    // HTTP/1.0, as many MJPEG clients ask: nginx then passes the body on unchunked, as it
    // comes (to an HTTP/1.1 client it is chunked, which ffmpeg below decodes).
    let conn = connect_from_127_0_0_2(nginx.addr(), &client);
    let request = format!(
        "GET /back/stream HTTP/1.0\r\nHost: {}\r\n{}\r\n",
        nginx.addr(),
        basic_auth(USER)
    );
    let mut s = MjpegReader::over(conn, &request);
    assert_eq!(s.status(), 200, "{}", s.head);
    for _ in 0..4 {
        let (head, _) = s.next_part().expect("a part through the proxy");
        let late = epoch_seconds() - timestamp(&head).expect("X-Timestamp");
        assert!(late < 1.0, "a frame arrived {late:.2} s after it was taken");
    }
    // deskcam saw the viewer, not the proxy: no port, because nginx does not pass it on.
    back.log_line(WAIT, |l| {
        l.contains("client 127.0.0.2 connected to /stream")
    });
    drop(s);
    let url = nginx
        .url("/back/stream")
        .replace("https://", &format!("https://{USER}@"));
    let out = tool(&mut crate::tls::ffmpeg_https(&ca.cert, &url, 4));
    assert!(
        out.stderr.is_empty(),
        "ffmpeg through nginx: {}",
        out.stderr
    );

    // The page under /front/, in Chromium with the viewer's password: control works through
    // the proxy (Host and Origin agree), and the page is encrypted as far as the proxy.
    let clicked = chromium_click(&nginx.url("/front/"), &ca, Some(USER));
    assert_eq!(clicked.mark, "hidden");
    assert_press_at(&rec, (w, h), clicked.at);
}
