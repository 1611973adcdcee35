//! Headless Chromium on the HTTPS page, trusting the test CA through its NSS database (no
//! "ignore certificate errors"): live frames, control on, the "not encrypted" mark hidden, and a
//! click that lands on the right pixel of the recording X client. Over plain HTTP on loopback
//! the same page shows the mark.

use std::time::Duration;

use testkit::browser;
use testkit::server::Deskcam;
use testkit::tls::TestCa;
use testkit::x11::{Rec, Recorder, Xvfb};

/// What tests/browser/https.mjs reported: the mark, and the picture fractions it clicked.
pub(crate) struct Clicked {
    pub mark: String,
    pub at: (f64, f64),
}

/// Runs tests/browser/https.mjs on `url` with a home whose NSS database trusts `ca`.
pub(crate) fn chromium_click(url: &str, ca: &TestCa, credentials: Option<&str>) -> Clicked {
    let home = ca.browser_home();
    let mut args = vec![url];
    args.extend(credentials);
    let out = browser::run("https.mjs", &args, &home);
    let word = |key: &str| {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {}{}", out.stdout, out.stderr))
            .trim()
            .to_string()
    };
    let mark = word("MARK ");
    let clicked = word("CLICKED ");
    let f: Vec<f64> = clicked.split(' ').filter_map(|v| v.parse().ok()).collect();
    Clicked {
        mark,
        at: (f[0], f[1]),
    }
}

/// Asserts the recorder saw a left press within 3 pixels of fraction `at` of a `size` screen.
pub(crate) fn assert_press_at(rec: &Recorder, size: (u32, u32), at: (f64, f64)) {
    let want = (at.0 * size.0 as f64, at.1 * size.1 as f64);
    let seen = rec.until(Duration::from_secs(10), |e| {
        matches!(e, Rec::Release { button: 1, .. })
    });
    let press = seen.iter().find_map(|e| match e {
        Rec::Press { button: 1, x, y } => Some((*x as f64, *y as f64)),
        _ => None,
    });
    assert!(
        press.is_some_and(|p| (p.0 - want.0).abs() <= 3.0 && (p.1 - want.1).abs() <= 3.0),
        "wanted a press at {want:?}: {seen:?}"
    );
}

#[test]
fn chromium_controls_the_desktop_over_https_and_marks_plain_http() {
    let ca = TestCa::new("chromium");
    let leaf = ca.leaf("server");
    let (w, h) = (1024, 768);
    let x = Xvfb::start(w, h);
    let rec = Recorder::start(&x.display);
    let (cert, key) = (leaf.cert.to_string_lossy(), leaf.key.to_string_lossy());
    let screen = ["--source", "screen", "--display", &x.display, "--control"];
    let d = Deskcam::start(&[&screen[..], &["--tls-cert", &cert, "--tls-key", &key]].concat());
    let clicked = chromium_click(&d.url("/"), &ca, None);
    assert_eq!(clicked.mark, "hidden", "HTTPS is encrypted");
    assert_press_at(&rec, (w, h), clicked.at);
    drop(d);

    // Plain HTTP on loopback: control works, and the page says it is not encrypted.
    let d = Deskcam::start(&screen);
    let clicked = chromium_click(&d.url("/"), &ca, None);
    assert_eq!(clicked.mark, "shown", "control over plain HTTP");
    assert_press_at(&rec, (w, h), clicked.at);
}
