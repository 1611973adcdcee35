//! Everything remote control refuses, and that a refusal injects nothing (the sentinel click,
//! posted afterwards, must be the next event): bad forms, oversized bodies, other sites, DNS
//! rebinding, state-changing GETs, floods, missing or wrong credentials, control off, and the
//! setups deskcam refuses to start with.

use deskcam::jpeg::markers;
use testkit::http::{KeepAlive, State, basic_auth, get, get_with, post, raw_request};
use testkit::server::{Deskcam, refused};
use testkit::wait::wait_until;
use testkit::x11::{Rec, Xvfb};

use super::{WAIT, form, press_at, session, session_with};

/// Every refusal (400, 401, 403, 405, 413, 429) with the sentinel click after it. A table of
/// cases against one recording session: long, but one case per line.
#[test]
fn bad_requests_get_their_status_and_inject_nothing() {
    let s = session(800, 600, &[]);
    let addr = s.deskcam.addr;
    for body in [
        "type=teleport&x=0.5&y=0.5",
        "type=click&x=NaN&y=0.5",
        "type=click&x=1.01&y=0.5",
        "type=click&x=-1&y=0.5",
        "type=click&x=0.5",
        "type=click&x=0.5&y=0.5&button=fourth",
        "type=wheel&dy=101",
        "type=key&code=NoSuchKey",
        "type=text&text=",
        "type=move&dx=0.1&x=0.5&y=0.5",
        "type=move&dx=1.5",
        "type=move&dx=0&dy=0",
        "type=combo&codes=ControlLeft,AltLeft,Bogus",
        "type=combo&codes=Delete",
        "type=combo&codes=KeyA,KeyA",
        "",
    ] {
        let r = s.post(body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.text().trim().lines().count(), 1, "one-line reason");
        s.assert_nothing_injected(body);
    }
    // Text over 1024 characters.
    let r = s.post(&form(&[("type", "text"), ("text", &"x".repeat(1025))]));
    assert_eq!(r.status, 400);
    s.assert_nothing_injected("long text");
    // Body over 4 KiB.
    let big = format!("type=move&x=0.5&y=0.5&pad={}", "a".repeat(5000));
    assert_eq!(s.post(&big).status, 413);
    s.assert_nothing_injected("big body");
    let r = raw_request(
        addr,
        format!("POST /input HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 99999999999999\r\n\r\ntype=click&x=0.5&y=0.5").as_bytes(),
    );
    assert_eq!(r.status, 413);
    s.assert_nothing_injected("huge declared body");
    // A page on another site.
    for headers in [
        "Origin: http://evil.example\r\n",
        "Referer: http://evil.example/attack.html\r\n",
        "Origin: null\r\n",
    ] {
        let r = post(addr, "/input", "type=click&x=0.5&y=0.5", headers);
        assert_eq!(r.status, 403, "{headers}");
        s.assert_nothing_injected(headers);
    }
    // DNS rebinding: a hostile name resolving to 127.0.0.1, Host and Origin agreeing.
    let port = addr.port();
    let r = raw_request(
        addr,
        format!("POST /input HTTP/1.1\r\nHost: evil.example:{port}\r\nOrigin: http://evil.example:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 22\r\nConnection: close\r\n\r\ntype=click&x=0.5&y=0.5").as_bytes(),
    );
    assert_eq!(r.status, 403, "rebinding: {}", r.text());
    s.assert_nothing_injected("a rebinding name");
    let r = post(
        addr,
        "/input",
        "type=click&x=0.5&y=0.5",
        "Sec-Fetch-Site: cross-site\r\n",
    );
    assert_eq!(r.status, 403);
    s.assert_nothing_injected("Sec-Fetch-Site: cross-site");
    // The same site is welcome.
    let r = post(
        addr,
        "/input",
        "type=move&x=0.5&y=0.5",
        &format!("Origin: http://{addr}\r\n"),
    );
    assert_eq!(r.status, 204);
    s.rec
        .until(WAIT, |e| matches!(e, Rec::Motion { x: 400, y: 300 }));
    // State never changes on GET: an <img src=/pointer?...> elsewhere must do nothing.
    for path in [
        "/input?type=click&x=0.5&y=0.5",
        "/pointer?xrate=0.5&yrate=0.5",
    ] {
        let r = get(addr, path);
        assert_eq!(r.status, 405, "{path}");
        assert_eq!(r.header("Allow").as_deref(), Some("POST, OPTIONS"));
        assert!(r.text().contains("POST"));
        s.assert_nothing_injected(path);
    }
}

#[test]
fn flooding_client_gets_429_and_only_allowed_events_arrive() {
    let s = session(640, 480, &[]);
    // Four keep-alive connections from one address share its allowance (burst 250, 250/s), so
    // the flood outruns the refill even when each request is slow on a loaded machine.
    let addr = s.deskcam.addr;
    let floods: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut conn = KeepAlive::connect(addr);
                let (mut accepted, mut limited) = (0usize, 0usize);
                for _ in 0..5_000 {
                    match conn.post("/input", "type=wheel&dy=1") {
                        (204, _) => accepted += 1,
                        (429, _) => limited += 1,
                        (other, why) => panic!("status {other}: {why}"),
                    }
                    if limited >= 20 {
                        break;
                    }
                }
                (accepted, limited)
            })
        })
        .collect();
    let (accepted, limited) = floods
        .into_iter()
        .map(|t| t.join().unwrap())
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(limited > 0, "no 429 after {accepted} events in a burst");
    // Exactly the accepted events arrive: all of them, and nothing more, before the sentinel.
    let seen = s.events_until_sentinel();
    assert_eq!(
        press_at(&seen, 5).len(),
        accepted,
        "accepted {accepted}, limited {limited}"
    );
}

// ---- refusals that need no X server --------------------------------------------------------

#[test]
fn control_on_the_network_without_auth_refuses_to_start() {
    let err = refused(
        &[
            "--source",
            "screen",
            "--control",
            "--display",
            ":99",
            "--listen",
            "0.0.0.0:0",
        ],
        "--control on 0.0.0.0:0",
    );
    assert!(err.contains("--auth"), "{err}");
}

#[test]
fn control_without_xtest_refuses_to_start() {
    let x = Xvfb::start_with(640, 480, &["-extension", "XTEST"]);
    refused(
        &[
            "--source",
            "screen",
            "--control",
            "--display",
            &x.display,
            "--listen",
            "127.0.0.1:0",
        ],
        "no XTest extension",
    );
}

#[test]
fn control_off_answers_403_and_get_405() {
    let d = Deskcam::start(&[]);
    let r = post(d.addr, "/input", "type=click&x=0.5&y=0.5", "");
    assert_eq!(r.status, 403);
    assert!(r.text().contains("--control"), "{}", r.text());
    assert_eq!(State::fetch(d.addr).bool("control"), Some(false));
    assert_eq!(get(d.addr, "/pointer?xrate=0.5&yrate=0.5").status, 405);
}

#[test]
fn auth_protects_every_endpoint_and_never_logs_the_password() {
    let dir = std::env::temp_dir().join(format!("deskcam-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("auth");
    std::fs::write(&file, "viewer:file-pw-42\n").unwrap();
    let file = file.to_string_lossy().to_string();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 3] = [
        (
            vec!["--auth", "viewer:flag-pw-42"],
            vec![],
            "viewer:flag-pw-42",
        ),
        (vec!["--auth-file", &file], vec![], "viewer:file-pw-42"),
        (
            vec![],
            vec![("DESKCAM_AUTH", "viewer:env-pw-42")],
            "viewer:env-pw-42",
        ),
    ];
    for (args, env, good) in cases {
        let d = Deskcam::start_env(&args, &env);
        for path in ["/", "/stream", "/snapshot", "/state", "/?action=stream"] {
            let r = get(d.addr, path);
            assert_eq!(r.status, 401, "{path}");
            assert_eq!(
                r.header("WWW-Authenticate").as_deref(),
                Some("Basic realm=\"deskcam\", charset=\"UTF-8\"")
            );
            let r = get_with(d.addr, path, &basic_auth("viewer:badguess-77"));
            assert_eq!(r.status, 401, "{path} with a wrong password");
        }
        let r = post(d.addr, "/input", "type=click&x=0.5&y=0.5", "");
        assert_eq!(r.status, 401);
        let r = get_with(d.addr, "/state", &basic_auth(good));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = get_with(d.addr, "/snapshot", &basic_auth(good));
        assert_eq!(r.status, 200);
        assert!(markers::size(&r.body).is_some());
        let password = good.split_once(':').unwrap().1;
        assert!(!d.log().contains(password), "{}", d.log());
        assert!(!d.log().contains("badguess"), "{}", d.log());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn huge_declared_body_does_not_kill_the_server() {
    let d = Deskcam::start(&[]);
    for path in ["/input", "/state"] {
        let method = if path == "/input" { "POST" } else { "GET" };
        let r = raw_request(
            d.addr,
            format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 99999999999999\r\n\r\ntype=click",
                d.addr
            )
            .as_bytes(),
        );
        assert!(
            r.status == 403 || r.status == 200 || r.status == 413,
            "{path}: {}",
            r.status
        );
    }
    // tiny_http used to allocate the whole declared body when dropping the request.
    assert!(
        wait_until(WAIT, || get(d.addr, "/state").status == 200),
        "the server died: {}",
        d.log()
    );
}

#[test]
fn auth_guards_control_and_refusals_inject_nothing() {
    let s = session_with(
        800,
        600,
        &["--control", "--auth", "me:pw-77"],
        &[],
        &basic_auth("me:pw-77"),
    );
    for headers in ["".to_string(), basic_auth("me:pw-78"), basic_auth("me")] {
        let r = post(s.deskcam.addr, "/input", "type=click&x=0.5&y=0.5", &headers);
        assert_eq!(r.status, 401, "{headers:?}");
        assert!(r.header("WWW-Authenticate").is_some());
        s.assert_nothing_injected(&headers);
    }
    s.click_lands("type=click&x=0.5&y=0.5", (400, 300));
}

#[test]
fn screen_without_control_is_view_only() {
    let s = session_with(640, 480, &[], &[], "");
    assert_eq!(State::fetch(s.deskcam.addr).bool("control"), Some(false));
    for path in ["/input", "/pointer?xrate=0.5&yrate=0.5"] {
        let r = post(s.deskcam.addr, path, "type=click&x=0.5&y=0.5", "");
        assert_eq!(r.status, 403, "{path}");
        s.assert_nothing_injected(path);
    }
}
