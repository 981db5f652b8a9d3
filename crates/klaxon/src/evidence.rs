//! Evidence gathered on the responder's machine: a text file, or the output of a command
//! run here. Output larger than the server's limit keeps its beginning and its end (where
//! the error usually is) around a marker saying how much was left out.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context as _};
use klaxon_domain::incident::{Evidence, MAX_EVIDENCE_BYTES};
use tokio::io::AsyncReadExt;

/// Reads a text file as evidence. Files over the limit and files that are not UTF-8
/// are refused rather than cut, since a cut file no longer is the file.
pub fn from_file(path: &Path) -> anyhow::Result<Evidence> {
    let shown = path.display();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
    if bytes.len() > MAX_EVIDENCE_BYTES {
        bail!(
            "{shown} is {} bytes; evidence may be at most {MAX_EVIDENCE_BYTES} bytes (attach the part that matters with --text, or cut the file)",
            bytes.len()
        );
    }
    let content = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!("{shown} is not UTF-8 text; only text files can be attached")
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.to_string());
    Ok(Evidence::File { name, content })
}

/// Runs `argv` here, without a shell, and captures what it prints: stdout and stderr in
/// the order their chunks arrive. Its exit code is recorded; failing is not an error,
/// since a failing command is often the evidence.
pub async fn from_command(argv: &[String]) -> anyhow::Result<Evidence> {
    let (program, args) = argv
        .split_first()
        .context("give the command to run after --")?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot run {program}"))?;
    let mut stdout = child.stdout.take().context("no stdout")?;
    let mut stderr = child.stderr.take().context("no stderr")?;
    let mut capture = Capture::new(MAX_EVIDENCE_BYTES);
    let (mut out_buf, mut err_buf) = (vec![0u8; 8192], vec![0u8; 8192]);
    let (mut out_open, mut err_open) = (true, true);
    while out_open || err_open {
        // Biased: when both have output waiting, stdout's came first more often than not.
        tokio::select! {
            biased;
            n = stdout.read(&mut out_buf), if out_open => match n? {
                0 => out_open = false,
                n => capture.push(&out_buf[..n]),
            },
            n = stderr.read(&mut err_buf), if err_open => match n? {
                0 => err_open = false,
                n => capture.push(&err_buf[..n]),
            },
        }
    }
    let status = child.wait().await?;
    let (output, truncated) = capture.finish();
    Ok(Evidence::Command {
        command: shell_words(argv),
        output,
        exit_code: status.code(),
        truncated,
    })
}

/// The command as a person would type it, quoting words that need it.
fn shell_words(argv: &[String]) -> String {
    let quote = |w: &String| {
        let plain = !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
        if plain {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', r"'\''"))
        }
    };
    argv.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// Output kept within `cap` bytes: the first and the last bytes seen, however much
/// passes through, so a chatty command cannot fill memory.
#[derive(Debug)]
pub struct Capture {
    cap: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: usize,
}

impl Capture {
    pub fn new(cap: usize) -> Capture {
        Capture {
            cap,
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
        }
    }

    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len();
        let room = self.cap - self.head.len();
        if room > 0 {
            let n = room.min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(self.cap);
        self.tail.drain(..excess);
    }

    /// The text to attach, at most `cap` bytes, and whether anything was left out.
    /// Bytes that are not UTF-8 become U+FFFD.
    pub fn finish(mut self) -> (String, bool) {
        let head = String::from_utf8_lossy(&self.head).into_owned();
        if self.tail.is_empty() && head.len() <= self.cap {
            return (head, false);
        }
        let tail = String::from_utf8_lossy(self.tail.make_contiguous()).into_owned();
        let dropped = self.total - self.head.len() - self.tail.len();
        // Room for the marker with the largest count it could show.
        let budget = self.cap.saturating_sub(marker(self.total).len());
        let half = budget / 2;
        // With no tail, the head grew past the cap only by U+FFFD: take both ends of it.
        let end = if tail.is_empty() { &head } else { &tail };
        let tail_keep = suffix(end, budget - half);
        let head_keep = prefix(&head, budget - tail_keep.len());
        let omitted = head.len() + tail.len() + dropped - head_keep.len() - tail_keep.len();
        (format!("{head_keep}{}{tail_keep}", marker(omitted)), true)
    }
}

fn marker(omitted: usize) -> String {
    format!("\n[... {omitted} bytes left out by klaxon ...]\n")
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The longest suffix of `s` of at most `max` bytes that starts on a character boundary.
fn suffix(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(cap: usize, chunks: &[&[u8]]) -> (String, bool) {
        let mut c = Capture::new(cap);
        for chunk in chunks {
            c.push(chunk);
        }
        c.finish()
    }

    #[test]
    fn output_within_the_cap_is_kept_whole() {
        assert_eq!(
            captured(10, &[b"hello", b"\n"]),
            ("hello\n".to_owned(), false)
        );
        assert_eq!(
            captured(10, &[b"0123456789"]),
            ("0123456789".to_owned(), false)
        );
        assert_eq!(captured(10, &[]), (String::new(), false));
    }

    #[test]
    fn long_output_keeps_its_beginning_and_end() {
        let line = |i: usize| format!("line {i:05}\n");
        let all: String = (0..20_000).map(line).collect();
        let mut c = Capture::new(MAX_EVIDENCE_BYTES);
        for chunk in all.as_bytes().chunks(4096) {
            c.push(chunk);
        }
        let (text, truncated) = c.finish();
        assert!(truncated);
        assert!(text.len() <= MAX_EVIDENCE_BYTES, "{}", text.len());
        assert!(text.len() > MAX_EVIDENCE_BYTES - 100, "{}", text.len());
        assert!(text.starts_with("line 00000\nline 00001\n"));
        assert!(text.ends_with("line 19998\nline 19999\n"));
        let (_, rest) = text.split_once("\n[... ").unwrap();
        let (count, _) = rest.split_once(' ').unwrap();
        let omitted: usize = count.parse().unwrap();
        assert_eq!(text.len() - marker(omitted).len() + omitted, all.len());
    }

    #[test]
    fn just_over_the_cap_is_cut_too() {
        let (text, truncated) = captured(64, &[&[b'a'; 40], &[b'b'; 40]]);
        assert!(truncated);
        assert!(text.len() <= 64);
        assert!(text.starts_with("aaaa") && text.ends_with("bbbb"), "{text}");
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        let text = "é".repeat(100); // 200 bytes of two-byte characters
        let (out, truncated) = captured(61, &[text.as_bytes()]);
        assert!(truncated);
        assert!(out.len() <= 61);
        assert!(out.starts_with('é') && out.ends_with('é'), "{out}");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let (out, truncated) = captured(100, &[b"ok \xff\xfe done"]);
        assert!(!truncated);
        assert_eq!(out, "ok \u{fffd}\u{fffd} done");
    }

    #[test]
    fn commands_are_shown_as_typed() {
        let argv = ["kubectl", "logs", "api-0", "--since=5m", "it's here"].map(String::from);
        assert_eq!(
            shell_words(&argv),
            r"kubectl logs api-0 --since=5m 'it'\''s here'"
        );
    }

    #[test]
    fn files_over_the_limit_or_not_text_are_refused() {
        let dir = std::env::temp_dir().join(format!("klaxon-evidence-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.log");
        std::fs::write(&big, vec![b'x'; MAX_EVIDENCE_BYTES + 1]).unwrap();
        let err = from_file(&big).unwrap_err().to_string();
        assert!(
            err.contains(&format!("is {} bytes", MAX_EVIDENCE_BYTES + 1)),
            "{err}"
        );
        assert!(
            err.contains(&format!("at most {MAX_EVIDENCE_BYTES} bytes")),
            "{err}"
        );

        let binary = dir.join("core.bin");
        std::fs::write(&binary, b"\x00\xff\xfe").unwrap();
        let err = from_file(&binary).unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");

        let ok = dir.join("ok.txt");
        std::fs::write(&ok, "fine\n").unwrap();
        assert_eq!(
            from_file(&ok).unwrap(),
            Evidence::File {
                name: "ok.txt".into(),
                content: "fine\n".into()
            }
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn commands_record_output_and_exit_code() {
        let argv = ["sh", "-c", "echo out; echo err >&2; exit 3"].map(String::from);
        let Evidence::Command {
            command,
            output,
            exit_code,
            truncated,
        } = from_command(&argv).await.unwrap()
        else {
            panic!("not a command");
        };
        assert_eq!(command, "sh -c 'echo out; echo err >&2; exit 3'");
        assert!(
            output.contains("out\n") && output.contains("err\n"),
            "{output}"
        );
        assert_eq!(exit_code, Some(3));
        assert!(!truncated);
    }
}
