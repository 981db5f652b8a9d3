//! Slack presentation: mrkdwn escaping and links, Block Kit layouts, channel names.
use serde_json::{json, Value};

use crate::Link;

/// Slack's longest channel name.
const MAX_NAME: usize = 80;
/// Block Kit limits: header text, section text.
const MAX_HEADER: usize = 150;
const MAX_SECTION: usize = 3000;

/// Escapes the three characters mrkdwn treats as control characters (`&`, `<`, `>`), so
/// user text cannot forge links or mentions.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A mrkdwn link `<url|text>`. The label is escaped; `|` cannot be escaped in a label,
/// so it becomes `¦`.
pub fn link(url: &str, text: &str) -> String {
    format!("<{}|{}>", escape(url), escape(text).replace('|', "¦"))
}

/// Blocks for a notification: the headline as a header, the body (already mrkdwn) as a
/// section, and the links as a context line of mrkdwn links. Links work without Slack's
/// interactivity endpoint; see [`link_buttons`] for buttons.
pub fn message_blocks(headline: &str, body_mrkdwn: &str, links: &[Link]) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": truncate(headline, MAX_HEADER), "emoji": true }
    })];
    if !body_mrkdwn.is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": truncate(body_mrkdwn, MAX_SECTION) }
        }));
    }
    if !links.is_empty() {
        let line = links
            .iter()
            .map(|l| link(&l.url, &l.label))
            .collect::<Vec<_>>()
            .join("  •  ");
        blocks.push(json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": line }]
        }));
    }
    Value::Array(blocks)
}

/// An `actions` block with one URL button per link (the first is styled primary). Slack
/// still posts button clicks to the app's interactivity endpoint, so use these once
/// Klaxon serves one.
pub fn link_buttons(links: &[Link]) -> Value {
    let elements: Vec<Value> = links
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut button = json!({
                "type": "button",
                "text": { "type": "plain_text", "text": truncate(&l.label, 75) },
                "url": l.url,
                "action_id": format!("link_{i}"),
            });
            if i == 0 {
                button["style"] = json!("primary");
            }
            button
        })
        .collect();
    json!({ "type": "actions", "elements": elements })
}

/// Slack's channel-name rules: lowercase letters, digits, `-` and `_`, at most 80
/// characters. Anything else becomes `-`, runs of `-` collapse, and `-` is trimmed from
/// the ends. `None` when nothing usable is left.
pub fn normalize_channel_name(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'a'..='z' | '0'..='9' | '_' => c,
            _ => '-',
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(MAX_NAME);
    let out = out.trim_end_matches('-');
    (!out.is_empty()).then(|| out.to_owned())
}

/// The name for a given attempt: `base` first, then `base-2`, `base-3`, … still within 80
/// characters.
pub(crate) fn with_suffix(base: &str, attempt: u32) -> String {
    if attempt <= 1 {
        return base.to_owned();
    }
    let suffix = format!("-{attempt}");
    let keep = MAX_NAME - suffix.len();
    let stem = base[..base.len().min(keep)].trim_end_matches('-');
    format!("{stem}{suffix}")
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape("a & <b> c"), "a &amp; &lt;b&gt; c");
        assert_eq!(
            link("https://x.test/?a=1&b=2", "Ack <now> | go"),
            "<https://x.test/?a=1&amp;b=2|Ack &lt;now&gt; ¦ go>"
        );
    }

    #[test]
    fn channel_names_follow_slack_rules() {
        assert_eq!(
            normalize_channel_name("Incident #42: API down!").as_deref(),
            Some("incident-42-api-down")
        );
        // Non-ASCII letters are not allowed either.
        assert_eq!(
            normalize_channel_name("  Ünïcode__ok ").as_deref(),
            Some("n-code__ok")
        );
        assert_eq!(normalize_channel_name("!!!"), None);
        let long = normalize_channel_name(&"a".repeat(200)).unwrap();
        assert_eq!(long.len(), 80);
    }

    #[test]
    fn suffixes_stay_within_the_limit() {
        assert_eq!(with_suffix("inc-42", 1), "inc-42");
        assert_eq!(with_suffix("inc-42", 3), "inc-42-3");
        let long = "a".repeat(80);
        let s = with_suffix(&long, 12);
        assert_eq!(s.len(), 80);
        assert!(s.ends_with("a-12"));
    }

    #[test]
    fn blocks_have_header_body_and_links() {
        let blocks = message_blocks(
            "[SEV1 #42] API down",
            "*502s* everywhere",
            &[Link::new("Acknowledge", "https://k.test/ack?a=1&b=2")],
        );
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["text"], "[SEV1 #42] API down");
        assert_eq!(blocks[1]["text"]["text"], "*502s* everywhere");
        assert_eq!(
            blocks[2]["elements"][0]["text"],
            "<https://k.test/ack?a=1&amp;b=2|Acknowledge>"
        );
        let buttons = link_buttons(&[
            Link::new("Ack", "https://a"),
            Link::new("Open", "https://b"),
        ]);
        assert_eq!(buttons["elements"][0]["style"], "primary");
        assert_eq!(buttons["elements"][1]["url"], "https://b");
        assert!(buttons["elements"][1].get("style").is_none());
    }

    #[test]
    fn truncates_long_headlines_with_an_ellipsis() {
        let t = truncate(&"é".repeat(200), 150);
        assert_eq!(t.chars().count(), 150);
        assert!(t.ends_with('…'));
        assert_eq!(truncate("short", 150), "short");
    }
}
