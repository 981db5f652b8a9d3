//! SMS text that fits one segment when it can.

/// One SMS segment: 160 GSM-7 septets. Twilio splits and bills longer bodies per segment.
pub const SMS_SEGMENT: usize = 160;
/// One segment when any character is outside GSM-7 and the message goes as UCS-2.
const UCS2_SEGMENT: usize = 70;

/// GSM 03.38 basic character set (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM 03.38 extension table (an escape plus the character: two septets each).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// Septets `text` takes in GSM-7, or `None` when it needs UCS-2.
fn gsm_len(text: &str) -> Option<usize> {
    text.chars().try_fold(0, |n, c| {
        if GSM_BASIC.contains(c) {
            Some(n + 1)
        } else if GSM_EXTENDED.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

/// The cost of `text` against its segment budget: (units used, budget).
fn cost(text: &str) -> (usize, usize) {
    match gsm_len(text) {
        Some(septets) => (septets, SMS_SEGMENT),
        None => (text.encode_utf16().count(), UCS2_SEGMENT),
    }
}

/// `subject` followed by `link` on a new line, shortened to one SMS segment when
/// possible: the subject is cut (ending in `...`) and the link is always kept whole, so
/// a link longer than a segment yields a longer, multi-segment message.
pub fn sms_text(subject: &str, link: Option<&str>) -> String {
    let tail = link.map(|l| format!("\n{l}")).unwrap_or_default();
    let whole = format!("{subject}{tail}");
    let (used, budget) = cost(&whole);
    if used <= budget {
        return whole;
    }
    let mut chars: Vec<char> = subject.trim_end().chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cut: String = chars.iter().collect();
        let candidate = format!("{}...{tail}", cut.trim_end());
        let (used, budget) = cost(&candidate);
        if used <= budget {
            return candidate;
        }
    }
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_are_untouched() {
        assert_eq!(
            sms_text("[SEV1 #42] API down", Some("https://k.test/i/42")),
            "[SEV1 #42] API down\nhttps://k.test/i/42"
        );
        assert_eq!(sms_text("hi", None), "hi");
    }

    #[test]
    fn long_subjects_are_cut_to_one_gsm_segment_keeping_the_link() {
        let link = "https://klaxon.example/incidents/42";
        let text = sms_text(&"word ".repeat(60), Some(link));
        assert!(text.ends_with(&format!("...\n{link}")), "{text}");
        assert!(gsm_len(&text).unwrap() <= SMS_SEGMENT);
        assert!(gsm_len(&text).unwrap() >= SMS_SEGMENT - 5);
    }

    #[test]
    fn extension_characters_count_twice() {
        assert_eq!(gsm_len("{}"), Some(4));
        assert_eq!(gsm_len("€"), Some(2));
        assert_eq!(gsm_len("✓"), None);
        let text = sms_text(&"[x]".repeat(60), None);
        assert!(gsm_len(&text).unwrap() <= SMS_SEGMENT);
    }

    #[test]
    fn non_gsm_text_is_cut_to_one_ucs2_segment() {
        let text = sms_text(&"✓ ok ".repeat(40), Some("https://k.test/1"));
        assert!(text.encode_utf16().count() <= UCS2_SEGMENT, "{text}");
        assert!(text.ends_with("\nhttps://k.test/1"));
    }

    #[test]
    fn a_link_longer_than_a_segment_is_sent_whole() {
        let link = format!("https://k.test/{}", "a".repeat(200));
        assert_eq!(sms_text("subject", Some(&link)), format!("subject\n{link}"));
    }
}
