//! A camera's image controls (brightness, focus, exposure, white balance...) by the names
//! `v4l2-ctl` gives them: listing them, checking a change against them (an unknown name, a value
//! out of range or a read-only control is refused before anything is set) and setting it in an
//! order that works. The values kept across reopens are in [`super::kept`].

use std::fmt;
use std::io;

use rustix::io::Errno;
use v4l::Device;
use v4l::control::{Control, Description, Flags, MenuItem, Type, Value};

use super::settings::ControlSetting;
use crate::source::SourceError;

/// What kind of value a control takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Integer,
    Boolean,
    /// Entries by index; a driver may leave gaps (indices it does not support).
    Menu(Vec<(i64, String)>),
    /// An action (vivid's `disconnect`, UVC's pan/tilt reset), not a setting: never set here.
    Button,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Integer => "int",
            Kind::Boolean => "bool",
            Kind::Menu(_) => "menu",
            Kind::Button => "button",
        }
    }
}

/// One control as the camera describes it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub id: u32,
    /// The v4l2-ctl name: `focus_automatic_continuous`.
    pub name: String,
    /// The driver's own label: "Focus, Automatic Continuous".
    pub label: String,
    pub kind: Kind,
    pub min: i64,
    pub max: i64,
    pub step: i64,
    pub default: i64,
    /// `None` for write-only controls and buttons.
    pub value: Option<i64>,
    pub read_only: bool,
    /// Another control (an automatic mode) decides this one for now.
    pub inactive: bool,
    /// Changing it may change others: automatic modes carry this flag (V4L2_CTRL_FLAG_UPDATE).
    pub gates_others: bool,
    /// The heading v4l2-ctl lists it under ("User Controls", "Camera Controls").
    pub class: String,
}

impl Info {
    /// What values it takes, for messages and listings.
    pub fn allowed(&self) -> String {
        match &self.kind {
            Kind::Boolean => "0 or 1".into(),
            Kind::Menu(items) => {
                let entries: Vec<String> = items
                    .iter()
                    .map(|(i, name)| format!("{i} ({name})"))
                    .collect();
                entries.join(", ")
            }
            Kind::Integer if self.step > 1 => {
                format!("{} to {} in steps of {}", self.min, self.max, self.step)
            }
            _ => format!("{} to {}", self.min, self.max),
        }
    }

    /// Whether it sets a mode that decides other controls: these go first, so the values they
    /// gate are accepted (a UVC camera refuses `exposure_time_absolute` while `auto_exposure`
    /// is on).
    fn is_auto_mode(&self) -> bool {
        self.gates_others || self.name.contains("auto")
    }

    fn accepts(&self, value: i64) -> bool {
        match &self.kind {
            Kind::Boolean => value == 0 || value == 1,
            Kind::Menu(items) => items.iter().any(|(i, _)| *i == value),
            Kind::Integer => {
                (self.min..=self.max).contains(&value) && (value - self.min) % self.step.max(1) == 0
            }
            Kind::Button => false,
        }
    }
}

/// Why a control could not be set (or listed). Each is one sentence for the user; the variant
/// decides the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraControlError {
    Unknown {
        name: String,
        known: Vec<String>,
    },
    OutOfRange {
        name: String,
        value: i64,
        allowed: String,
    },
    ReadOnly {
        name: String,
    },
    Button {
        name: String,
    },
    /// The camera itself refused (EACCES for a control an automatic mode holds, EBUSY...).
    Refused {
        name: String,
        value: i64,
        why: String,
    },
    /// The camera is not there or would not answer.
    Device(SourceError),
}

impl fmt::Display for CameraControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CameraControlError::Unknown { name, known } => {
                let mut list = known.join(", ");
                if list.len() > 300 {
                    list.truncate(list[..300].rfind(", ").unwrap_or(300));
                    list.push_str(", ...");
                }
                write!(
                    f,
                    "the camera has no control named {name:?}; it has: {list} (see --list-controls)"
                )
            }
            CameraControlError::OutOfRange {
                name,
                value,
                allowed,
            } => write!(f, "{name}={value} is out of range: it takes {allowed}"),
            CameraControlError::ReadOnly { name } => write!(f, "{name} is read-only"),
            CameraControlError::Button { name } => {
                write!(
                    f,
                    "{name} is a button (an action, not a setting) and cannot be set"
                )
            }
            CameraControlError::Refused { name, value, why } => {
                write!(f, "the camera refused {name}={value}: {why}")
            }
            CameraControlError::Device(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CameraControlError {}

/// The name v4l2-ctl gives a control: its label in lower case, each run of other characters
/// one underscore ("Focus, Automatic Continuous" -> `focus_automatic_continuous`), as
/// `name2var` in v4l-utils' v4l2-ctl-common.cpp does.
pub fn name_of(label: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Every control of `dev` that deskcam can show or set, in the driver's order.
pub fn query(dev: &Device) -> io::Result<Vec<Info>> {
    // `v4l` panics on a control type it does not know (it unwraps the conversion); a driver
    // with an exotic compound control must not take the capture thread or a client with it.
    let all = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dev.query_controls()))
        .map_err(|_| io::Error::other("the driver lists a control type deskcam cannot read"))?;
    let all = match all {
        Ok(all) => all,
        // A device without any control answers the first query with EINVAL.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut class = String::new();
    let mut out = Vec::new();
    for d in all {
        if d.typ == Type::CtrlClass {
            class = d.name.clone();
            continue;
        }
        if let Some(info) = describe(dev, d, &class) {
            out.push(info);
        }
    }
    Ok(out)
}

fn describe(dev: &Device, d: Description, class: &str) -> Option<Info> {
    let kind = match d.typ {
        Type::Integer | Type::Integer64 => Kind::Integer,
        Type::Boolean => Kind::Boolean,
        Type::Button => Kind::Button,
        Type::Menu => Kind::Menu(
            d.items
                .unwrap_or_default()
                .into_iter()
                .map(|(i, item)| match item {
                    MenuItem::Name(n) => (i as i64, n),
                    MenuItem::Value(v) => (i as i64, v.to_string()),
                })
                .collect(),
        ),
        // Strings, bitmasks, integer menus and arrays: not image settings a user types.
        _ => return None,
    };
    let readable = kind != Kind::Button && !d.flags.contains(Flags::WRITE_ONLY);
    let value = if readable {
        match dev.control(d.id).map(|c| c.value) {
            Ok(Value::Integer(v)) => Some(v),
            Ok(Value::Boolean(b)) => Some(b as i64),
            _ => None,
        }
    } else {
        None
    };
    Some(Info {
        id: d.id,
        name: name_of(&d.name),
        label: d.name,
        kind,
        min: d.minimum,
        max: d.maximum,
        step: d.step.min(i64::MAX as u64) as i64,
        default: d.default,
        value,
        read_only: d.flags.contains(Flags::READ_ONLY),
        inactive: d.flags.contains(Flags::INACTIVE),
        gates_others: d.flags.contains(Flags::UPDATE),
        class: class.to_string(),
    })
}

/// Checks every setting against the camera's controls and orders them so automatic modes go
/// first; nothing is set when any one is wrong.
pub fn plan<'a>(
    controls: &'a [Info],
    wanted: &[ControlSetting],
) -> Result<Vec<(&'a Info, i64)>, CameraControlError> {
    let mut out = Vec::new();
    for w in wanted {
        let Some(info) = controls.iter().find(|c| c.name == w.name) else {
            return Err(CameraControlError::Unknown {
                name: w.name.clone(),
                known: controls
                    .iter()
                    .filter(|c| c.kind != Kind::Button && !c.read_only)
                    .map(|c| c.name.clone())
                    .collect(),
            });
        };
        if info.kind == Kind::Button {
            return Err(CameraControlError::Button {
                name: info.name.clone(),
            });
        }
        if info.read_only {
            return Err(CameraControlError::ReadOnly {
                name: info.name.clone(),
            });
        }
        if !info.accepts(w.value) {
            return Err(CameraControlError::OutOfRange {
                name: info.name.clone(),
                value: w.value,
                allowed: info.allowed(),
            });
        }
        out.push((info, w.value));
    }
    // Stable: otherwise the user's order.
    out.sort_by_key(|(info, _)| !info.is_auto_mode());
    Ok(out)
}

fn set_one(dev: &Device, info: &Info, value: i64) -> io::Result<()> {
    let value = match info.kind {
        Kind::Boolean => Value::Boolean(value != 0),
        _ => Value::Integer(value),
    };
    dev.set_control(Control { id: info.id, value })
}

/// Sets a checked plan in order. When the camera refuses one, those already set go back to
/// the values they had, so a refused change leaves the camera as it was.
pub fn apply(dev: &Device, plan: &[(&Info, i64)]) -> Result<(), CameraControlError> {
    for (n, (info, value)) in plan.iter().enumerate() {
        if let Err(e) = set_one(dev, info, *value) {
            for (done, _) in plan[..n].iter().rev() {
                if let Some(old) = done.value {
                    let _ = set_one(dev, done, old);
                }
            }
            return Err(CameraControlError::Refused {
                name: info.name.clone(),
                value: *value,
                why: refusal(&e),
            });
        }
    }
    Ok(())
}

fn refusal(e: &io::Error) -> String {
    match Errno::from_io_error(e) {
        Some(Errno::ACCESS) => {
            "it is inactive or locked (an automatic mode may hold it: set that mode off first)"
                .into()
        }
        Some(Errno::BUSY) => "it is busy (another program holds it)".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(name: &str, kind: Kind, min: i64, max: i64, step: i64) -> Info {
        Info {
            id: 1,
            name: name.into(),
            label: name.into(),
            kind,
            min,
            max,
            step,
            default: min,
            value: Some(min),
            read_only: false,
            inactive: false,
            gates_others: false,
            class: "User Controls".into(),
        }
    }

    fn set(name: &str, value: i64) -> ControlSetting {
        ControlSetting {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn names_are_v4l2_ctl_names() {
        assert_eq!(
            name_of("Focus, Automatic Continuous"),
            "focus_automatic_continuous"
        );
        assert_eq!(
            name_of("White Balance Temperature, Auto"),
            "white_balance_temperature_auto"
        );
        assert_eq!(name_of("Brightness"), "brightness");
        assert_eq!(
            name_of("Limited RGB Range (16-235)"),
            "limited_rgb_range_16_235"
        );
        assert_eq!(name_of("  (odd) name!! "), "odd_name");
    }

    #[test]
    fn automatic_modes_go_first_and_the_rest_keep_their_order() {
        let controls = vec![
            control("focus_absolute", Kind::Integer, 0, 250, 5),
            control("focus_automatic_continuous", Kind::Boolean, 0, 1, 1),
            control("brightness", Kind::Integer, 0, 255, 1),
            Info {
                gates_others: true,
                ..control(
                    "exposure_mode",
                    Kind::Menu(vec![(1, "Manual".into()), (3, "Aperture Priority".into())]),
                    0,
                    3,
                    1,
                )
            },
        ];
        let wanted = [
            set("brightness", 140),
            set("focus_absolute", 30),
            set("focus_automatic_continuous", 0),
            set("exposure_mode", 1),
        ];
        let order: Vec<&str> = plan(&controls, &wanted)
            .unwrap()
            .iter()
            .map(|(i, _)| i.name.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "focus_automatic_continuous",
                "exposure_mode",
                "brightness",
                "focus_absolute"
            ]
        );
    }

    #[test]
    fn wrong_settings_are_refused_with_what_is_allowed() {
        let controls = vec![
            control("brightness", Kind::Integer, 0, 255, 1),
            control("focus_absolute", Kind::Integer, 0, 250, 5),
            control(
                "power_line_frequency",
                Kind::Menu(vec![(0, "Disabled".into()), (2, "60 Hz".into())]),
                0,
                2,
                1,
            ),
            control("mute", Kind::Boolean, 0, 1, 1),
            control("disconnect", Kind::Button, 0, 0, 0),
            Info {
                read_only: true,
                ..control("pixel_rate", Kind::Integer, 0, 9, 1)
            },
        ];
        let e = plan(&controls, &[set("brightness", 100), set("brightnes", 1)]).unwrap_err();
        assert!(matches!(&e, CameraControlError::Unknown { name, .. } if name == "brightnes"));
        let text = e.to_string();
        assert!(
            text.contains("brightness, focus_absolute") && !text.contains("disconnect"),
            "{text}"
        );
        let e = plan(&controls, &[set("brightness", 256)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "brightness=256 is out of range: it takes 0 to 255"
        );
        let e = plan(&controls, &[set("focus_absolute", 31)]).unwrap_err();
        assert!(e.to_string().contains("in steps of 5"), "{e}");
        let e = plan(&controls, &[set("power_line_frequency", 1)]).unwrap_err();
        assert!(e.to_string().contains("0 (Disabled), 2 (60 Hz)"), "{e}");
        assert!(matches!(
            plan(&controls, &[set("mute", 2)]),
            Err(CameraControlError::OutOfRange { .. })
        ));
        assert!(matches!(
            plan(&controls, &[set("disconnect", 1)]),
            Err(CameraControlError::Button { .. })
        ));
        assert!(matches!(
            plan(&controls, &[set("pixel_rate", 1)]),
            Err(CameraControlError::ReadOnly { .. })
        ));
        assert_eq!(
            plan(&controls, &[set("brightness", -1), set("mute", 1)])
                .map(|p| p.len())
                .ok(),
            None
        );
        assert_eq!(
            plan(&controls, &[set("mute", 1), set("focus_absolute", 30)])
                .unwrap()
                .len(),
            2
        );
    }
}
