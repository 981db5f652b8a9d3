//! `/history.atom` and `/history.rss` in the shapes Statuspage pages serve: one entry per
//! incident or scheduled maintenance (the [`statuspage::LIMIT`] most recent), its content the updates newest
//! first as escaped HTML, each `<small>{Mon} <var data-var='date'>{d}</var>, <var
//! data-var='time'>{HH:MM}</var> UTC</small><br><strong>{Label}</strong> - {body}`, so
//! that readers which take the first `<strong>` as the current state keep working.

use std::fmt::Write as _;

use jiff::Timestamp;
use klaxon_domain::status::statuspage;
use klaxon_domain::status::view::{
    incident_path, maintenance_path, PublicIncident, PublicMaintenance,
};
use klaxon_domain::status::PublicView;

/// Escapes text for XML and HTML alike.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for an XML text node: what the captured feeds escape, quotes left as
/// they are.
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The host of the page's URL for tag URIs (`tag:status.example.com,2005:…`).
fn tag_host(v: &PublicView) -> String {
    v.page
        .url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', ':']).next().unwrap_or(rest))
        .filter(|h| !h.is_empty())
        .unwrap_or("klaxon")
        .to_owned()
}

/// One entry of the feeds: an incident or a maintenance.
struct Entry {
    id: String,
    name: String,
    path: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    /// The HTML both feeds carry (not yet escaped for XML).
    content: String,
}

/// The [`statuspage::LIMIT`] most recent incidents and maintenances, newest first.
fn entries(v: &PublicView) -> Vec<Entry> {
    let mut all: Vec<Entry> = v
        .incidents
        .iter()
        .map(|i: &PublicIncident| Entry {
            id: i.id.clone(),
            name: i.name.clone(),
            path: incident_path(&i.id),
            created_at: i.created_at,
            updated_at: i.updated_at,
            content: content(i.updates.iter().map(|u| (u.at, u.label, u.body.as_str()))),
        })
        .chain(v.maintenances.iter().map(|m: &PublicMaintenance| Entry {
            id: m.id.clone(),
            name: m.name.clone(),
            path: maintenance_path(&m.id),
            created_at: m.created_at,
            updated_at: m.updated_at,
            content: content(m.updates.iter().map(|u| (u.at, u.label, u.body.as_str()))),
        }))
        .collect();
    all.sort_by_key(|e| std::cmp::Reverse(e.created_at));
    all.truncate(statuspage::LIMIT);
    all
}

fn link(v: &PublicView, e: &Entry) -> String {
    format!("{}{}", v.page.url.trim_end_matches('/'), e.path)
}

/// Updates (time, label, body), newest first, as the HTML both feeds carry (not yet
/// escaped for XML).
fn content<'a>(updates: impl Iterator<Item = (Timestamp, &'a str, &'a str)>) -> String {
    let mut html = String::new();
    for (at, label, body) in updates {
        let day = at.strftime("%d").to_string();
        let _ = write!(
            html,
            "<p><small>{} <var data-var='date'>{}</var>, <var data-var='time'>{}</var> UTC</small><br><strong>{}</strong> - {}</p>",
            at.strftime("%b"),
            day.trim_start_matches('0'),
            at.strftime("%H:%M"),
            label,
            escape(body).replace('\n', "<br>"),
        );
    }
    html
}

fn title(v: &PublicView) -> String {
    format!("{} Status - Incident History", v.page.name)
}

fn atom_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The Atom feed.
pub(super) fn atom(v: &PublicView) -> String {
    let host = tag_host(v);
    let base = v.page.url.trim_end_matches('/');
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<feed xml:lang=\"en-US\" xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(out, "  <id>tag:{},2005:/history</id>", escape(&host));
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}/status\"/>",
        escape(base)
    );
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}/history.atom\"/>",
        escape(base)
    );
    let _ = writeln!(out, "  <title>{}</title>", escape(&title(v)));
    let _ = writeln!(out, "  <updated>{}</updated>", atom_time(v.page.updated_at));
    let _ = writeln!(
        out,
        "  <author><name>{}</name></author>",
        escape(&v.page.name)
    );
    for i in entries(v) {
        let html = xml_text(&i.content);
        out.push_str("  <entry>\n");
        let _ = writeln!(
            out,
            "    <id>tag:{},2005:Incident/{}</id>",
            escape(&host),
            i.id
        );
        let _ = writeln!(
            out,
            "    <published>{}</published>",
            atom_time(i.created_at)
        );
        let _ = writeln!(out, "    <updated>{}</updated>", atom_time(i.updated_at));
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            escape(&link(v, &i))
        );
        let _ = writeln!(out, "    <title>{}</title>", escape(&i.name));
        let _ = writeln!(out, "    <content type=\"html\">{html}</content>");
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn rss_time(t: Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// The RSS 2.0 feed.
pub(super) fn rss(v: &PublicView) -> String {
    let base = v.page.url.trim_end_matches('/');
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n  <channel>\n",
    );
    let _ = writeln!(out, "    <title>{}</title>", escape(&title(v)));
    let _ = writeln!(out, "    <link>{}/status</link>", escape(base));
    out.push_str("    <description>Statuspage</description>\n");
    let _ = writeln!(
        out,
        "    <pubDate>{}</pubDate>",
        rss_time(v.page.updated_at)
    );
    for i in entries(v) {
        let link = escape(&link(v, &i));
        out.push_str("    <item>\n");
        let _ = writeln!(out, "      <title>{}</title>", escape(&i.name));
        let _ = writeln!(
            out,
            "      <description>{}</description>",
            xml_text(&i.content)
        );
        let _ = writeln!(out, "      <pubDate>{}</pubDate>", rss_time(i.created_at));
        let _ = writeln!(out, "      <link>{link}</link>");
        let _ = writeln!(out, "      <guid>{link}</guid>");
        out.push_str("    </item>\n");
    }
    out.push_str("  </channel>\n</rss>\n");
    out
}
