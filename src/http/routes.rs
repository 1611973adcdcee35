//! Maps a method and URL to what to do, as a pure function so every route, alias and refusal
//! is unit-tested without a socket. Aliases keep the URLs users already have in OctoPrint,
//! Home Assistant and the Flask tutorial (`/?action=stream`, `/video_feed`).

use super::query::{Query, split_url};

#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Page,
    Stream,
    Snapshot {
        fresh: bool,
    },
    State,
    /// `POST /input`: one control event.
    Input,
    /// `POST /pointer?xrate=&yrate=`: the tutorial's click.
    Pointer,
    /// `GET` (`set: false`) or `POST` (`set: true`) `/camera/controls`.
    CameraControls {
        set: bool,
    },
    /// `OPTIONS`: answer 204 with these methods.
    Options(&'static str),
}

/// A refusal: status code, one-line reason, and the `Allow` header for 405.
#[derive(Debug, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub reason: String,
    pub allow: Option<&'static str>,
}

impl Reject {
    pub fn new(status: u16, reason: impl Into<String>) -> Reject {
        Reject {
            status,
            reason: reason.into(),
            allow: None,
        }
    }
}

/// Longest request target we accept; browsers and tools stay far below it.
pub const MAX_URL: usize = 2048;

const VIEW: &str = "GET, HEAD, OPTIONS";
const CONTROL: &str = "POST, OPTIONS";
/// Every method the server answers: the whole server (`OPTIONS *`), and `/camera/controls`,
/// read by anyone who may view and changed only with POST.
const ALL: &str = "GET, HEAD, POST, OPTIONS";

pub fn route(method: &str, url: &str) -> Result<Route, Reject> {
    if url.len() > MAX_URL {
        return Err(Reject::new(414, format!("URL longer than {MAX_URL} bytes")));
    }
    // The server as a whole (`OPTIONS *`; tiny_http refuses `*` with any other method).
    if url == "*" && method == "OPTIONS" {
        return Ok(Route::Options(ALL));
    }
    let (path, query) = split_url(url);
    let query = Query::parse(query);
    let (allow, target) = match path {
        "/" => (
            VIEW,
            match query.get("action") {
                None => Ok(Route::Page),
                Some("stream") => Ok(Route::Stream),
                Some("snapshot") => Ok(Route::Snapshot { fresh: false }),
                Some(other) => Err(Reject::new(
                    400,
                    format!("action={other:?}: expected stream or snapshot"),
                )),
            },
        ),
        "/index.html" => (VIEW, Ok(Route::Page)),
        "/stream" | "/video_feed" | "/stream.mjpg" => (VIEW, Ok(Route::Stream)),
        "/snapshot" | "/snapshot.jpg" => (VIEW, Ok(Route::Snapshot { fresh: false })),
        "/state" => (VIEW, Ok(Route::State)),
        "/input" => (CONTROL, Ok(Route::Input)),
        "/pointer" => (CONTROL, Ok(Route::Pointer)),
        "/camera/controls" => (
            ALL,
            Ok(Route::CameraControls {
                set: method == "POST",
            }),
        ),
        _ => {
            return Err(Reject::new(
                404,
                format!(
                    "no such path: {}",
                    path.chars().take(200).collect::<String>()
                ),
            ));
        }
    };
    if method == "OPTIONS" {
        return Ok(Route::Options(allow));
    }
    if !allow.split(", ").any(|m| m == method) {
        let why = if allow == ALL {
            format!("{method} {path} is not allowed: use GET to read or POST to change")
        } else if allow == CONTROL {
            format!("{method} {path} is not allowed: control changes state, so it takes POST only")
        } else {
            format!("{method} {path} is not allowed: use GET or HEAD")
        };
        return Err(Reject {
            status: 405,
            reason: why,
            allow: Some(allow),
        });
    }
    let mut target = target?;
    if let Route::Snapshot { fresh } = &mut target {
        *fresh = query
            .flag("fresh", false)
            .map_err(|e| Reject::new(400, e))?;
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert_eq!(route("GET", "/"), Ok(Route::Page));
        assert_eq!(
            route("GET", "/?action=stream&1699999999"),
            Ok(Route::Stream)
        );
        assert_eq!(route("GET", "/video_feed"), Ok(Route::Stream));
        assert_eq!(route("HEAD", "/stream"), Ok(Route::Stream));
        assert_eq!(
            route("GET", "/?action=snapshot"),
            Ok(Route::Snapshot { fresh: false })
        );
        assert_eq!(
            route("GET", "/snapshot?fresh=1&_=123"),
            Ok(Route::Snapshot { fresh: true })
        );
        assert_eq!(route("GET", "/state"), Ok(Route::State));
        assert_eq!(route("POST", "/input"), Ok(Route::Input));
    }

    #[test]
    fn refusals() {
        assert_eq!(route("GET", "/nope").unwrap_err().status, 404);
        assert_eq!(route("GET", "/?action=reboot").unwrap_err().status, 400);
        assert_eq!(
            route("GET", "/snapshot?fresh=maybe").unwrap_err().status,
            400
        );
        let r = route("POST", "/stream").unwrap_err();
        assert_eq!((r.status, r.allow), (405, Some(VIEW)));
        // State-changing endpoints never answer GET (an <img> elsewhere could fire it).
        let r = route("GET", "/pointer?xrate=0.5&yrate=0.5").unwrap_err();
        assert_eq!(r.status, 405);
        assert!(r.reason.contains("POST"));
        assert_eq!(route("GET", "/input").unwrap_err().status, 405);
        assert_eq!(
            route("GET", &format!("/{}", "a".repeat(5000)))
                .unwrap_err()
                .status,
            414
        );
    }

    #[test]
    fn camera_controls_read_with_get_and_change_with_post() {
        assert_eq!(
            route("GET", "/camera/controls"),
            Ok(Route::CameraControls { set: false })
        );
        assert_eq!(
            route("POST", "/camera/controls"),
            Ok(Route::CameraControls { set: true })
        );
        let r = route("PUT", "/camera/controls").unwrap_err();
        assert_eq!((r.status, r.allow), (405, Some(ALL)));
    }

    #[test]
    fn options_lists_methods() {
        assert_eq!(route("OPTIONS", "/input"), Ok(Route::Options(CONTROL)));
        assert_eq!(route("OPTIONS", "/stream"), Ok(Route::Options(VIEW)));
        assert_eq!(route("OPTIONS", "*"), Ok(Route::Options(ALL)));
        assert_eq!(route("GET", "*").unwrap_err().status, 404);
    }
}
