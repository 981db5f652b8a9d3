//! Markdown as the review pages show it: a small, safe subset. Every character of the
//! text is escaped first, so no HTML a person typed ever reaches the page; then
//! paragraphs, `-`/`*` and `1.` lists, `#` headings, `**bold**`, `*emphasis*`, `` `code` ``
//! and `[text](https://…)` links (http and https only) are drawn. Anything else shows
//! as the text it is.

/// `text` (Markdown) as HTML that is safe to put in a page.
pub fn to_html(text: &str) -> String {
    let mut out = String::new();
    let mut list: Option<&str> = None;
    let mut paragraph: Vec<String> = vec![];
    let flush = |out: &mut String, paragraph: &mut Vec<String>| {
        if !paragraph.is_empty() {
            out.push_str("<p>");
            out.push_str(&paragraph.join("<br>"));
            out.push_str("</p>");
            paragraph.clear();
        }
    };
    for line in text.lines() {
        let trimmed = line.trim();
        let item = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
            .map(|rest| ("ul", rest))
            .or_else(|| numbered(trimmed).map(|rest| ("ol", rest)));
        if let Some((kind, rest)) = item {
            flush(&mut out, &mut paragraph);
            if list != Some(kind) {
                if let Some(open) = list {
                    out.push_str(&format!("</{open}>"));
                }
                out.push_str(&format!("<{kind}>"));
                list = Some(kind);
            }
            out.push_str(&format!("<li>{}</li>", inline(rest)));
            continue;
        }
        if let Some(open) = list.take() {
            out.push_str(&format!("</{open}>"));
        }
        if trimmed.is_empty() {
            flush(&mut out, &mut paragraph);
        } else if let Some(heading) = trimmed.strip_prefix('#') {
            flush(&mut out, &mut paragraph);
            out.push_str(&format!(
                "<p class=\"md-heading\"><strong>{}</strong></p>",
                inline(heading.trim_start_matches('#').trim())
            ));
        } else {
            paragraph.push(inline(trimmed));
        }
    }
    flush(&mut out, &mut paragraph);
    if let Some(open) = list {
        out.push_str(&format!("</{open}>"));
    }
    out
}

fn numbered(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    line[digits..].strip_prefix(". ")
}

fn escape(text: &str) -> String {
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

/// One line's inline marks, over escaped text.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`') {
            if let Some(end) = after.find('`') {
                out.push_str(&format!("<code>{}</code>", escape(&after[..end])));
                rest = &after[end + 1..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix("**") {
            if let Some(end) = after.find("**").filter(|e| *e > 0) {
                out.push_str(&format!("<strong>{}</strong>", inline(&after[..end])));
                rest = &after[end + 2..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix('*') {
            if let Some(end) = after.find('*').filter(|e| *e > 0) {
                out.push_str(&format!("<em>{}</em>", inline(&after[..end])));
                rest = &after[end + 1..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix('[') {
            if let Some((label, url, used)) = link(after) {
                out.push_str(&format!(
                    "<a href=\"{}\" rel=\"nofollow noopener\">{}</a>",
                    escape(url),
                    escape(label)
                ));
                rest = &after[used..];
                continue;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        out.push_str(&escape(&c.to_string()));
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `label](url)` at the start of `text`, for http(s) URLs without spaces: the label,
/// the URL and how many bytes they take.
fn link(text: &str) -> Option<(&str, &str, usize)> {
    let close = text.find("](")?;
    let label = &text[..close];
    let after = &text[close + 2..];
    let end = after.find(')')?;
    let url = &after[..end];
    let safe = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace);
    (safe && !label.is_empty()).then_some((label, url, close + 2 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn typed_html_is_never_html() {
        let html = to_html("<script>alert(1)</script> **<b>x</b>** [a](javascript:alert(1))");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn the_subset_is_drawn() {
        assert_eq!(
            to_html("Fast **rollback**, `kubectl` and *luck*.\n\n- one\n- two\n1. first"),
            "<p>Fast <strong>rollback</strong>, <code>kubectl</code> and <em>luck</em>.</p>\
             <ul><li>one</li><li>two</li></ul><ol><li>first</li></ol>"
        );
        assert_eq!(
            to_html("see [the graph](https://grafana.example/d/1)"),
            "<p>see <a href=\"https://grafana.example/d/1\" rel=\"nofollow noopener\">the graph</a></p>"
        );
    }
}
