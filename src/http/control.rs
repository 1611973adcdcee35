//! `POST /input` and the tutorial's `POST /pointer`: the guards in front of input injection.
//! In order: control on (403), same-site Origin/Referer (403), per-client rate (429), body size
//! (413), a valid event (400), a known screen area (503); only then does the
//! [`Controller`] act, for the viewer the request comes from (address, user, page session).

use std::io::Read;
use std::time::Instant;

use tiny_http::Request;

use super::event_form::{self, Form};
use super::limit::RateLimiter;
use super::origin;
use super::query::split_url;
use super::{Context, client_ip, header, header_value, peer, respond, text};
use crate::input::{Action, ControlError, Controller, Event, InjectError, Viewer};

/// Largest `POST /input` body but for `text`: an event is a few dozen bytes.
pub const MAX_BODY: usize = 4096;
/// Largest body of a `text` event: 1024 characters of up to 4 UTF-8 bytes, percent-encoded at 3
/// bytes per byte, are 12 KiB; the rest is room for the other fields.
pub const MAX_TEXT_BODY: usize = 16 * 1024;
/// Events per second a client (by IP address) may send on average. The page sends at most one
/// pointer move and one wheel event per animation frame (60-120 Hz) plus keys and clicks.
pub const RATE_PER_SECOND: f64 = 250.0;
/// Events a client may send at once above the average (a burst of typing, a double click).
pub const RATE_BURST: f64 = 250.0;

/// What `--control` adds to the server: the controller and the rate limiter.
pub struct Control {
    pub controller: Controller,
    pub limiter: RateLimiter,
}

impl Control {
    pub fn new(controller: Controller) -> Control {
        Control {
            controller,
            limiter: RateLimiter::new(RATE_PER_SECOND, RATE_BURST),
        }
    }
}

/// Refuses a request a page on another site made the browser send (CSRF). Browsers send
/// `Origin` with every POST (Fetch standard); `Referer` is the fallback. A request with
/// neither comes from a tool like curl, where no other site is involved. Every value is parsed
/// strictly ([`origin`]): one that is not exactly a URL of this server is cross-site.
pub fn same_site(
    host: Option<&str>,
    origin: Option<&str>,
    referer: Option<&str>,
) -> Result<(), String> {
    let (name, from) = match (origin, referer) {
        (Some(o), _) => ("Origin", origin::parse_origin(o)),
        (None, Some(r)) => ("Referer", origin::parse_referer(r)),
        (None, None) => return Ok(()),
    };
    let from = from.map_err(|e| format!("cross-site request refused: {e}"))?;
    let Some(host) = host else {
        return Err(format!(
            "{name} given without a Host header to check it against"
        ));
    };
    let host = origin::parse_host(host)?;
    if from.same_as(&host) {
        Ok(())
    } else {
        Err(format!(
            "cross-site request refused: {name} names {}, not this server",
            from.host
        ))
    }
}

/// Without `--auth`, control answers only requests addressed to an IP literal or `localhost`.
/// DNS rebinding makes a hostile site's own name resolve to 127.0.0.1: its page then sends
/// `Host` and `Origin` that both name that site and agree, so `same_site` alone lets it drive
/// the desktop. A rebinding name is never an IP literal or `localhost`.
pub fn trusted_host(host: Option<&str>) -> Result<(), String> {
    let refused = |h: &str| {
        format!(
            "control without --auth answers only http://IP or http://localhost, not Host {:?} (a DNS-rebinding guard); use --auth to allow names",
            h.chars().take(100).collect::<String>()
        )
    };
    let host = host.unwrap_or_default();
    match origin::parse_host(host) {
        Ok(a) if a.is_ip_or_localhost() => Ok(()),
        _ => Err(refused(host)),
    }
}

/// Browsers label every request with `Sec-Fetch-Site`; a page on another site cannot forge it.
pub fn fetch_site(value: Option<&str>) -> Result<(), String> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) if v == "cross-site" || v == "same-site" => {
            Err(format!("cross-site request refused: Sec-Fetch-Site is {v}"))
        }
        _ => Ok(()),
    }
}

/// Reads at most [`MAX_TEXT_BODY`] bytes; `None` when there is more, or when a body that is not
/// a `text` event is over [`MAX_BODY`].
pub(super) fn read_body(request: &mut Request) -> Result<Option<Vec<u8>>, std::io::Error> {
    if request.body_length().is_some_and(|n| n > MAX_TEXT_BODY) {
        return Ok(None);
    }
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_TEXT_BODY as u64 + 1)
        .read_to_end(&mut body)?;
    let fits =
        body.len() <= MAX_BODY || (body.len() <= MAX_TEXT_BODY && event_form::is_text(&body));
    Ok(fits.then_some(body))
}

pub(super) type Answer = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

/// Handles `POST /input` (`pointer == false`) or `POST /pointer?xrate=&yrate=`.
pub fn handle(ctx: &Context, mut request: Request, pointer: bool) {
    let Some(control) = ctx.input.as_ref() else {
        return respond(
            request,
            text(
                403,
                "control is off: start deskcam with --source screen --control",
            ),
        );
    };
    let form =
        guard(ctx, &control.limiter, &request).and_then(|()| read_form(&mut request, pointer));
    let form = match form {
        Ok(form) => form,
        Err(refusal) => return respond(request, refusal),
    };
    let Some(area) = ctx.status.area() else {
        return respond(
            request,
            text(503, "the screen area is not known yet; try again"),
        );
    };
    let viewer = Viewer {
        addr: client_ip(&request),
        user: ctx.auth.as_ref().map(|a| a.user().to_string()),
        page: form.session,
    };
    let done = match &form.action {
        Action::Inject(event) => Some(what_was_done(event)),
        Action::Heartbeat | Action::Leave => None,
    };
    match control.controller.act(&viewer, form.action, area) {
        Ok(()) => {
            if let Some(done) = done {
                log::debug!("input from {}: {done}", peer(&request));
            }
            respond(
                request,
                tiny_http::Response::from_data(Vec::new())
                    .with_status_code(204)
                    .with_header(header("Cache-Control", "no-store")),
            )
        }
        Err(e) => {
            log::warn!("cannot inject input: {e}");
            let status = match e {
                ControlError::Inject(InjectError::Display(_) | InjectError::Keyboard(_))
                | ControlError::TooManyViewers => 503,
            };
            respond(request, text(status, &e.to_string()))
        }
    }
}

/// The checks before anything is read: same site, trusted host (without `--auth`), rate. Every
/// state-changing endpoint (`/input`, `/camera/controls`) goes through them.
pub(super) fn guard(ctx: &Context, limiter: &RateLimiter, request: &Request) -> Result<(), Answer> {
    let host = header_value(request, "Host");
    let site = same_site(
        host,
        header_value(request, "Origin"),
        header_value(request, "Referer"),
    )
    .and_then(|()| fetch_site(header_value(request, "Sec-Fetch-Site")))
    .and_then(|()| match ctx.auth {
        Some(_) => Ok(()),
        None => trusted_host(host),
    });
    if let Err(why) = site {
        log::warn!(
            "{} from {}: {why}",
            split_url(request.url()).0,
            peer(request)
        );
        return Err(text(403, &why));
    }
    if !limiter.allow(client_ip(request), Instant::now()) {
        return Err(text(
            429,
            &format!("too many control events: at most {RATE_PER_SECOND} per second per client"),
        )
        .with_header(header("Retry-After", "1")));
    }
    Ok(())
}

/// The request from the tutorial's query or the form body, or the refusal to send.
fn read_form(request: &mut Request, pointer: bool) -> Result<Form, Answer> {
    let parsed = if pointer {
        event_form::parse_pointer(split_url(request.url()).1).map(|event| Form {
            session: None,
            action: Action::Inject(event),
        })
    } else {
        match read_body(request) {
            Ok(Some(body)) => event_form::parse_form(&body),
            Ok(None) => {
                return Err(text(
                    413,
                    &format!(
                        "body over {MAX_BODY} bytes ({MAX_TEXT_BODY} for text): send one event per request"
                    ),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(text(408, &format!("the body did not arrive in time: {e}")));
            }
            Err(e) => return Err(text(400, &format!("cannot read the body: {e}"))),
        }
    };
    parsed.map_err(|why| text(400, &why.0))
}

/// What a debug line says was done: never what was typed (it may be a password).
fn what_was_done(event: &Event) -> String {
    match event {
        Event::Text(t) => format!("typed {} characters", t.chars().count()),
        other => other.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_rules() {
        let host = Some("127.0.0.1:8080");
        assert!(same_site(host, None, None).is_ok(), "curl sends neither");
        assert!(same_site(host, Some("http://127.0.0.1:8080"), None).is_ok());
        assert!(same_site(host, None, Some("http://127.0.0.1:8080/?x=1")).is_ok());
        assert!(same_site(Some("Desk.Example"), Some("https://desk.example"), None).is_ok());
        assert!(same_site(Some("desk.example:80"), Some("http://desk.example"), None).is_ok());
        for (origin, referer) in [
            (Some("http://evil.example"), None),
            (Some("http://127.0.0.1:9999"), None),
            (Some("null"), None),
            (Some("file:///tmp/x.html"), None),
            (None, Some("http://evil.example/page")),
            // Origin wins over a same-site Referer.
            (Some("http://evil.example"), Some("http://127.0.0.1:8080/")),
            (Some("http://127.0.0.1:8080.evil.example"), None),
            (Some("http://evil.example/@127.0.0.1:8080"), None),
            // User information: the host after the @ is not what the browser came from.
            (Some("http://evil.com@127.0.0.1:8080"), None),
            (None, Some("http://evil.com@127.0.0.1:8080/")),
            (Some("http://127.0.0.1:8080\0"), None),
            (Some("http://127.0.0.1:08080x"), None),
        ] {
            let e = same_site(host, origin, referer).unwrap_err();
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(same_site(None, Some("http://127.0.0.1:8080"), None).is_err());
        // A Host that is not a host:port is never the same site.
        for host in [
            "127.0.0.1:evil.example",
            "127.0.0.1:8080\0",
            "a@127.0.0.1:8080",
        ] {
            assert!(
                same_site(Some(host), Some("http://127.0.0.1:8080"), None).is_err(),
                "{host:?}"
            );
        }
    }

    #[test]
    fn rebinding_names_are_not_trusted_hosts() {
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "[::1]:8080",
            "192.168.1.5",
            "[fe80::1]",
        ] {
            assert!(trusted_host(Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "evil.example:18777",
            "evil.example",
            "127.0.0.1.evil.example",
            "localhost.evil",
            "",
            "[::1",
            "127.0.0.1:evil.example",
            "127.0.0.1\0",
            "127.0.0.1:80\0",
            "evil@127.0.0.1",
            "127.0.0.1:",
        ] {
            assert!(trusted_host(Some(bad)).is_err(), "{bad}");
        }
        assert!(trusted_host(None).is_err());
    }

    #[test]
    fn sec_fetch_site_refuses_other_sites() {
        assert!(fetch_site(Some("cross-site")).is_err());
        assert!(fetch_site(Some("same-site")).is_err());
        assert!(fetch_site(Some("same-origin")).is_ok());
        assert!(fetch_site(Some("none")).is_ok());
        assert!(fetch_site(None).is_ok());
    }
}
