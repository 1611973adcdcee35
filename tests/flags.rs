//! The flag table's products, judged from outside: `--help` is the text docs/flags.md shows,
//! the man page renders without a warning, real bash and zsh complete flags and values from the
//! generated scripts, and `--log-level` reaches every level, the connection layer's lines
//! included.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use testkit::child::finish;
use testkit::http::{get, raw_request};
use testkit::server::{Deskcam, run_to_end};

/// Running a shell over the completions takes a moment; more means it hangs.
const SHELL: Duration = Duration::from_secs(30);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deskcam-flags-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generated(what: &str) -> String {
    let out = run_to_end(&["--generate", what]);
    assert_eq!(out.code, 0, "--generate {what}: {}", out.stderr);
    out.stdout
}

#[test]
fn help_is_what_docs_flags_md_shows() {
    let help = run_to_end(&["--help"]);
    assert_eq!(help.code, 0);
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/flags.md"))
        .unwrap();
    let start = docs.find("## `deskcam --help`").expect("a --help section");
    let block = docs[start..]
        .split("```\n")
        .nth(1)
        .expect("a code block in the --help section");
    assert_eq!(
        block, help.stdout,
        "docs/flags.md and `deskcam --help` differ: paste the program's --help into the docs"
    );
    // The hidden flag is documented, not shown.
    assert!(!help.stdout.contains("--generate") && docs.contains("--generate"));
}

#[test]
fn the_man_page_renders_without_a_warning() {
    let dir = scratch("man");
    let page = dir.join("deskcam.1");
    std::fs::write(&page, generated("man")).unwrap();
    // The check lintian makes of every packaged page.
    let out = finish(
        Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z"])
            .arg(&page)
            .env("LC_ALL", "C.UTF-8")
            .env("MANROFFSEQ", ""),
        SHELL,
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "man complained");
    let text = finish(
        Command::new("man")
            .args(["-l"])
            .arg(&page)
            .env("MANWIDTH", "100"),
        SHELL,
    );
    // man sets bold and underline by overstriking (`N\bN`, `_\bN`): keep the last of each.
    let mut plain = String::new();
    for c in text.stdout.chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    for wanted in [
        "--log-level LEVEL",
        "-q, --quiet",
        "--source pattern|screen|camera",
        "ENDPOINTS",
    ] {
        assert!(plain.contains(wanted), "the page lacks {wanted:?}: {plain}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// What bash's completion function offers for the words typed so far (the last one is the
/// word being completed), run by bash itself as bash-completion would.
fn bash_offers(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _deskcam; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = finish(Command::new("bash").args(["--norc", "-c", &program]), SHELL);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{words:?}");
    // An empty reply prints one empty line.
    out.stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_flags_and_their_values() {
    let dir = scratch("bash");
    let script = dir.join("deskcam");
    std::fs::write(&script, generated("complete-bash")).unwrap();
    let offers = |words: &[&str]| bash_offers(&script, words);
    assert_eq!(offers(&["deskcam", "--sou"]), ["--source"]);
    assert_eq!(offers(&["deskcam", "--source", "sc"]), ["screen"]);
    // bash splits `--source=ca` at the '=' (COMP_WORDBREAKS).
    assert_eq!(offers(&["deskcam", "--source", "=", "ca"]), ["camera"]);
    assert_eq!(
        offers(&["deskcam", "--log-level", ""]),
        ["error", "warn", "info", "debug"]
    );
    assert_eq!(
        offers(&["deskcam", "--generate", "complete-"]),
        ["complete-bash", "complete-zsh"]
    );
    assert_eq!(offers(&["deskcam", "--fps", ""]), Vec::<String>::new());
    let file = dir.join("cert.pem");
    std::fs::write(&file, "").unwrap();
    let typed = format!("{}/ce", dir.display());
    assert_eq!(
        offers(&["deskcam", "--tls-cert", &typed]),
        [file.display().to_string()]
    );
    let all = offers(&["deskcam", "-"]);
    for flag in [
        "--help",
        "-h",
        "--verbose",
        "-v",
        "--quiet",
        "--log-level",
        "--generate",
        "--set",
    ] {
        assert!(
            all.iter().any(|f| f == flag),
            "{flag} is not offered: {all:?}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn zsh_completes_flags_and_their_values() {
    let dir = scratch("zsh");
    std::fs::write(dir.join("_deskcam"), generated("complete-zsh")).unwrap();
    std::fs::write(dir.join("cert.pem"), "").unwrap();
    // An interactive zsh on a pseudo-terminal (zpty) with only this completion on its fpath:
    // each line is typed, TAB completes it, and a key bound to a widget prints the line as it
    // then stands.
    let cases = [
        ("deskcam --sou", "deskcam --source="),
        ("deskcam --source=sc", "deskcam --source=screen "),
        ("deskcam --source sc", "deskcam --source screen "),
        ("deskcam --log-level d", "deskcam --log-level debug "),
        ("deskcam --gen", "deskcam --generate="),
        ("deskcam -q --qu", "deskcam -q --quality="),
        ("deskcam --set a=1 --se", "deskcam --set a=1 --set="),
        (
            "deskcam --tls-cert CERTDIR/ce",
            "deskcam --tls-cert CERTDIR/cert.pem ",
        ),
    ];
    let mut script = format!(
        "zmodload zsh/zpty
zpty -b z zsh -f -i
zpty -w z 'unsetopt prompt_sp prompt_cr; PS1=\"\"; fpath=({dir} $fpath); autoload -Uz compinit; compinit -u -D; show() {{ print -rn -- \"BUF:$BUFFER:END\" }}; zle -N show; bindkey \"^X\" show; print RE\"\"ADY'
zpty -r z line '*READY*'
try() {{
  zpty -w -n z \"$1\"$'\\t\\x18'
  zpty -r z out '*:END'
  print -r -- \"${{${{out##*BUF:}}%:END}}\"
  zpty -w -n z $'\\x15'
}}
",
        dir = dir.display()
    );
    for (typed, _) in cases {
        script.push_str(&format!(
            "try '{}'\n",
            typed.replace("CERTDIR", &dir.display().to_string())
        ));
    }
    script.push_str("zpty -d z\n");
    let out = finish(Command::new("zsh").args(["-f", "-c", &script]), SHELL);
    assert_eq!(out.code, 0, "zsh: {}", out.stderr);
    let got: Vec<&str> = out.stdout.lines().collect();
    let want: Vec<String> = cases
        .iter()
        .map(|(_, w)| w.replace("CERTDIR", &dir.display().to_string()))
        .collect();
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_log_level_reaches_debug_and_the_connection_layer() {
    let garbage = b"GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n";
    // Debug: each snapshot, and the connection layer's refusal with the client's address.
    let d = Deskcam::start(&["--size", "160x120", "--verbose"]);
    assert_eq!(get(d.addr, "/snapshot").status, 200);
    assert_eq!(raw_request(d.addr, garbage).status, 400);
    d.log_line(Duration::from_secs(5), |l| {
        l.contains(" deskcam: debug: client 127.0.0.1:") && l.contains("got a snapshot")
    });
    d.log_line(Duration::from_secs(5), |l| {
        l.contains(" deskcam: debug: tiny_http: client 127.0.0.1:")
            && l.contains("refused its request head: 400")
    });
    // The default: neither, but the stream lines of the info level. A sentinel stream after
    // the refusal shows the log has caught up.
    let d = Deskcam::start(&["--size", "160x120"]);
    assert_eq!(get(d.addr, "/snapshot").status, 200);
    assert_eq!(raw_request(d.addr, garbage).status, 400);
    let _stream = testkit::http::MjpegReader::get(d.addr, "/stream");
    d.log_line(Duration::from_secs(5), |l| {
        l.contains("connected to /stream")
    });
    let log = d.log();
    assert!(
        !log.contains("debug:") && !log.contains("tiny_http"),
        "{log}"
    );
}

#[test]
fn the_connection_layer_s_warnings_show_at_the_default_level() {
    let d = Deskcam::start_with_fd_limit(64, &["--size", "160x120", "--max-clients", "1000"]);
    // Streams hold a descriptor each, until accepting runs out of them.
    let _streams: Vec<TcpStream> = (0..80)
        .map(|_| testkit::http::request_stream(d.addr, "/stream"))
        .collect();
    d.log_line(Duration::from_secs(10), |l| {
        l.contains(" deskcam: warning: tiny_http: out of file descriptors")
    });
}
