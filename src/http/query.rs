//! Lenient query-string parsing. Tools add their own keys (OctoPrint appends a bare
//! cache-buster like `&1699999999`, browsers `_=...`): unknown keys are ignored, while the keys
//! we act on are validated strictly so a typo is a 400, not a silent default.

pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query: &str) -> Query {
        Query {
            pairs: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// Parses a form (`application/x-www-form-urlencoded`) strictly, for what a viewer sends
    /// to control the desktop: a malformed percent-escape, or bytes that are not UTF-8 once
    /// decoded, are refused rather than turned into U+FFFD and typed (`form_urlencoded`
    /// decodes lossily). A U+FFFD the client sent as valid UTF-8 is text like any other.
    pub fn parse_strict(form: &str) -> Result<Query, String> {
        let mut pairs = Vec::new();
        for pair in form.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode_strict(key).map_err(|why| format!("a key {why}"))?;
            let value = decode_strict(value).map_err(|why| format!("{key} {why}"))?;
            pairs.push((key, value));
        }
        Ok(Query { pairs })
    }

    /// The last value given for `key` (later wins, as most servers do).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A yes/no parameter: absent is `default`; `1/true/yes`, `0/false/no`, and a bare key
    /// (`?fresh`) means yes. Anything else is an error naming the key.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(default),
            Some("" | "1" | "true" | "yes") => Ok(true),
            Some("0" | "false" | "no") => Ok(false),
            Some(other) => Err(format!("{key}={other:?}: expected 1 or 0")),
        }
    }
}

/// Decodes `+` and `%XX` of one form component, refusing what does not decode to UTF-8.
fn decode_strict(text: &str) -> Result<String, &'static str> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = rest
                    .get(..2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .filter(|_| rest[..2].iter().all(u8::is_ascii_hexdigit))
                    .ok_or("has a malformed percent-escape")?;
                bytes.push(hex);
                rest = &rest[2..];
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|_| "is not valid UTF-8 after percent-decoding")
}

/// Splits a request target into path and query (without the `?`).
pub fn split_url(url: &str) -> (&str, &str) {
    match url.split_once('?') {
        Some((p, q)) => (p, q),
        None => (url, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_keys_and_junk_are_tolerated() {
        let q = Query::parse("action=stream&1699999999&&=x&%ZZ=1&fresh=1");
        assert_eq!(q.get("action"), Some("stream"));
        assert_eq!(q.get("1699999999"), Some(""));
        assert_eq!(q.flag("fresh", false), Ok(true));
    }

    #[test]
    fn flags_are_strict() {
        assert_eq!(Query::parse("").flag("fresh", false), Ok(false));
        assert_eq!(Query::parse("fresh").flag("fresh", false), Ok(true));
        assert_eq!(Query::parse("fresh=0").flag("fresh", true), Ok(false));
        assert!(
            Query::parse("fresh=maybe")
                .flag("fresh", false)
                .unwrap_err()
                .contains("fresh")
        );
        // Percent-decoding happens before validation.
        assert_eq!(Query::parse("fresh=%31").flag("fresh", false), Ok(true));
    }

    #[test]
    fn last_value_wins() {
        assert_eq!(Query::parse("a=1&a=2").get("a"), Some("2"));
    }

    #[test]
    fn strict_forms_refuse_what_does_not_decode_to_utf8() {
        let q = Query::parse_strict("type=text&text=Hello%2C+w%C3%B6rld%21&&x").unwrap();
        assert_eq!(q.get("text"), Some("Hello, wörld!"));
        assert_eq!(q.get("x"), Some(""));
        // A replacement character sent as UTF-8 is valid text.
        let q = Query::parse_strict("text=%EF%BF%BD").unwrap();
        assert_eq!(q.get("text"), Some("\u{FFFD}"));
        for bad in [
            "text=%ff%fe",       // not UTF-8 at all
            "text=%C0%AF",       // overlong '/'
            "text=%ED%A0%80",    // a UTF-16 surrogate
            "text=%F4%90%80%80", // above U+10FFFF
            "text=%E2%82",       // truncated
            "text=%E2%82%AC%E2", // truncated after a valid one
            "text=%zz",          // not an escape
            "text=%4",           // short escape
            "text=%+1",          // sign is not a hex digit
            "%ff=1",             // in a key
        ] {
            let e = Query::parse_strict(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad}"));
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn split() {
        assert_eq!(split_url("/snapshot?fresh=1"), ("/snapshot", "fresh=1"));
        assert_eq!(split_url("/"), ("/", ""));
    }
}
