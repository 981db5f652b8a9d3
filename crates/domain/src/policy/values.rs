//! The small value types of a policy file, each checked as it is read so that an error
//! points at the value that is wrong.

use std::fmt;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::SignedDuration;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{compact_duration, parse_duration};

/// An IANA time zone name that this machine's time zone database knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName {
    name: String,
    zone: TimeZone,
}

impl TimeZoneName {
    pub fn parse(name: &str) -> Result<Self, String> {
        TimeZone::get(name)
            .map(|zone| Self {
                name: name.to_owned(),
                zone,
            })
            .map_err(|_| format!("'{name}' is not a known time zone; use an IANA name such as UTC or Europe/Berlin"))
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Serialize for TimeZoneName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for TimeZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::parse(&name).map_err(de::Error::custom)
    }
}

/// A day of the week, written `mon` to `sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub Weekday);

const DAY_NAMES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Day {
    /// `mon` to `sun`, in any case.
    pub fn parse(text: &str) -> Result<Self, String> {
        DAY_NAMES
            .iter()
            .find(|(n, _)| *n == text.to_ascii_lowercase())
            .map(|(_, w)| Day(*w))
            .ok_or_else(|| {
                format!("'{text}' is not a day; use mon, tue, wed, thu, fri, sat or sun")
            })
    }

    /// `mon` to `sun`.
    pub fn as_str(self) -> &'static str {
        DAY_NAMES
            .iter()
            .find(|(_, w)| *w == self.0)
            .map_or("mon", |(n, _)| *n)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Day::parse(&text).map_err(de::Error::custom)
    }
}

/// A wall-clock time written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(pub Time);

impl TimeOfDay {
    /// `HH:MM`, e.g. `09:00`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parsed = text.split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?);
            Time::new(h, m, 0, 0).ok()
        });
        parsed
            .map(TimeOfDay)
            .ok_or_else(|| format!("'{text}' is not a time of day; write it as HH:MM, e.g. 09:00"))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeOfDay::parse(&text).map_err(de::Error::custom)
    }
}

/// A positive duration written like `15m`, `1h` or `48h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cadence(pub SignedDuration);

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&compact_duration(self.0))
    }
}

impl Serialize for Cadence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Cadence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration("duration", &text)
            .map(Cadence)
            .map_err(|e| de::Error::custom(error_message(&e)))
    }
}

/// How soon an incident must be acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseTarget {
    /// Within this long of being declared.
    Within(Cadence),
    /// By the end of business hours on the next business day after it was declared.
    NextBusinessDay,
}

impl fmt::Display for ResponseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Within(c) => write!(f, "{c}"),
            Self::NextBusinessDay => f.write_str("next-business-day"),
        }
    }
}

impl Serialize for ResponseTarget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ResponseTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == "next-business-day" {
            return Ok(Self::NextBusinessDay);
        }
        parse_duration("response_target", &text)
            .map(|d| Self::Within(Cadence(d)))
            .map_err(|_| {
                de::Error::custom(format!(
                    "'{text}' is not a response target; use a duration such as 5m or 1h, or next-business-day"
                ))
            })
    }
}

fn error_message(e: &crate::DomainError) -> String {
    match e {
        crate::DomainError::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
