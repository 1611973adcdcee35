//! The `--help` text, made from the flag table: every flag with its default, grouped by what it
//! configures. docs/flags.md carries a copy, which a test compares with the program's.

use super::flags::{ALL, Category, DefaultValue, Flag};

/// What `--help` prints first.
pub const ABOUT: &str =
    "deskcam: stream a webcam, an X11 desktop or a test pattern to any browser as MJPEG.";
/// What `--help` prints last.
pub const ENDPOINTS: &str =
    "Endpoints: /  /stream  /snapshot[?fresh=1]  /state  POST /input  /camera/controls";
/// Lines are wrapped to this many columns.
const WIDTH: usize = 100;
/// Where a flag's description starts.
const DOC_COLUMN: usize = 26;

/// The whole `--help` text.
pub fn help() -> String {
    let mut out = format!("{ABOUT}\n\nUsage: deskcam [OPTIONS]\n");
    for category in Category::ALL {
        let mut flags = shown(category).peekable();
        if flags.peek().is_none() {
            continue;
        }
        out.push_str(&format!("\n{}:\n", category.title()));
        for flag in flags {
            entry(&mut out, flag);
        }
    }
    out.push_str(&format!("\n{ENDPOINTS}\n"));
    out
}

/// The flags of `category` that `--help` and the man page show.
pub fn shown(category: Category) -> impl Iterator<Item = &'static Flag> {
    ALL.iter()
        .copied()
        .filter(move |f| f.category == category && !f.hidden)
}

/// `-q, --quiet` or `--fps N`.
pub fn synopsis(flag: &Flag) -> String {
    let short = flag.short.map(|s| format!("-{s}, ")).unwrap_or_default();
    let value = flag.value.map(|v| format!(" {v}")).unwrap_or_default();
    format!("{short}--{}{value}", flag.long)
}

/// The description with its default, as both `--help` and the man page say it.
pub fn description(flag: &Flag) -> String {
    match flag.default {
        DefaultValue::None => flag.doc_text(),
        DefaultValue::Value(d) | DefaultValue::Said(d) => {
            format!("{} [default: {d}]", flag.doc_text())
        }
    }
}

/// One flag: its synopsis, then its description from [`DOC_COLUMN`] on (on the same line when
/// the synopsis leaves room), wrapped at word boundaries.
fn entry(out: &mut String, flag: &Flag) {
    let head = format!("  {}", synopsis(flag));
    let mut line = if head.len() + 2 <= DOC_COLUMN {
        format!("{head:DOC_COLUMN$}")
    } else {
        format!("{head}  ")
    };
    let mut fresh = true;
    for word in description(flag).split(' ') {
        if !fresh && line.len() + 1 + word.len() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(DOC_COLUMN);
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shown_flag_is_in_the_help_and_no_line_is_too_long() {
        let text = help();
        for f in ALL {
            let listed = text.contains(&format!("--{}", f.long));
            assert_eq!(listed, !f.hidden, "--{}", f.long);
        }
        for line in text.lines() {
            assert!(line.len() <= WIDTH, "too long: {line}");
        }
        assert!(text.contains("  -q, --quiet  ") || text.contains("  -q, --quiet "));
        assert!(text.contains("[default: 30]"));
    }
}
