//! Strict reading of the `Host`, `Origin` and `Referer` values the control guards compare. A
//! lenient reading is what let `Origin: http://evil.com@127.0.0.1:PORT` pass as same-site (the
//! text after the last `@` was taken as the host) and `Host: 127.0.0.1:evil.example` pass as an
//! IP address (the text after the colon was never looked at). Here a value either has exactly
//! the RFC 3986 shape, without user information, or it is refused.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A host and an explicit port, as a browser addresses this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// Lower case; an IPv6 address keeps its brackets.
    pub host: String,
    pub port: Option<u16>,
}

impl Authority {
    /// An IP address or `localhost`: a name a DNS-rebinding attack cannot use.
    pub fn is_ip_or_localhost(&self) -> bool {
        let h = self.host.as_str();
        h == "localhost"
            || h.parse::<Ipv4Addr>().is_ok()
            || h.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .is_some_and(|ip| ip.parse::<Ipv6Addr>().is_ok())
    }

    /// The port, with one that is the default of a scheme (80, 443) left out: behind an HTTPS
    /// proxy the page's origin says 443 while `Host` says nothing.
    fn significant_port(&self) -> Option<u16> {
        self.port.filter(|p| *p != 80 && *p != 443)
    }

    /// Both name the same server.
    pub fn same_as(&self, other: &Authority) -> bool {
        self.host == other.host && self.significant_port() == other.significant_port()
    }
}

fn clip(value: &str) -> String {
    value.chars().take(100).collect()
}

/// Parses `host [":" port]`: a registered name (letters, digits, `-._~` and RFC 3986
/// sub-delims), a dotted IPv4 address or a bracketed IPv6 one, and a port of 1 to 5 digits up
/// to 65535. No user information, no percent-escapes, no control bytes.
pub fn parse_host(value: &str) -> Result<Authority, String> {
    let bad = |why: &str| Err(format!("Host {:?}: {why}", clip(value)));
    let (host, port) = if value.starts_with('[') {
        let Some(close) = value.find(']') else {
            return bad("an IPv6 address without ]");
        };
        if value[1..close].parse::<Ipv6Addr>().is_err() {
            return bad("not an IPv6 address in [ ]");
        }
        match &value[close + 1..] {
            "" => (&value[..=close], None),
            rest => match rest.strip_prefix(':') {
                Some(port) => (&value[..=close], Some(port)),
                None => return bad("junk after the IPv6 address"),
            },
        }
    } else {
        match value.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (value, None),
        }
    };
    if host.is_empty() {
        return bad("no host name");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=".contains(c);
    if !host.starts_with('[') && !host.chars().all(allowed) {
        return bad("a character that is not allowed in a host name");
    }
    let port = match port {
        None => None,
        Some(p) if (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
            match p.parse::<u16>() {
                Ok(n) => Some(n),
                Err(_) => return bad("a port above 65535"),
            }
        }
        Some(_) => return bad("the port must be digits"),
    };
    Ok(Authority {
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// The authority of an `http` or `https` URL, its port made explicit from the scheme. With
/// `whole_origin`, nothing may follow it (an `Origin` is `scheme://host[:port]`); otherwise a
/// path and query may (a `Referer`), but never a fragment. User information is refused: a URL
/// with it names a site that tried to look like another.
fn url_authority(name: &str, value: &str, whole_origin: bool) -> Result<Authority, String> {
    let bad = |why: &str| Err(format!("{name} {:?}: {why}", clip(value)));
    let lower = value.to_ascii_lowercase();
    let (default, rest) = if lower.starts_with("http://") {
        (80, &value[7..])
    } else if lower.starts_with("https://") {
        (443, &value[8..])
    } else {
        return bad("not an http(s) URL of this server");
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return bad("a URL with user information names another site");
    }
    if whole_origin && !tail.is_empty() {
        return bad("an origin is scheme://host[:port] and nothing more");
    }
    if tail.contains('#') {
        return bad("a URL with a #fragment");
    }
    if !tail.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return bad("a control or non-ASCII byte");
    }
    let mut a = parse_host(authority).map_err(|e| format!("{name}: {e}"))?;
    a.port = Some(a.port.unwrap_or(default));
    Ok(a)
}

pub fn parse_origin(value: &str) -> Result<Authority, String> {
    url_authority("Origin", value, true)
}

pub fn parse_referer(value: &str) -> Result<Authority, String> {
    url_authority("Referer", value, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str, port: Option<u16>) -> Authority {
        Authority {
            host: h.into(),
            port,
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(
            parse_host("127.0.0.1:8080"),
            Ok(host("127.0.0.1", Some(8080)))
        );
        assert_eq!(parse_host("Desk.Example"), Ok(host("desk.example", None)));
        assert_eq!(parse_host("[::1]:80"), Ok(host("[::1]", Some(80))));
        for bad in [
            "",
            ":80",
            "127.0.0.1:evil.example",
            "127.0.0.1:",
            "127.0.0.1:65536",
            "127.0.0.1:+80",
            "127.0.0.1:080080",
            "user@127.0.0.1",
            "127.0.0.1\0",
            "a b",
            "[::1",
            "[::1]x",
            "[evil]",
            "evil.example%2e",
            "é.example",
        ] {
            assert!(parse_host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins_and_referers() {
        assert_eq!(
            parse_origin("http://127.0.0.1:8080"),
            Ok(host("127.0.0.1", Some(8080)))
        );
        assert_eq!(
            parse_origin("HTTPS://Desk.Example"),
            Ok(host("desk.example", Some(443)))
        );
        assert_eq!(
            parse_referer("http://[::1]/page?x=1"),
            Ok(host("[::1]", Some(80)))
        );
        for bad in [
            "null",
            "file:///tmp/x.html",
            "http://evil.com@127.0.0.1:8080",
            "http://:@127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080.evil.example",
            "http://127.0.0.1:80a",
            "http://127.0.0.1:8080\0",
            "http://",
            "ftp://127.0.0.1",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "http://evil.com@127.0.0.1:8080/",
            "http://127.0.0.1:8080/#frag",
            "http://127.0.0.1:8080/a b",
            "//127.0.0.1:8080/",
        ] {
            assert!(parse_referer(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sameness_ignores_default_ports_only() {
        let h = parse_host("desk.example").unwrap();
        assert!(h.same_as(&parse_origin("https://desk.example").unwrap()));
        assert!(h.same_as(&parse_origin("http://desk.example:80").unwrap()));
        assert!(!h.same_as(&parse_origin("http://desk.example:8080").unwrap()));
        assert!(parse_host("[::1]").unwrap().is_ip_or_localhost());
        assert!(parse_host("LOCALHOST:1").unwrap().is_ip_or_localhost());
        assert!(!parse_host("localhost.evil").unwrap().is_ip_or_localhost());
        assert!(
            !parse_host("127.0.0.1.evil.example")
                .unwrap()
                .is_ip_or_localhost()
        );
        assert!(!parse_host("0x7f.1").unwrap().is_ip_or_localhost());
    }
}
