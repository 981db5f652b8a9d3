//! TwiML for paging calls.

/// Escapes text for XML content and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Reads `text`, asks the callee to press 1, and posts the pressed digit to
/// `action_url` (Twilio sends it as `Digits`). Without a key press the call says a
/// closing line and hangs up, so the escalation goes on.
pub fn ack_prompt(text: &str, action_url: &str) -> String {
    format!(
        concat!(
            r#"<Response><Gather numDigits="1" action="{action}" method="POST">"#,
            "<Say>{text} Press 1 to acknowledge.</Say></Gather>",
            "<Say>No key was pressed. Goodbye.</Say></Response>"
        ),
        action = xml_escape(action_url),
        text = xml_escape(text),
    )
}

/// Reads `text` twice and hangs up: for calls with nowhere to send an acknowledgement.
pub fn say_only(text: &str) -> String {
    let text = xml_escape(text);
    format!("<Response><Say>{text}</Say><Pause length=\"1\"/><Say>{text}</Say></Response>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_prompt_is_escaped_twiml() {
        assert_eq!(
            ack_prompt("API <down> & \"slow\"", "https://k.test/voice/ack?i=42&t=x"),
            concat!(
                r#"<Response><Gather numDigits="1" action="https://k.test/voice/ack?i=42&amp;t=x" method="POST">"#,
                "<Say>API &lt;down&gt; &amp; &quot;slow&quot; Press 1 to acknowledge.</Say></Gather>",
                "<Say>No key was pressed. Goodbye.</Say></Response>"
            )
        );
    }

    #[test]
    fn say_only_repeats_the_text() {
        assert_eq!(
            say_only("a<b"),
            "<Response><Say>a&lt;b</Say><Pause length=\"1\"/><Say>a&lt;b</Say></Response>"
        );
    }
}
