//! Text from the evidence made safe to show, and the one time format of every output.

use std::time::SystemTime;

/// UTC RFC 3339 with seconds, the form every output uses.
pub fn rfc3339(t: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = t.into();
    dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Serialises an optional time as [`rfc3339`].
pub(crate) fn ser_opt_time<S: serde::Serializer>(
    t: &Option<SystemTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// Log lines and records are cut at this many characters in a finding's evidence.
pub const EXCERPT_CHARS: usize = 600;

/// A log line or record as evidence shows it: cut at [`EXCERPT_CHARS`], escaped.
pub fn excerpt(text: &str) -> String {
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    printable(cut.as_bytes())
}

/// Escapes control characters and non-printables, so that a hostile file name or
/// matched string cannot drive the terminal or break a CSV/JSON consumer's view.
pub fn printable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls_and_bad_utf8() {
        assert_eq!(printable(b"a\x1b[31mb\xff"), "a\\u{1b}[31mb\\xff");
    }

    #[test]
    fn rfc3339_is_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_614_729_600);
        assert_eq!(rfc3339(t), "2021-03-03T00:00:00Z");
    }
}
