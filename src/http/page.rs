//! The viewer page (`index.html`, compiled in) and its Content-Security-Policy. The page stays
//! one file with inline scripts and styles, so it works offline on a LAN; the policy allows
//! exactly those inline blocks by their SHA-256 hashes (CSP Level 2), never `'unsafe-inline'`,
//! so an injected `<script>` or `on*=` attribute would not run. The hashes are computed from
//! the page itself, once, so an edit to the page can never leave the policy stale.

use std::io::Cursor;
use std::sync::LazyLock;

use base64::Engine as _;
use tiny_http::Response;

use super::header;

/// The viewer page, compiled in so the binary is all a user needs.
pub const PAGE: &str = include_str!("../../index.html");

/// The text inside each `<TAG>...</TAG>` of `page`: exactly the bytes a browser hashes. Only
/// attribute-less tags count: the page has no `<script src>` and no typed scripts.
fn blocks<'a>(page: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut found = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else {
            break;
        };
        found.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    found
}

/// `'sha256-BASE64'` of one inline block, as CSP Level 2 writes a hash source.
fn hash_source(block: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, block.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// The policy for `page`: its own inline scripts and styles, pictures and requests to this
/// server only (relative URLs, so it holds under a reverse proxy's prefix), no framing
/// (clickjacking), no `<base>` or form posts elsewhere.
fn policy(page: &str) -> String {
    let hashes = |tag| {
        blocks(page, tag)
            .into_iter()
            .map(hash_source)
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src 'self' blob: data:; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hashes("script"),
        hashes("style")
    )
}

static POLICY: LazyLock<String> = LazyLock::new(|| policy(PAGE));

/// The page with its headers.
pub fn response() -> Response<Cursor<Vec<u8>>> {
    Response::from_string(PAGE)
        .with_header(header("Content-Type", "text/html; charset=utf-8"))
        .with_header(header("Cache-Control", "no-cache"))
        // Clickjacking: another site could frame the control page invisibly (the browser
        // reuses saved credentials) and have the user click through it. frame-ancestors says
        // the same to browsers that read CSP.
        .with_header(header("X-Frame-Options", "DENY"))
        .with_header(header("Content-Security-Policy", &POLICY))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        // Not no-referrer: with it a browser sends `Origin: null` on the page's own POSTs,
        // which the control guard refuses as cross-site (Fetch standard, "append a request
        // `Origin` header").
        .with_header(header("Referrer-Policy", "same-origin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_sources_are_csp_level_2() {
        // The example of the CSP Level 2 specification, section 4.2.4.
        assert_eq!(
            hash_source("alert('Hello, world.');"),
            "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
        );
    }

    #[test]
    fn blocks_are_the_exact_text_between_the_tags() {
        let page = "<style>a{}</style><script>\nx()\n</script><p>s</p><script>y()</script>";
        assert_eq!(blocks(page, "script"), ["\nx()\n", "y()"]);
        assert_eq!(blocks(page, "style"), ["a{}"]);
        let p = policy(page);
        assert!(p.contains(&hash_source("\nx()\n")) && p.contains(&hash_source("y()")));
        assert!(p.contains(&format!("style-src {};", hash_source("a{}"))));
    }

    /// Every script and style of the page is allowed by its hash and nothing else inline is:
    /// an inline handler or style attribute would be blocked in the browser, silently.
    #[test]
    fn the_page_needs_nothing_the_policy_refuses() {
        let p = &*POLICY;
        assert!(!p.contains("unsafe"), "{p}");
        assert!(p.contains("frame-ancestors 'none'"));
        let scripts = blocks(PAGE, "script");
        assert!(scripts.len() >= 2, "the page's scripts were not found");
        for s in scripts.iter().chain(&blocks(PAGE, "style")) {
            assert!(p.contains(&hash_source(s)));
        }
        // The markup without the scripts' text: each tag seen there is one block found (no
        // `<script src=...>`, no `<script type=...>`), and nothing inline but those blocks.
        let mut markup = PAGE.to_string();
        for s in &scripts {
            markup = markup.replacen(s, "", 1);
        }
        assert_eq!(markup.matches("<script").count(), scripts.len());
        assert_eq!(
            markup.matches("<style").count(),
            blocks(PAGE, "style").len()
        );
        let lower = markup.to_ascii_lowercase();
        for banned in [" style=", "javascript:", "<link", "<iframe", "<object"] {
            assert!(!lower.contains(banned), "the page has {banned:?}");
        }
        // No attribute named on...= (an inline event handler) anywhere in the markup.
        for word in markup.split(|c: char| c.is_whitespace() || c == '<') {
            let name = word.split('=').next().unwrap_or_default();
            let handler = word.contains('=')
                && name.len() > 2
                && name.starts_with("on")
                && name.chars().all(|c| c.is_ascii_lowercase());
            assert!(!handler, "an inline event handler: {word}");
        }
    }
}
