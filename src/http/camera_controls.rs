//! `GET /camera/controls` (the camera's image controls as JSON, for anyone who may view) and
//! `POST /camera/controls` (change one or more, only with `--camera-controls`). A change passes
//! the same guards as remote control ([`super::control::guard`]: same site, trusted host, rate),
//! is checked whole against the camera, and is kept for every later reopen
//! ([`crate::source::camera::kept::Store`]).

use std::sync::Arc;

use tiny_http::Request;

use super::control::{Answer, MAX_BODY, RATE_BURST, RATE_PER_SECOND, guard, read_body};
use super::limit::RateLimiter;
use super::{Context, header, peer, respond, text};
use crate::json::Json;
use crate::source::camera::ControlSetting;
use crate::source::camera::controls::{CameraControlError, Info, Kind};
use crate::source::camera::kept::Store;

/// What the server offers about the camera's controls.
pub struct Access {
    pub store: Arc<Store>,
    /// `--camera-controls`: viewers may change them.
    pub writable: bool,
    pub limiter: RateLimiter,
}

impl Access {
    pub fn new(store: Arc<Store>, writable: bool) -> Access {
        Access {
            store,
            writable,
            limiter: RateLimiter::new(RATE_PER_SECOND, RATE_BURST),
        }
    }
}

/// Answers `GET`/`HEAD` (`set == false`) or `POST` on `/camera/controls`.
pub fn handle(ctx: &Context, mut request: Request, set: bool) {
    let Some(access) = ctx.camera_controls.as_ref() else {
        return respond(
            request,
            text(
                404,
                &format!("no camera controls: the source is {}", ctx.source),
            ),
        );
    };
    if !set {
        let answer = match access.store.list() {
            Ok(list) => listing(access, &list),
            Err(e) => refusal(&e),
        };
        return respond(request, answer);
    }
    if !access.writable {
        return respond(
            request,
            text(
                403,
                "camera controls are read-only: start deskcam with --camera-controls",
            ),
        );
    }
    let changes = guard(ctx, &access.limiter, &request).and_then(|()| read_changes(&mut request));
    let changes = match changes {
        Ok(c) => c,
        Err(answer) => return respond(request, answer),
    };
    match access.store.set(&changes) {
        Ok(list) => {
            let said: Vec<String> = changes
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect();
            log::info!(
                "camera controls from {}: {}",
                peer(&request),
                said.join(" ")
            );
            respond(request, listing(access, &list))
        }
        Err(e) => {
            log::warn!("camera controls from {}: {e}", peer(&request));
            respond(request, refusal(&e))
        }
    }
}

/// `NAME=VALUE` pairs from a form body, each value a whole number.
fn read_changes(request: &mut Request) -> Result<Vec<ControlSetting>, Answer> {
    let body = match read_body(request) {
        Ok(Some(body)) => body,
        Ok(None) => return Err(text(413, &format!("body over {MAX_BODY} bytes"))),
        // As `POST /input`: a body that stops arriving is the client's delay, not a bad request.
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            return Err(text(408, &format!("the body did not arrive in time: {e}")));
        }
        Err(e) => return Err(text(400, &format!("cannot read the body: {e}"))),
    };
    parse_changes(&body).map_err(|why| text(400, &why))
}

fn parse_changes(body: &[u8]) -> Result<Vec<ControlSetting>, String> {
    let mut out = Vec::new();
    for (name, value) in form_urlencoded::parse(body) {
        let shown: String = name.chars().take(60).collect();
        let value = value.trim().parse::<i64>().map_err(|_| {
            format!("{shown}: expected a whole number (booleans 0 or 1, menus the entry's index)")
        })?;
        out.push(ControlSetting {
            name: name.trim().to_ascii_lowercase(),
            value,
        });
    }
    if out.is_empty() {
        return Err("no control given: send NAME=VALUE pairs, like brightness=140".into());
    }
    Ok(out)
}

fn refusal(e: &CameraControlError) -> Answer {
    let status = match e {
        CameraControlError::Unknown { .. }
        | CameraControlError::OutOfRange { .. }
        | CameraControlError::ReadOnly { .. }
        | CameraControlError::Button { .. } => 400,
        CameraControlError::Refused { .. } => 409,
        CameraControlError::Device(_) => 503,
    };
    text(status, &e.to_string())
}

fn listing(access: &Access, list: &[Info]) -> Answer {
    let controls: Vec<Json> = list
        .iter()
        .filter(|c| c.kind != Kind::Button)
        .map(control_json)
        .collect();
    let doc = Json::obj([
        ("writable", Json::Bool(access.writable)),
        ("controls", Json::Arr(controls)),
    ]);
    tiny_http::Response::from_string(doc.to_string())
        .with_header(header("Content-Type", "application/json"))
        .with_header(header("Cache-Control", "no-store"))
}

fn control_json(c: &Info) -> Json {
    let mut fields = vec![
        ("name", Json::str(&c.name)),
        ("label", Json::str(&c.label)),
        ("type", Json::str(c.kind.name())),
        ("min", Json::Int(c.min)),
        ("max", Json::Int(c.max)),
        ("step", Json::Int(c.step)),
        ("default", Json::Int(c.default)),
        ("value", c.value.map_or(Json::Null, Json::Int)),
        ("read_only", Json::Bool(c.read_only)),
        ("inactive", Json::Bool(c.inactive)),
        ("class", Json::str(&c.class)),
    ];
    if let Kind::Menu(items) = &c.kind {
        let entries = items
            .iter()
            .map(|(i, name)| Json::obj([("value", Json::Int(*i)), ("name", Json::str(name))]))
            .collect();
        fields.push(("menu", Json::Arr(entries)));
    }
    Json::obj(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_become_settings_or_one_line_refusals() {
        let got = parse_changes(b"brightness=140&Contrast=%2D5").unwrap();
        assert_eq!(
            got,
            vec![
                ControlSetting {
                    name: "brightness".into(),
                    value: 140
                },
                ControlSetting {
                    name: "contrast".into(),
                    value: -5
                }
            ]
        );
        for bad in [
            &b""[..],
            b"brightness=bright",
            b"brightness=1.5",
            b"brightness",
        ] {
            let e = parse_changes(bad).unwrap_err();
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
