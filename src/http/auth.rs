//! HTTP Basic authentication (RFC 7617) for every endpoint when `--auth`, `--auth-file` or
//! `DESKCAM_AUTH` is set. The comparison takes the same time wherever the first wrong byte is,
//! so response timing does not reveal how much of a guess was right. Credentials are never
//! logged, echoed or kept in decoded form longer than one request.

use std::fmt;

use base64::Engine as _;

/// The one user and password (`--auth`, `--auth-file` or `DESKCAM_AUTH`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    /// Never print the password, even in a debug dump.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({:?}, <hidden>)", self.user)
    }
}

/// The challenge sent with every 401, so browsers show their login prompt.
pub const CHALLENGE: &str = "Basic realm=\"deskcam\", charset=\"UTF-8\"";

/// The expected `user:password` bytes.
pub struct Auth {
    user: String,
    expected: Vec<u8>,
}

impl Auth {
    pub fn new(credentials: &Credentials) -> Auth {
        Auth {
            user: credentials.user.clone(),
            expected: format!("{}:{}", credentials.user, credentials.password).into_bytes(),
        }
    }

    /// The one user name (every allowed request is this user; the audit log names it).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// True when `authorization` (the header's value, if any) carries the right credentials.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        match base64::engine::general_purpose::STANDARD.decode(token.trim()) {
            Ok(given) => constant_time_eq(&given, &self.expected),
            Err(_) => false,
        }
    }
}

/// Compares all of the longer input whatever the content, so the time taken depends only on
/// the lengths, never on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    // Keep the optimiser from turning the loop into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new(&Credentials {
            user: "me".into(),
            password: "s3cr:et".into(),
        })
    }

    fn basic(s: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }

    #[test]
    fn right_credentials_pass() {
        assert!(auth().allows(Some(&basic("me:s3cr:et"))));
        // The scheme is case-insensitive (RFC 7235 section 2.1).
        assert!(auth().allows(Some(&basic("me:s3cr:et").replace("Basic", "bAsIc"))));
    }

    #[test]
    fn everything_else_fails() {
        let a = auth();
        for header in [
            None,
            Some(String::new()),
            Some("Basic".into()),
            Some(basic("me:s3cr:eT")),
            Some(basic("me:s3cr:et ")),
            Some(basic("me:s3cr:e")),
            Some(basic("you:s3cr:et")),
            Some(basic("")),
            Some("Basic !!!notbase64".into()),
            Some(basic("me:s3cr:et").replace("Basic", "Bearer")),
        ] {
            assert!(!a.allows(header.as_deref()), "{header:?}");
        }
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        // Lengths that differ by a multiple of 256 still differ.
        assert!(!constant_time_eq(&[0; 256], b""));
    }
}
