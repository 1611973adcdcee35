//! What a new X connection must find out and ask for before the first grab: the screen and its
//! pixel format, the streamed area (whole screen, `--region` or a RandR monitor), the extensions
//! (XFixes cursor, DAMAGE, RandR) with their notifications, and MIT-SHM or the slow fallback.

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::damage::{self, ConnectionExt as _, ReportLevel};
use x11rb::protocol::randr::{self, ConnectionExt as _, NotifyMask};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _, CursorNotifyMask};
use x11rb::protocol::xinput::{self, ConnectionExt as _, XIEventMask};
use x11rb::protocol::xproto::{
    ChangeWindowAttributesAux, ConnectionExt as _, EventMask, ImageOrder, Window,
};
use x11rb::rust_connection::RustConnection;

use super::display::{Display, Grabber, OrLost, x_failed};
use super::settings::ScreenArea;
use super::shm::{AttachError, Segment};
use crate::geometry::Region;
use crate::source::SourceError;

/// Which optional extensions the server has.
struct Extensions {
    randr: bool,
    xfixes: bool,
    damage: bool,
    shm: bool,
    xinput: bool,
}

/// Connects to `name` and prepares everything [`Display`] needs.
pub fn open(name: &str, area: &ScreenArea, want_cursor: bool) -> Result<Display, SourceError> {
    let (conn, screen_num) = x11rb::connect(Some(name))
        .map_err(|e| SourceError::Lost(format!("cannot open X display {name}: {e}")))?;
    let setup = conn.setup();
    let Some(screen) = setup.roots.get(screen_num) else {
        return Err(SourceError::Unusable(format!(
            "X display {name} has no screen {screen_num}"
        )));
    };
    check_format(name, setup, screen)?;
    let root = screen.root;
    let size = (screen.width_in_pixels, screen.height_in_pixels);
    let ext = extensions(&conn, name)?;
    let area = resolve_area(&conn, name, root, size, area, ext.randr)?;
    // XFixes first: DAMAGE's regions are XFixes regions, and the cursor comes from it.
    let xfixes = watch_cursor(&conn, name, root, ext.xfixes, want_cursor)?;
    let damage = watch_damage(&conn, name, root, ext.damage && xfixes)?;
    watch_resize(&conn, name, root, ext.randr)?;
    let motion = want_cursor && watch_motion(&conn, name, root, ext.xinput)?;
    let grabber = shm_grabber(&conn, name, &area, ext.shm)?;
    conn.flush().or_lost(name)?;
    let mut display = Display {
        conn,
        name: name.to_string(),
        root,
        screen: size,
        area,
        grabber,
        damage,
        xfixes,
        cursor: None,
        eager_subtract: false,
        motion,
    };
    if want_cursor && xfixes {
        display.refresh_cursor()?;
    }
    super::wayland::warn_once(&display.conn, name, root, ext.randr);
    Ok(display)
}

fn extensions(conn: &RustConnection, name: &str) -> Result<Extensions, SourceError> {
    let has = |ext: &'static str| -> Result<bool, SourceError> {
        Ok(conn.extension_information(ext).or_lost(name)?.is_some())
    };
    let ext = Extensions {
        randr: has(randr::X11_EXTENSION_NAME)?,
        xfixes: has(xfixes::X11_EXTENSION_NAME)?,
        damage: has(damage::X11_EXTENSION_NAME)?,
        shm: has(shm::X11_EXTENSION_NAME)?,
        xinput: has(xinput::X11_EXTENSION_NAME)?,
    };
    if ext.randr {
        conn.randr_query_version(1, 5)
            .or_lost(name)?
            .reply()
            .or_lost(name)?;
    }
    Ok(ext)
}

/// Asks for cursor-shape notifications; false when the server has no XFixes.
fn watch_cursor(
    conn: &RustConnection,
    name: &str,
    root: Window,
    has_xfixes: bool,
    want_cursor: bool,
) -> Result<bool, SourceError> {
    if !has_xfixes {
        if want_cursor {
            log::warn!("X display {name} has no XFixes: the cursor cannot be shown");
        }
        return Ok(false);
    }
    conn.xfixes_query_version(5, 0)
        .or_lost(name)?
        .reply()
        .or_lost(name)?;
    if want_cursor {
        conn.xfixes_select_cursor_input(root, CursorNotifyMask::DISPLAY_CURSOR)
            .or_lost(name)?;
    }
    Ok(true)
}

/// Creates the DAMAGE object that says when and where to grab, and the XFixes region its
/// damaged area is moved into at each grab; without DAMAGE, the source grabs at `--fps`.
fn watch_damage(
    conn: &RustConnection,
    name: &str,
    root: Window,
    usable: bool,
) -> Result<Option<(damage::Damage, xfixes::Region)>, SourceError> {
    if !usable {
        log::warn!("X display {name} has no DAMAGE extension: grabbing at the full --fps rate");
        return Ok(None);
    }
    conn.damage_query_version(1, 1)
        .or_lost(name)?
        .reply()
        .or_lost(name)?;
    let id = conn.generate_id().or_lost(name)?;
    // NON_EMPTY: one event when the damaged region stops being empty, then silence until we
    // subtract it, so a busy screen does not flood us with rectangles; the rectangles are
    // fetched once per grab instead.
    conn.damage_create(id, root, ReportLevel::NON_EMPTY)
        .or_lost(name)?;
    let parts = conn.generate_id().or_lost(name)?;
    conn.xfixes_create_region(parts, &[]).or_lost(name)?;
    Ok(Some((id, parts)))
}

/// Asks for XInput 2 raw motion events on the root, so a pointer move is seen at once instead of
/// at the next poll (core X reports motion only to the window under the pointer). False when the
/// server has no XInput 2: the pointer is then polled.
fn watch_motion(
    conn: &RustConnection,
    name: &str,
    root: Window,
    has_xinput: bool,
) -> Result<bool, SourceError> {
    if !has_xinput {
        return Ok(false);
    }
    let v = conn
        .xinput_xi_query_version(2, 0)
        .or_lost(name)?
        .reply()
        .or_lost(name)?;
    if v.major_version < 2 {
        return Ok(false);
    }
    /// XIAllMasterDevices: the pointers users move (XTest's included).
    const ALL_MASTER_DEVICES: u16 = 1;
    let mask = xinput::EventMask {
        deviceid: ALL_MASTER_DEVICES,
        mask: vec![XIEventMask::RAW_MOTION],
    };
    conn.xinput_xi_select_events(root, &[mask]).or_lost(name)?;
    Ok(true)
}

/// Asks to hear of screen size changes (RandR, and root ConfigureNotify on servers without it).
fn watch_resize(
    conn: &RustConnection,
    name: &str,
    root: Window,
    has_randr: bool,
) -> Result<(), SourceError> {
    if has_randr {
        conn.randr_select_input(root, NotifyMask::SCREEN_CHANGE)
            .or_lost(name)?;
    }
    conn.change_window_attributes(
        root,
        &ChangeWindowAttributesAux::new().event_mask(EventMask::STRUCTURE_NOTIFY),
    )
    .or_lost(name)?;
    Ok(())
}

/// A display name with a host part (`host:0`, `host/tcp:0`) is reached over TCP, where file
/// descriptors cannot be passed, so MIT-SHM cannot work.
fn is_remote(name: &str) -> bool {
    let host = name.rsplit_once(':').map(|(h, _)| h).unwrap_or("");
    !(host.is_empty() || host == "unix" || host.starts_with('/') || host.starts_with("unix/"))
}

/// Only the layout we feed the encoder without conversion is accepted: 32 bits per pixel,
/// little-endian, red in bits 16..24 (memory order B,G,R,X). Anything else would give wrong
/// colours, so it is refused with the reason.
fn check_format(
    name: &str,
    setup: &x11rb::protocol::xproto::Setup,
    screen: &x11rb::protocol::xproto::Screen,
) -> Result<(), SourceError> {
    let depth = screen.root_depth;
    let bpp = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == depth)
        .map(|f| f.bits_per_pixel);
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| d.visuals.iter())
        .find(|v| v.visual_id == screen.root_visual);
    let masks = visual.map(|v| (v.red_mask, v.green_mask, v.blue_mask));
    if !matches!(depth, 24 | 32)
        || bpp != Some(32)
        || setup.image_byte_order != ImageOrder::LSB_FIRST
        || masks != Some((0xff0000, 0xff00, 0xff))
    {
        let masks = masks.map_or("unknown".into(), |(r, g, b)| {
            format!("{r:06x}/{g:06x}/{b:06x}")
        });
        let order = if setup.image_byte_order == ImageOrder::LSB_FIRST {
            "little-endian"
        } else {
            "big-endian"
        };
        return Err(SourceError::Unusable(format!(
            "X display {name} uses depth {depth}, {} bits per pixel, {order}, RGB masks {masks}; \
             only 24-bit colour in 32-bit little-endian pixels (the usual desktop) is supported",
            bpp.unwrap_or(0),
        )));
    }
    Ok(())
}

/// Finds the rectangle to stream in root coordinates.
fn resolve_area(
    conn: &RustConnection,
    name: &str,
    root: Window,
    (sw, sh): (u16, u16),
    area: &ScreenArea,
    has_randr: bool,
) -> Result<Region, SourceError> {
    let whole = Region {
        x: 0,
        y: 0,
        width: sw.into(),
        height: sh.into(),
    };
    match area {
        ScreenArea::Whole => Ok(whole),
        ScreenArea::Region(r) => {
            if r.x + r.width > whole.width || r.y + r.height > whole.height {
                return Err(SourceError::Unusable(format!(
                    "--region {}x{}+{}+{} does not fit the {sw}x{sh} screen of {name}",
                    r.width, r.height, r.x, r.y
                )));
            }
            Ok(*r)
        }
        ScreenArea::Monitor(wanted) => {
            if !has_randr {
                return Err(SourceError::Unusable(format!(
                    "--monitor needs RandR, which X display {name} lacks"
                )));
            }
            let r = monitor_area(conn, name, root, wanted)?;
            // A monitor may hang over the framebuffer's edge (panning); stream what exists.
            let r = Region {
                width: r.width.min(whole.width.saturating_sub(r.x)),
                height: r.height.min(whole.height.saturating_sub(r.y)),
                ..r
            };
            if r.width == 0 || r.height == 0 {
                return Err(SourceError::Unusable(format!(
                    "--monitor {wanted:?} lies outside the {sw}x{sh} screen"
                )));
            }
            Ok(r)
        }
    }
}

/// The rectangle of the RandR monitor named `wanted` (or with that index); the error lists the
/// monitors there are.
fn monitor_area(
    conn: &RustConnection,
    name: &str,
    root: Window,
    wanted: &str,
) -> Result<Region, SourceError> {
    let monitors = conn
        .randr_get_monitors(root, true)
        .or_lost(name)?
        .reply()
        .or_lost(name)?
        .monitors;
    let mut names = Vec::new();
    for m in &monitors {
        let n = conn
            .get_atom_name(m.name)
            .or_lost(name)?
            .reply()
            .or_lost(name)?
            .name;
        names.push(String::from_utf8_lossy(&n).into_owned());
    }
    let index = wanted.parse::<usize>().ok();
    let found = monitors
        .iter()
        .zip(&names)
        .enumerate()
        .find(|(i, (_, n))| Some(*i) == index || *n == wanted);
    let Some((_, (m, _))) = found else {
        return Err(SourceError::Unusable(format!(
            "--monitor {wanted:?}: X display {name} has monitors {}",
            names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{i}={n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    Ok(Region {
        x: m.x.max(0) as u32,
        y: m.y.max(0) as u32,
        width: m.width.into(),
        height: m.height.into(),
    })
}

/// Sets up MIT-SHM for `area`, or says once why the slow path is used.
fn shm_grabber(
    conn: &RustConnection,
    name: &str,
    area: &Region,
    has_shm: bool,
) -> Result<Grabber, SourceError> {
    let why_not = if !has_shm {
        "the server has no MIT-SHM".to_string()
    } else if is_remote(name) {
        "the display is remote".to_string()
    } else {
        let v = conn
            .shm_query_version()
            .or_lost(name)?
            .reply()
            .or_lost(name)?;
        if (v.major_version, v.minor_version) < (1, 2) {
            format!(
                "MIT-SHM {}.{} lacks fd passing (1.2)",
                v.major_version, v.minor_version
            )
        } else {
            let len = area.width as usize * area.height as usize * 4;
            match Segment::attach(conn, len) {
                Ok(mem) => return Ok(Grabber::Shm(mem)),
                Err(AttachError::Create(e)) => format!("cannot create shared memory: {e}"),
                Err(AttachError::Refused(e)) => format!("the server refused shared memory: {e}"),
                Err(AttachError::Connection(e)) => return Err(x_failed(name, e)),
            }
        }
    };
    log::warn!("X display {name}: {why_not}; using plain GetImage (much slower)");
    Ok(Grabber::GetImage {
        buf: vec![0; area.width as usize * area.height as usize * 4],
    })
}

#[cfg(test)]
mod tests {
    use super::is_remote;

    #[test]
    fn remote_display_names() {
        for local in [":0", ":1.0", "unix:0", "/tmp/.X11-unix/X0", "unix/:3"] {
            assert!(!is_remote(local), "{local}");
        }
        for remote in ["host:0", "10.0.0.2:1", "host/tcp:0"] {
            assert!(is_remote(remote), "{remote}");
        }
    }
}
