//! Forms with repeated groups (a schedule's layers, a policy's steps): their fields as
//! posted, and the error of a refused form placed next to the field it names.
//!
//! A repeated group's fields are named `GROUP-N-FIELD` (`layers-0-name`). The domain
//! names a field of a group `GROUP.FIELD` and says which one in its message
//! (`layers[1] (Secondary): …`), so an error can be shown inside the right group.

use crate::app::error::AppError;

/// The fields of a posted form, in order; a name may repeat (checkboxes).
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// How many groups `GROUP-N-…` the form has: the highest N plus one, at most `max`.
    pub fn groups(&self, group: &str, max: usize) -> usize {
        let prefix = format!("{group}-");
        self.0
            .iter()
            .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split('-').next()?.parse().ok())
            .map(|n: usize| n + 1)
            .max()
            .unwrap_or(0)
            .min(max)
    }

    /// The value of `FIELD` in group `GROUP` number `n`.
    pub fn of(&self, group: &str, n: usize, field: &str) -> &str {
        self.get(&format!("{group}-{n}-{field}"))
    }
}

/// Where a refused form's error goes: a field of the form, a field of one of its groups,
/// or above the form when it names no field the form has.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The group's number, for a field of a repeated group.
    pub index: Option<usize>,
    /// The form field (`name`) or the group's field (`shift`); empty above the form.
    pub field: String,
    pub message: String,
}

impl Placed {
    /// Places `e`: a field `GROUP.FIELD[.MORE]` goes to `FIELD` of the group its message
    /// names (`GROUP[N]`); a field in `fields` goes next to it; anything else above the
    /// form.
    pub fn new(e: &AppError, group: &str, fields: &[&str]) -> Placed {
        let Some(f) = e.errors.first() else {
            return Placed {
                message: e.detail.clone(),
                ..Placed::default()
            };
        };
        if let Some(rest) = f
            .field
            .strip_prefix(group)
            .and_then(|r| r.strip_prefix('.'))
        {
            let index = f
                .message
                .strip_prefix(group)
                .and_then(|m| m.strip_prefix('['))
                .and_then(|m| m.split(']').next())
                .and_then(|n| n.parse().ok());
            if index.is_some() {
                return Placed {
                    index,
                    field: rest.split('.').next().unwrap_or(rest).to_owned(),
                    message: f.message.clone(),
                };
            }
        }
        let field = if fields.contains(&f.field.as_str()) {
            f.field.clone()
        } else {
            String::new()
        };
        Placed {
            index: None,
            field,
            message: f.message.clone(),
        }
    }

    /// The message if it belongs next to form field `field`.
    pub fn at(&self, field: &str) -> Option<&str> {
        (self.index.is_none() && self.field == field).then_some(self.message.as_str())
    }

    /// The message if it belongs next to `field` of group `n`.
    pub fn in_group(&self, n: &usize, field: &str) -> Option<&str> {
        (self.index == Some(*n) && self.field == field).then_some(self.message.as_str())
    }

    /// The message if it belongs above the form.
    pub fn above(&self) -> Option<&str> {
        (self.index.is_none() && self.field.is_empty() && !self.message.is_empty())
            .then_some(self.message.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_count_to_the_highest_number() {
        let f = Fields(vec![
            ("name".into(), "x".into()),
            ("layers-0-name".into(), "a".into()),
            ("layers-2-name".into(), "b".into()),
            ("layers-x-name".into(), "c".into()),
        ]);
        assert_eq!(f.groups("layers", 20), 3);
        assert_eq!(f.groups("layers", 2), 2);
        assert_eq!(f.groups("steps", 20), 0);
        assert_eq!(f.of("layers", 2, "name"), "b");
        assert_eq!(f.of("layers", 1, "name"), "");
    }

    #[test]
    fn an_error_goes_next_to_its_field() {
        let e = AppError::invalid("layers.restrictions.days", "layers[1] (B): never opens");
        let p = Placed::new(&e, "layers", &["name"]);
        assert_eq!(
            p.in_group(&1, "restrictions"),
            Some("layers[1] (B): never opens")
        );
        assert_eq!(p.in_group(&0, "restrictions"), None);
        assert_eq!(p.above(), None);

        let p = Placed::new(&AppError::invalid("name", "too long"), "layers", &["name"]);
        assert_eq!(p.at("name"), Some("too long"));

        let p = Placed::new(&AppError::invalid("other", "odd"), "layers", &["name"]);
        assert_eq!(p.above(), Some("odd"));

        let p = Placed::new(&AppError::conflict("taken"), "layers", &["name"]);
        assert_eq!(p.above(), Some("taken"));
    }
}
