//! Unit tests of the command line: defaults, every refusal naming its flag, source-specific
//! flags, the control guard and credentials that are never echoed.

use super::*;
use crate::config::flags::Category;
use crate::geometry::{Region, Resolution};
use crate::source::camera::ControlSetting;
use std::path::Path;

fn env() -> Env {
    Env {
        display: Some(":0".into()),
        auth: None,
        cpus: 2,
        state_dir: Some("/var/lib/deskcam".into()),
        date: std::time::SystemTime::UNIX_EPOCH,
    }
}

fn run(args: &[&str]) -> Result<Config, ConfigError> {
    match parse(args.iter().map(|s| s.to_string()), &env())? {
        Command::Run(c) => Ok(*c),
        other => panic!("expected a run command, got {other:?}"),
    }
}

fn screen(c: &Config) -> &ScreenSettings {
    match &c.source {
        Settings::Screen(s) => s,
        other => panic!("expected the screen source, got {other:?}"),
    }
}

fn camera(c: &Config) -> &CameraSettings {
    match &c.source {
        Settings::Camera(s) => s,
        other => panic!("expected the camera source, got {other:?}"),
    }
}

#[test]
fn defaults() {
    let c = run(&[]).unwrap();
    assert_eq!(
        c.source,
        Settings::Pattern(PatternSettings {
            size: DEFAULT_SIZE,
            fps: 30
        })
    );
    assert_eq!(c.listen, "0.0.0.0:8080".parse().unwrap());
    assert_eq!(c.quality.get(), 80);
    assert_eq!(c.max_clients, 64);
    assert_eq!(c.idle_stop, Duration::from_secs(10));
    assert_eq!(c.workers, 2);
    assert!(!c.control);
    assert!(c.auth.is_none());
}

#[test]
fn values_are_parsed() {
    let c = run(&[
        "--size",
        "640x480",
        "--fps=15",
        "--quality",
        "55",
        "--listen",
        "127.0.0.1:0",
        "--max-clients",
        "3",
    ])
    .unwrap();
    assert_eq!(
        c.source,
        Settings::Pattern(PatternSettings {
            size: Resolution {
                width: 640,
                height: 480
            },
            fps: 15
        })
    );
    assert_eq!(c.quality.get(), 55);
    assert_eq!(c.max_clients, 3);
    assert_eq!(c.listen.port(), 0);
}

#[test]
fn bad_values_name_the_flag() {
    for (args, flag) in [
        (&["--fps", "0"][..], "--fps"),
        (&["--fps", "abc"][..], "--fps"),
        (&["--quality", "101"][..], "--quality"),
        (&["--size", "1280"][..], "--size"),
        (&["--size", "8x8"][..], "--size"),
        (&["--size", "100000x10"][..], "--size"),
        (&["--listen", "nowhere"][..], "--listen"),
        (&["--source", "webcam"][..], "--source"),
        (&["--max-clients", "0"][..], "--max-clients"),
        (&["--subsampling", "411"][..], "--subsampling"),
        (&["--bogus"][..], "--bogus"),
        (&["--fps"][..], "--fps"),
    ] {
        let e = run(args).unwrap_err();
        assert!(e.to_string().contains(flag), "{args:?} gave {e}");
    }
}

#[test]
fn listen_forms() {
    let p = |t| parse_listen(t).map(|a| a.to_string());
    assert_eq!(p("8080").unwrap(), "0.0.0.0:8080");
    assert_eq!(p(":9000").unwrap(), "0.0.0.0:9000");
    assert_eq!(p("127.0.0.1:0").unwrap(), "127.0.0.1:0");
    assert_eq!(p("[::1]:8080").unwrap(), "[::1]:8080");
    assert!(parse_listen("localhost:8080").unwrap().ip().is_loopback());
    for bad in ["", "nowhere", "localhost", "1.2.3.4:99999", "host:"] {
        assert!(
            parse_listen(bad).unwrap_err().0.contains("--listen"),
            "{bad}"
        );
    }
}

#[test]
fn stray_values_are_not_echoed() {
    let e = run(&["--control", "me:secret"]).unwrap_err();
    assert!(!e.0.contains("secret"), "{e}");
}

#[test]
fn source_specific_flags_need_their_source() {
    assert!(
        run(&["--device", "/dev/video1"])
            .unwrap_err()
            .0
            .contains("--source camera")
    );
    assert!(
        run(&["--control"])
            .unwrap_err()
            .0
            .contains("--source screen")
    );
    assert!(run(&["--source", "screen", "--size", "640x480"]).is_err());
    assert!(run(&["--source", "camera", "--device", "/dev/video1", "--flip"]).is_ok());
}

#[test]
fn control_on_network_needs_auth() {
    let e = run(&["--source", "screen", "--control"]).unwrap_err();
    assert!(e.0.contains("--auth"), "{e}");
    assert!(
        run(&[
            "--source",
            "screen",
            "--control",
            "--listen",
            "127.0.0.1:8080"
        ])
        .is_ok()
    );
    let c = run(&[
        "--source",
        "screen",
        "--control",
        "--auth",
        "me:secret",
        "--tls-self-signed",
    ])
    .unwrap();
    assert_eq!(c.auth.unwrap().password, "secret");
}

#[test]
fn control_on_network_needs_tls_or_a_proxy() {
    let base = ["--source", "screen", "--control", "--auth", "me:secret"];
    let with = |extra: &[&str]| run(&[&base[..], extra].concat());
    let e = with(&[]).unwrap_err();
    assert!(
        e.0.contains("unencrypted") && e.0.contains("--tls-self-signed"),
        "{e}"
    );
    assert!(!e.0.contains('\n') && !e.0.contains("secret"), "{e}");
    assert!(with(&["--allow-plain-http"]).is_ok());
    assert!(with(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).is_ok());
    assert!(with(&["--listen", "127.0.0.1:8080"]).is_ok(), "loopback");
    // Neither: one line names both.
    let e = run(&["--source", "screen", "--control"]).unwrap_err();
    assert!(
        e.0.contains("--auth") && e.0.contains("--tls-self-signed"),
        "{e}"
    );
    // Behind a proxy every viewer looks local: the password is needed even on loopback.
    let local_proxy = [
        "--source",
        "screen",
        "--control",
        "--listen",
        "127.0.0.1:8080",
        "--trusted-proxy",
        "127.0.0.1",
    ];
    assert!(run(&local_proxy).unwrap_err().0.contains("--auth"));
    assert!(run(&[&local_proxy[..], &["--auth", "me:pw"]].concat()).is_ok());
}

#[test]
fn tls_flags() {
    assert_eq!(run(&[]).unwrap().tls, None);
    let c = run(&["--tls-cert", "/etc/c.pem", "--tls-key", "/etc/k.pem"]).unwrap();
    assert_eq!(
        c.tls,
        Some(CertificateSource::Files {
            cert: "/etc/c.pem".into(),
            key: "/etc/k.pem".into()
        })
    );
    let c = run(&["--tls-self-signed"]).unwrap();
    assert_eq!(
        c.tls,
        Some(CertificateSource::SelfSigned {
            state_dir: "/var/lib/deskcam".into()
        })
    );
    let c = run(&["--tls-self-signed", "--state-dir", "/tmp/x"]).unwrap();
    assert_eq!(
        c.tls,
        Some(CertificateSource::SelfSigned {
            state_dir: "/tmp/x".into()
        })
    );
    for (args, needle) in [
        (&["--tls-cert", "c.pem"][..], "--tls-key"),
        (&["--tls-key", "k.pem"][..], "--tls-cert"),
        (&["--tls-self-signed", "--tls-cert", "c"][..], "together"),
        (&["--state-dir", "/tmp"][..], "--tls-self-signed"),
        (
            &["--tls-self-signed", "--allow-plain-http"][..],
            "--allow-plain-http",
        ),
        (&["--trusted-proxy", "proxy.lan"][..], "--trusted-proxy"),
        (&["--tls-cert", "", "--tls-key", "k"][..], "--tls-cert"),
    ] {
        let e = run(args).unwrap_err();
        assert!(e.0.contains(needle), "{args:?}: {e}");
    }
    assert_eq!(
        run(&["--trusted-proxy", "::1"]).unwrap().trusted_proxy,
        Some("::1".parse().unwrap())
    );
}

#[test]
fn state_dir_defaults() {
    let d = |s, x, h| default_state_dir(s, x, h);
    assert_eq!(
        d(
            Some("/var/lib/deskcam:/var/lib/other"),
            Some("/x"),
            Some("/h")
        ),
        Some("/var/lib/deskcam".into())
    );
    assert_eq!(d(None, Some("/x"), Some("/h")), Some("/x/deskcam".into()));
    assert_eq!(
        d(Some(""), Some("relative"), Some("/h")),
        Some("/h/.local/state/deskcam".into()),
        "XDG paths must be absolute"
    );
    assert_eq!(d(None, None, None), None);
}

#[test]
fn credentials_are_never_echoed() {
    let e = run(&["--auth", "nocolon-secret"]).unwrap_err();
    assert!(!e.to_string().contains("secret"));
    assert!(
        !format!(
            "{:?}",
            Credentials {
                user: "u".into(),
                password: "pw123".into()
            }
        )
        .contains("pw123")
    );
}

#[test]
fn region_and_monitor() {
    let c = run(&["--source", "screen", "--region", "800x600+10+20"]).unwrap();
    assert_eq!(
        screen(&c).area,
        ScreenArea::Region(Region {
            x: 10,
            y: 20,
            width: 800,
            height: 600
        })
    );
    assert!(run(&["--source", "screen", "--region", "800x600"]).is_err());
    assert!(run(&["--source", "screen", "--region", "1x1+0+0"]).is_err());
    let c = run(&["--source", "screen", "--monitor", "HDMI-1"]).unwrap();
    assert_eq!(screen(&c).area, ScreenArea::Monitor("HDMI-1".into()));
    let c = run(&["--source", "screen"]).unwrap();
    assert_eq!(
        screen(&c),
        &ScreenSettings {
            display: Some(":0".into()),
            area: ScreenArea::Whole,
            cursor: true,
            max_fps: 30,
            band_rows: Some(16),
        }
    );
    let c = run(&["--source", "screen", "--full-frames", "--no-cursor"]).unwrap();
    assert_eq!((screen(&c).band_rows, screen(&c).cursor), (None, false));
}

#[test]
fn help_and_version() {
    assert!(matches!(parse(["--help"], &env()), Ok(Command::Help)));
    assert!(matches!(parse(["-V"], &env()), Ok(Command::Version)));
    assert!(
        matches!(parse(["--list-formats", "--device", "/dev/video3"], &env()), Ok(Command::ListFormats(p)) if p == Path::new("/dev/video3"))
    );
}

#[test]
fn camera_formats_rotation_and_controls() {
    use crate::image::{CaptureFormat, PixelFormat};
    use crate::orientation::Rotation;
    let cam = |extra: &[&str]| {
        let mut args = vec!["--source", "camera", "--listen", "127.0.0.1:8080"];
        args.extend_from_slice(extra);
        run(&args)
    };
    for (flag, want) in [
        ("nv12", PixelFormat::Nv12),
        ("yuv420", PixelFormat::Yuv420),
        ("YU12", PixelFormat::Yuv420),
        ("uyvy", PixelFormat::Uyvy),
        ("rgb24", PixelFormat::Rgb24),
        ("bgr24", PixelFormat::Bgr24),
        ("grey", PixelFormat::Grey),
    ] {
        let c = cam(&["--format", flag]).unwrap();
        assert_eq!(
            camera(&c).format,
            FormatChoice::Only(CaptureFormat::Raw(want))
        );
    }
    let e = cam(&["--format", "h264"]).unwrap_err();
    assert!(e.0.contains("nv12") && e.0.contains("grey"), "{e}");
    assert_eq!(
        camera(&cam(&["--rotate", "90"]).unwrap()).rotate,
        Rotation::R90
    );
    assert!(
        cam(&["--rotate", "45"])
            .unwrap_err()
            .0
            .contains("90, 180 or 270")
    );
    let c = cam(&["--set", "brightness=140", "--set", "Focus_Absolute=-3"]).unwrap();
    assert_eq!(
        camera(&c).controls,
        vec![
            ControlSetting {
                name: "brightness".into(),
                value: 140
            },
            ControlSetting {
                name: "focus_absolute".into(),
                value: -3
            }
        ]
    );
    for bad in ["brightness", "brightness=high", "=1", "bright ness=1"] {
        let e = cam(&["--set", bad]).unwrap_err();
        assert!(e.0.starts_with("--set"), "{e}");
    }
    assert!(
        run(&["--rotate", "90"])
            .unwrap_err()
            .0
            .contains("--source camera")
    );
    assert!(
        run(&["--set", "a=1"])
            .unwrap_err()
            .0
            .contains("--source camera")
    );
    // Changing the camera over the network needs a password, as --control does.
    let e = run(&["--source", "camera", "--camera-controls"]).unwrap_err();
    assert!(e.0.contains("--auth"), "{e}");
    assert!(cam(&["--camera-controls"]).unwrap().camera_controls);
    assert!(matches!(
        parse(["--list-controls", "--device", "/dev/video2"], &env()),
        Ok(Command::ListControls(p)) if p == Path::new("/dev/video2")
    ));
}

#[test]
fn log_levels() {
    assert_eq!(run(&[]).unwrap().log_level, LevelFilter::Info);
    assert_eq!(run(&["-q"]).unwrap().log_level, LevelFilter::Warn);
    assert_eq!(
        run(&["--quiet", "-q"]).unwrap().log_level,
        LevelFilter::Warn
    );
    assert_eq!(run(&["-v"]).unwrap().log_level, LevelFilter::Debug);
    assert_eq!(run(&["--verbose"]).unwrap().log_level, LevelFilter::Debug);
    for (name, level) in [
        ("error", LevelFilter::Error),
        ("warn", LevelFilter::Warn),
        ("info", LevelFilter::Info),
        ("debug", LevelFilter::Debug),
    ] {
        assert_eq!(run(&["--log-level", name]).unwrap().log_level, level);
    }
    let e = run(&["--log-level", "loud"]).unwrap_err();
    assert!(
        e.0.contains("--log-level") && e.0.contains("error, warn, info or debug"),
        "{e}"
    );
    let e = run(&["-q", "--verbose"]).unwrap_err();
    assert!(e.0.contains("--verbose") && e.0.contains("--quiet"), "{e}");
    assert!(run(&["--log-level", "debug", "-q"]).is_err());
}

#[test]
fn generate_names_what_it_makes() {
    for (what, want) in [
        ("man", Generated::Man),
        ("complete-bash", Generated::CompleteBash),
        ("complete-zsh", Generated::CompleteZsh),
    ] {
        assert!(
            matches!(parse(["--generate", what], &env()), Ok(Command::Generate(g)) if g == want)
        );
    }
    let e = parse(["--generate", "fish"], &env()).unwrap_err();
    assert!(e.0.contains("man, complete-bash or complete-zsh"), "{e}");
    assert!(generate(Generated::Man, &env()).contains(".TH DESKCAM 1 \"1970-01-01\""));
}

/// Every word a choice flag offers (and so completes) is one its validation takes.
#[test]
fn every_choice_in_the_table_is_accepted() {
    for flag in flags::ALL {
        for choice in flag.choice_list() {
            let value = format!("--{}={choice}", flag.long);
            let args: Vec<&str> = match flag.category {
                Category::Camera => vec!["--source", "camera", "--listen", "127.0.0.1:0", &value],
                Category::Screen => vec!["--source", "screen", "--listen", "127.0.0.1:0", &value],
                _ => vec![&value],
            };
            assert!(
                parse(args.iter().map(|s| s.to_string()), &env()).is_ok(),
                "{args:?}"
            );
        }
    }
}

/// Every flag of the Screen and Camera sections needs its source (so the section headings in
/// --help are true), and every other flag works with each source.
#[test]
fn sections_name_the_source_their_flags_need() {
    for flag in flags::ALL {
        let value = match (flag.value, flag.choice_list()) {
            (None, _) => None,
            (Some(_), [first, ..]) => Some(first.to_string()),
            (Some(_), []) => Some(
                match flag.long {
                    "region" => "100x100+0+0",
                    "set" => "brightness=1",
                    "listen" => "127.0.0.1:0",
                    "trusted-proxy" => "127.0.0.1",
                    "auth" => "me:pw",
                    "auth-file" | "tls-cert" | "tls-key" => "/nonexistent",
                    "size" => "640x480",
                    _ => "2",
                }
                .to_string(),
            ),
        };
        let given = match &value {
            Some(v) => format!("--{}={v}", flag.long),
            None => format!("--{}", flag.long),
        };
        for source in ["pattern", "screen", "camera"] {
            let args = ["--source", source, &given];
            let result = parse(args.iter().map(|s| s.to_string()), &env());
            let needs = match flag.category {
                Category::Screen => Some("screen"),
                Category::Camera if !flag.long.starts_with("list-") => Some("camera"),
                _ => None,
            };
            match needs.filter(|n| *n != source) {
                Some(n) => assert!(
                    result.is_err_and(|e| e.0 == format!("--{} needs --source {n}", flag.long)),
                    "{args:?} was taken, but the flag needs --source {n}"
                ),
                None => assert!(
                    result
                        .as_ref()
                        .map_or_else(|e| !e.0.contains("needs --source"), |_| true),
                    "{args:?}: {result:?}"
                ),
            }
        }
    }
}

/// docs/flags.md holds the whole `--help` (a test of the binary compares them too) and says
/// something about every flag, the hidden ones included.
#[test]
fn the_flag_docs_cover_every_flag() {
    let docs = include_str!("../../docs/flags.md");
    let help = help();
    assert!(
        docs.contains(&format!("```\n{help}```")),
        "docs/flags.md does not hold the current --help: paste `deskcam --help` into its first block"
    );
    let outside_help = docs.replace(&help, "");
    for flag in flags::ALL {
        let name = format!("--{}", flag.long);
        let in_help = help.contains(&name);
        assert!(
            in_help || outside_help.contains(&name),
            "{name} is in the flag table but not in docs/flags.md"
        );
    }
}
