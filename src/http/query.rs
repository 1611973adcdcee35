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
    fn split() {
        assert_eq!(split_url("/snapshot?fresh=1"), ("/snapshot", "fresh=1"));
        assert_eq!(split_url("/"), ("/", ""));
    }
}
