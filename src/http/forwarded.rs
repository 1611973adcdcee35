//! `--trusted-proxy`: behind a reverse proxy every request comes from the proxy's address, so
//! the password lockout, the control rate limit and the logs would see one client. A request
//! from the trusted proxy names its real client in `X-Forwarded-For`; from anyone else the
//! header is ignored (a client could write any address in it).
//!
//! The last entry is the one to believe: a proxy appends the address it saw to whatever the
//! client sent (nginx's `$proxy_add_x_forwarded_for`), so only the rightmost is the proxy's
//! own word.

use std::net::{IpAddr, SocketAddr};

use tiny_http::Request;

/// The client address that the last `X-Forwarded-For` entry names; `None` without the header.
pub fn last_forwarded(values: &[&str]) -> Result<Option<IpAddr>, String> {
    let Some(last) = values.last() else {
        return Ok(None);
    };
    let entry = last.rsplit(',').next().unwrap_or("").trim();
    // "[::1]" and "1.2.3.4:5678" appear in the wild; the port means nothing here.
    let bare = entry
        .strip_prefix('[')
        .and_then(|e| e.split_once(']'))
        .map_or(entry, |(ip, _)| ip);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(Some(ip));
    }
    match bare.parse::<SocketAddr>() {
        Ok(a) => Ok(Some(a.ip())),
        Err(_) => Err(format!(
            "X-Forwarded-For from the trusted proxy does not end in an IP address: {:?}",
            entry.chars().take(60).collect::<String>()
        )),
    }
}

/// Replaces the request's client address with the one the trusted proxy names (port 0: the
/// proxy does not say it). A request from another address is left as it is.
pub fn apply(trusted: Option<IpAddr>, request: &mut Request) -> Result<(), String> {
    let Some(proxy) = trusted else {
        return Ok(());
    };
    if request.remote_addr().map(|a| a.ip()) != Some(proxy) {
        return Ok(());
    }
    let values: Vec<&str> = request
        .headers()
        .iter()
        .filter(|h| h.field.equiv("X-Forwarded-For"))
        .map(|h| h.value.as_str())
        .collect();
    if let Some(client) = last_forwarded(&values)? {
        request.set_remote_addr(Some(SocketAddr::new(client, 0)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_entry_counts() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(last_forwarded(&[]), Ok(None));
        assert_eq!(last_forwarded(&["203.0.113.9"]), Ok(ip("203.0.113.9")));
        // The client wrote the first entry; the proxy appended the second.
        assert_eq!(
            last_forwarded(&["10.0.0.1, 203.0.113.9"]),
            Ok(ip("203.0.113.9"))
        );
        assert_eq!(
            last_forwarded(&["1.1.1.1", "2001:db8::7"]),
            Ok(ip("2001:db8::7"))
        );
        assert_eq!(
            last_forwarded(&["[2001:db8::7]:443"]),
            Ok(ip("2001:db8::7"))
        );
        assert_eq!(last_forwarded(&["192.0.2.1:5555"]), Ok(ip("192.0.2.1")));
        for bad in ["", "unknown", "1.2.3.4, evil", "1.2.3.4.5", "1.2.3.4,"] {
            let e = last_forwarded(&[bad]).unwrap_err();
            assert!(
                e.contains("X-Forwarded-For") && !e.contains('\n'),
                "{bad}: {e}"
            );
        }
    }
}
