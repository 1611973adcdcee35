//! The first of the two parsing steps (as ripgrep does): `lexopt` splits what the user typed
//! into flags and values, each flag is looked up in the table ([`super::flags`]) and kept with
//! its value, unjudged; [`super::validate`] then checks every value once.

use std::ffi::OsString;

use super::flags::{self, DefaultValue, Flag};
use super::{ConfigError, err};

/// Every flag given, with its value (`None` for a switch), in order.
#[derive(Default)]
pub(super) struct RawArgs {
    given: Vec<(&'static Flag, Option<String>)>,
}

impl RawArgs {
    fn all<'a>(
        &'a self,
        flag: &Flag,
    ) -> impl DoubleEndedIterator<Item = &'a Option<String>> + use<'a> {
        let long = flag.long;
        self.given
            .iter()
            .filter(move |(f, _)| f.long == long)
            .map(|(_, v)| v)
    }

    /// Whether the switch (or any flag) was given.
    pub(super) fn on(&self, flag: &Flag) -> bool {
        self.all(flag).next().is_some()
    }

    /// The value of `flag` as last given.
    pub(super) fn value(&self, flag: &Flag) -> Option<&str> {
        self.all(flag).next_back().and_then(|v| v.as_deref())
    }

    /// The value given, else the table's default, which is checked like a typed value.
    pub(super) fn value_or_default(&self, flag: &Flag) -> Option<&str> {
        self.value(flag).or(match flag.default {
            DefaultValue::Value(v) => Some(v),
            DefaultValue::None | DefaultValue::Said(_) => None,
        })
    }

    /// Every value of a flag that repeats, in order.
    pub(super) fn values<'a>(&'a self, flag: &Flag) -> impl Iterator<Item = &'a str> + use<'a> {
        self.all(flag).filter_map(|v| v.as_deref())
    }
}

/// What the command line asks for before validation.
pub(super) enum Read {
    Help,
    Version,
    /// `--generate WHAT`, not yet checked.
    Generate(String),
    Args(Box<RawArgs>),
}

/// Collects the raw flags; only an unknown flag, a missing value or non-UTF-8 text is refused.
/// `--help`, `--version` and `--generate` answer at once, whatever follows them.
pub(super) fn read<I>(args: I) -> Result<Read, ConfigError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;
    let mut raw = RawArgs::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| ConfigError(e.to_string()))? {
        let flag = match &arg {
            Short(c) => flags::by_short(*c),
            Long(name) => flags::by_long(name),
            // Not echoed: a value typed without its flag may be a password (`--control me:pw`).
            Value(_) => {
                return err(
                    "unexpected argument without a flag (flags start with --; a value follows its flag)",
                );
            }
        };
        let Some(flag) = flag else {
            return err(arg.unexpected().to_string());
        };
        let value = match flag.value {
            None => None,
            Some(_) => {
                let value = parser.value().map_err(|e| ConfigError(e.to_string()))?;
                // Not echoed either: it may be a password (`--auth`).
                let value = value.into_string().map_err(|_| {
                    ConfigError(format!("--{}: the value is not valid UTF-8", flag.long))
                })?;
                Some(value)
            }
        };
        if flag == &flags::HELP {
            return Ok(Read::Help);
        }
        if flag == &flags::VERSION {
            return Ok(Read::Version);
        }
        if flag == &flags::GENERATE {
            return Ok(Read::Generate(value.unwrap_or_default()));
        }
        raw.given.push((flag, value));
    }
    Ok(Read::Args(Box::new(raw)))
}
