//! Status message templates: `{field}` placeholders, filled from the incident and the
//! update. A line whose placeholders are all empty is dropped, so one template serves
//! updates that fill only some fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every placeholder a template may use.
pub const FIELDS: &[&str] = &[
    "number",
    "title",
    "slug",
    "severity",
    "issue",
    "impact",
    "started",
    "status",
    "commander",
    "link",
    "time",
    "progress",
    "next_steps",
    "eta",
    "action",
    "time_to_mitigate",
    "root_cause",
    "fix",
    "duration",
    "customer_impact",
    "follow_up",
];

/// A message rendered for two kinds of reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rendered {
    /// Plain text, as the template reads.
    pub text: String,
    /// Markdown: the headline and each `Label:` in bold.
    pub markdown: String,
}

/// Checks that every placeholder in `template` is known and every brace is closed.
pub fn check(template: &str) -> Result<(), String> {
    for line in template.lines() {
        for piece in pieces(line) {
            match piece {
                Piece::Field(name) if !FIELDS.contains(&name) => {
                    return Err(format!(
                        "unknown placeholder {{{name}}}; the fields are {}",
                        FIELDS.join(", ")
                    ))
                }
                Piece::Unclosed => return Err(format!("unclosed '{{' in line: {line}")),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Fills `template` from `fields`. Missing fields count as empty.
pub fn render(template: &str, fields: &BTreeMap<&str, String>) -> Rendered {
    let mut text = Vec::new();
    let mut markdown = Vec::new();
    for (index, line) in template.trim_matches('\n').lines().enumerate() {
        let mut out = String::new();
        let mut had_field = false;
        let mut had_value = false;
        for piece in pieces(line) {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(name) => {
                    had_field = true;
                    let value = fields.get(name).map(|v| v.trim()).unwrap_or("");
                    had_value |= !value.is_empty();
                    out.push_str(value);
                }
                Piece::Unclosed => out.push('{'),
            }
        }
        if had_field && !had_value {
            continue;
        }
        markdown.push(markdown_line(index, &out));
        text.push(out);
    }
    Rendered {
        text: text.join("\n"),
        markdown: markdown.join("\n"),
    }
}

fn markdown_line(index: usize, line: &str) -> String {
    if index == 0 {
        return format!("**{line}**");
    }
    match line.split_once(": ") {
        Some((label, rest)) if !label.is_empty() && label.len() <= 40 && !label.contains("  ") => {
            format!("**{label}:** {rest}")
        }
        _ => line.to_owned(),
    }
}

enum Piece<'a> {
    Text(&'a str),
    Field(&'a str),
    Unclosed,
}

fn pieces(line: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        match rest[open..].find('}') {
            Some(close) => {
                out.push(Piece::Field(&rest[open + 1..open + close]));
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push(Piece::Unclosed);
                rest = &rest[open + 1..];
            }
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_fields_and_drops_empty_lines() {
        let fields = BTreeMap::from([
            ("status", "Investigating".to_owned()),
            ("eta", String::new()),
        ]);
        let r = render(
            "⏱️ STATUS UPDATE\nCurrent status: {status}\nETA: {eta}",
            &fields,
        );
        assert_eq!(r.text, "⏱️ STATUS UPDATE\nCurrent status: Investigating");
        assert_eq!(
            r.markdown,
            "**⏱️ STATUS UPDATE**\n**Current status:** Investigating"
        );
    }

    #[test]
    fn check_names_unknown_placeholders() {
        assert!(check("Impact: {impact}").is_ok());
        let err = check("Impact: {impakt}").unwrap_err();
        assert!(err.contains("{impakt}"), "{err}");
        assert!(check("Impact: {impact").is_err());
    }
}
