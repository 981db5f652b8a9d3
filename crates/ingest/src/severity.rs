//! Severity words as monitoring tools spell them, onto Klaxon's four levels.

use klaxon_domain::alert::AlertSeverity;

/// A severity word, case-insensitively: Klaxon's own four (`critical`, `error`,
/// `warning`, `info`) and the synonyms monitoring setups commonly use:
///
/// | level | also accepted |
/// |---|---|
/// | critical | `crit`, `page`, `fatal`, `emergency`, `emerg`, `alert`, `disaster`, `p1`, `sev1` |
/// | error | `err`, `high`, `major`, `p2`, `sev2` |
/// | warning | `warn`, `medium`, `minor`, `average`, `p3`, `sev3` |
/// | info | `information`, `informational`, `notice`, `low`, `debug`, `none`, `ok`, `p4`, `p5`, `sev4`, `sev5` |
///
/// `None` for anything else; each caller documents its default.
pub(crate) fn from_word(word: &str) -> Option<AlertSeverity> {
    let word = word.trim().to_ascii_lowercase();
    let severity = match word.as_str() {
        "critical" | "crit" | "page" | "fatal" | "emergency" | "emerg" | "alert" | "disaster"
        | "p1" | "sev1" => AlertSeverity::Critical,
        "error" | "err" | "high" | "major" | "p2" | "sev2" => AlertSeverity::Error,
        "warning" | "warn" | "medium" | "minor" | "average" | "p3" | "sev3" => {
            AlertSeverity::Warning
        }
        "info" | "information" | "informational" | "notice" | "low" | "debug" | "none" | "ok"
        | "p4" | "p5" | "sev4" | "sev5" => AlertSeverity::Info,
        _ => return None,
    };
    Some(severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_synonyms() {
        assert_eq!(from_word("Critical"), Some(AlertSeverity::Critical));
        assert_eq!(from_word("page"), Some(AlertSeverity::Critical));
        assert_eq!(from_word(" warn "), Some(AlertSeverity::Warning));
        assert_eq!(from_word("P5"), Some(AlertSeverity::Info));
        assert_eq!(from_word("error"), Some(AlertSeverity::Error));
        assert_eq!(from_word("bad"), None);
    }
}
