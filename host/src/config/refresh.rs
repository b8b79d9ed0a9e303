//! The `refresh` setting (on `secrets:` for every backend, and on a backend
//! for itself) and the durations it is written in.

use std::time::Duration;

use serde_yaml::Value;

use crate::config::fields::{Fields, kind_of};
use crate::error::Result;

/// How often a backend's cached values are checked against the backend,
/// and how long they are served after checks start failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSettings {
    /// `every`: the time between two checks.
    pub every: Duration,
    /// `max_stale`: how long after the last good check values are still
    /// served while checks fail (default [`RefreshSettings::DEFAULT_MAX_STALE_FACTOR`]
    /// times `every`); past it they are dropped and reads go to the
    /// backend.
    pub max_stale: Duration,
}

impl RefreshSettings {
    /// `max_stale` is this many times `every` when not set.
    pub const DEFAULT_MAX_STALE_FACTOR: u32 = 10;

    /// Settings checking every `every`, with the default `max_stale`.
    pub fn every(every: Duration) -> Self {
        Self {
            every,
            max_stale: every.saturating_mul(Self::DEFAULT_MAX_STALE_FACTOR),
        }
    }
}

/// A `refresh` field as written: settings, `off` (a backend opting out of
/// the section's default), or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshField {
    Absent,
    Off,
    On(RefreshSettings),
}

impl RefreshField {
    /// A backend's own field over the section's default.
    pub(crate) fn over(self, default: Option<RefreshSettings>) -> Option<RefreshSettings> {
        match self {
            RefreshField::Absent => default,
            RefreshField::Off => None,
            RefreshField::On(settings) => Some(settings),
        }
    }
}

/// The fields of `refresh`.
pub(crate) const FIELDS: &[&str] = &["every", "max_stale"];

/// Reads the `refresh` field of `fields`: a mapping with `every` (required)
/// and `max_stale`, or `off` / `false`.
pub(crate) fn read_refresh(fields: &Fields<'_>) -> Result<RefreshField> {
    match fields.get("refresh") {
        None | Some(Value::Null) => Ok(RefreshField::Absent),
        Some(Value::Bool(false)) => Ok(RefreshField::Off),
        Some(Value::String(s)) if s == "off" || s == "false" => Ok(RefreshField::Off),
        Some(Value::Mapping(_)) => {
            let refresh = fields.nested("refresh", FIELDS, "`refresh`")?;
            let every = match refresh.string("every")? {
                Some(text) => parse_duration(&text).map_err(|p| refresh.error("every", p))?,
                None => return Err(refresh.error("every", "is required")),
            };
            let max_stale = match refresh.string("max_stale")? {
                Some(text) => parse_duration(&text).map_err(|p| refresh.error("max_stale", p))?,
                None => RefreshSettings::every(every).max_stale,
            };
            Ok(RefreshField::On(RefreshSettings { every, max_stale }))
        }
        Some(other) => Err(fields.error(
            "refresh",
            format!(
                "expected a mapping ({{ every: 30s, max_stale: 10m }}) or off, found {}",
                kind_of(other)
            ),
        )),
    }
}

/// The shortest `every` accepted: a refresh more often than this would
/// only load the backend.
const MIN_EVERY: Duration = Duration::from_millis(100);
/// The longest duration accepted (a year): anything longer is a typo.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// A duration written as digits and one unit: `500ms`, `30s`, `10m`, `1h`,
/// from 100ms to a year. Nothing else is accepted (no spaces, fractions,
/// signs or mixed units); the error says what is wrong.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let problem =
        || format!("{text:?} is not a duration (expected digits and a unit: 500ms, 30s, 10m, 1h)");
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    if number.is_empty() || number.len() > 12 {
        return Err(problem());
    }
    let number: u64 = number.parse().map_err(|_| problem())?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        _ => return Err(problem()),
    };
    if duration < MIN_EVERY {
        return Err(format!("{text:?} is too short (at least 100ms)"));
    }
    if duration > MAX_DURATION {
        return Err(format!("{text:?} is too long (at most a year)"));
    }
    Ok(duration)
}

/// A duration as the config writes it (`500ms`, `30s`, `10m`, `1h`): the
/// largest unit that divides it.
pub fn duration_text(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_digits_and_one_unit() {
        for (text, ms) in [
            ("500ms", 500),
            ("30s", 30_000),
            ("10m", 600_000),
            ("1h", 3_600_000),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
            assert_eq!(duration_text(Duration::from_millis(ms)), text);
        }
        for bad in [
            "",
            "30",
            "s",
            "1.5s",
            "-1s",
            "1 s",
            " 1s",
            "1S",
            "1d",
            "1h30m",
            "10us",
            "50ms",
            "9999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} is refused");
        }
    }
}
