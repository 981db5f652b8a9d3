//! Reading JSON bodies field by field, so that every problem becomes one message naming
//! its field (serde's derive would stop at the first and name it its own way).

use std::collections::BTreeMap;

use klaxon_domain::alert::{AlertImage, AlertLink};
use serde_json::{Map, Value};

use crate::IngestError;

/// The body as a JSON object.
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, IngestError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(IngestError::new(format!(
            "body must be a JSON object, not {}",
            kind(&other)
        ))),
        Err(e) => Err(IngestError::new(format!("body is not valid JSON: {e}"))),
    }
}

/// The JSON type of a value, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A scalar as text (strings as they are, numbers and booleans as JSON writes them);
/// `None` for null, arrays, objects and blank strings. For lenient formats.
pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `obj[key]` as text, leniently (see [`text`]).
pub(crate) fn get_text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(text)
}

/// The object at `obj[key]`, if it is one.
pub(crate) fn get_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> Option<&'a Map<String, Value>> {
    obj.get(key).and_then(Value::as_object)
}

/// An object's scalar members as text, e.g. Prometheus labels. Members that are not
/// scalars are left out.
pub(crate) fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|obj| {
            obj.iter()
                .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `obj[key]` is absent, null or a blank string: the cases where a "required"
/// message is due rather than a type or length message.
pub(crate) fn is_blank(obj: &Map<String, Value>, key: &str) -> bool {
    match obj.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

/// A strict reader for formats that must refuse what their original refuses: collects
/// one message per problem, each naming the field by its full path.
#[derive(Default)]
pub(crate) struct Check {
    pub errors: Vec<String>,
}

impl Check {
    pub fn into_result(self) -> Result<(), IngestError> {
        IngestError::check(self.errors)
    }

    /// `obj[key]` as a string; absent or null is `None`; any other type is an error.
    pub fn string(&mut self, obj: &Map<String, Value>, key: &str, name: &str) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.errors
                    .push(format!("{name} must be a string, not {}", kind(other)));
                None
            }
        }
    }

    /// Like [`Check::string`], and also an error when absent or blank; `why` ends the
    /// message, e.g. " for a trigger".
    pub fn required(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        name: &str,
        why: &str,
    ) -> Option<String> {
        let value = self.string(obj, key, name);
        if value.as_deref().is_none_or(|s| s.trim().is_empty()) {
            if obj.get(key).is_none_or(|v| v.is_null() || v.is_string()) {
                self.errors.push(format!("{name} is required{why}"));
            }
            return None;
        }
        value
    }

    /// `value` unless it is longer than `max` characters, which is an error.
    pub fn at_most(&mut self, value: Option<String>, name: &str, max: usize) -> Option<String> {
        let length = value.as_deref().map_or(0, |s| s.chars().count());
        if length > max {
            self.errors.push(format!(
                "{name} is {length} characters long; the limit is {max}"
            ));
            return None;
        }
        value
    }

    /// `obj[key]` as an object; absent or null is `None`; any other type is an error.
    pub fn object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        name: &str,
    ) -> Option<&'a Map<String, Value>> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(other) => {
                self.errors
                    .push(format!("{name} must be an object, not {}", kind(other)));
                None
            }
        }
    }

    /// `obj[key]` as an array of objects (absent or null: empty), each item checked by
    /// `item` with its index.
    pub fn each<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        mut item: impl FnMut(&mut Self, &Map<String, Value>, String) -> Option<T>,
    ) -> Vec<T> {
        let items = match obj.get(key) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.errors
                    .push(format!("{key} must be an array, not {}", kind(other)));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, value) in items.iter().enumerate() {
            let name = format!("{key}[{i}]");
            match value {
                Value::Object(map) => out.extend(item(self, map, name)),
                other => self
                    .errors
                    .push(format!("{name} must be an object, not {}", kind(other))),
            }
        }
        out
    }

    /// PagerDuty's `links[]`: `href` required, `text` optional.
    pub fn links(&mut self, obj: &Map<String, Value>) -> Vec<AlertLink> {
        self.each(obj, "links", |check, link, name| {
            let href = check.required(link, "href", &format!("{name}.href"), "");
            let text = check.string(link, "text", &format!("{name}.text"));
            Some(AlertLink { href: href?, text })
        })
    }

    /// PagerDuty's `images[]`: `src` required, `href` and `alt` optional.
    pub fn images(&mut self, obj: &Map<String, Value>) -> Vec<AlertImage> {
        self.each(obj, "images", |check, image, name| {
            let src = check.required(image, "src", &format!("{name}.src"), "");
            let href = check.string(image, "href", &format!("{name}.href"));
            let alt = check.string(image, "alt", &format!("{name}.alt"));
            Some(AlertImage {
                src: src?,
                href,
                alt,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn check_names_every_bad_field() {
        let obj = map(json!({"a": 1, "b": "", "links": [{"text": "x"}, 3]}));
        let mut check = Check::default();
        assert_eq!(check.string(&obj, "a", "p.a"), None);
        assert_eq!(check.required(&obj, "b", "p.b", " for a trigger"), None);
        assert_eq!(check.required(&obj, "c", "p.c", ""), None);
        assert!(check.links(&obj).is_empty());
        assert_eq!(
            check.errors,
            [
                "p.a must be a string, not a number",
                "p.b is required for a trigger",
                "p.c is required",
                "links[0].href is required",
                "links[1] must be an object, not a number",
            ]
        );
    }

    #[test]
    fn body_must_be_an_object() {
        assert!(object(b"[]").unwrap_err().errors[0].contains("not an array"));
        assert!(object(b"{").unwrap_err().errors[0].starts_with("body is not valid JSON"));
        assert!(object(b"{}").is_ok());
    }
}
