//! The man page deskcam(1): the OPTIONS section made from the flag table, the rest from the
//! page's template (`deskcam.1.in`). `deskcam --generate man` prints it; `make install` and the
//! Debian packages install it (tools/install.sh).

use std::time::SystemTime;

use super::flags::Category;
use super::help::{description, shown};
use crate::clock::utc_date;

const TEMPLATE: &str = include_str!("deskcam.1.in");

/// The whole page, dated `date`.
pub fn page(date: SystemTime) -> String {
    let (y, m, d) = utc_date(date);
    TEMPLATE
        .replace("@DATE@", &format!("{y:04}-{m:02}-{d:02}"))
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"))
        .replace("@OPTIONS@\n", &options())
}

/// One subsection per category, one tagged paragraph per flag.
fn options() -> String {
    let mut out = String::new();
    for category in Category::ALL {
        let mut flags = shown(category).peekable();
        if flags.peek().is_none() {
            continue;
        }
        out.push_str(&format!(".SS \"{}\"\n", escape(category.title())));
        for flag in flags {
            let short = flag
                .short
                .map(|s| format!("\\fB\\-{s}\\fR, "))
                .unwrap_or_default();
            let value = flag
                .value
                .map(|v| format!(" \\fI{}\\fR", escape(v)))
                .unwrap_or_default();
            out.push_str(&format!(
                ".TP\n{short}\\fB\\-\\-{}\\fR{value}\n{}\n",
                escape(flag.long),
                text(&description(flag))
            ));
        }
    }
    out
}

/// Text as roff prints it: backslashes and minus signs escaped (a bare `-` may be set as a
/// hyphen, and a flag must be typed with a minus).
fn escape(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

/// A paragraph: escaped, and never starting with a character roff reads as a request.
fn text(s: &str) -> String {
    let s = escape(s);
    if s.starts_with(['.', '\'']) {
        format!("\\&{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::flags::ALL;
    use std::time::Duration;

    #[test]
    fn the_page_has_every_shown_flag_and_no_placeholder() {
        let day = SystemTime::UNIX_EPOCH + Duration::from_secs(20_819 * 86_400);
        let page = page(day);
        assert!(page.contains(".TH DESKCAM 1 \"2027-01-01\""), "{page}");
        for placeholder in ["@DATE@", "@VERSION@", "@OPTIONS@"] {
            assert!(!page.contains(placeholder), "{placeholder} is left");
        }
        for f in ALL {
            let tagged = format!("\\fB\\-\\-{}\\fR", f.long.replace('-', "\\-"));
            assert_eq!(page.contains(&tagged), !f.hidden, "--{}", f.long);
        }
        assert!(page.contains("\\fB\\-q\\fR, \\fB\\-\\-quiet\\fR"));
    }

    #[test]
    fn roff_requests_are_not_started_by_accident() {
        assert_eq!(text(".hidden"), "\\&.hidden");
        assert_eq!(text("a-b \\ c"), "a\\-b \\e c");
    }
}
