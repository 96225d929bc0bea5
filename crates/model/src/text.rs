//! Text from the evidence made safe to show, and the one time format of every output.

use std::time::SystemTime;

/// UTC RFC 3339, the form every output uses: whole seconds as `02:50:12Z`, and the
/// fraction a log recorded (`02:50:12.345Z`) kept, so requests in one second stay apart.
pub fn rfc3339(t: SystemTime) -> String {
    // Seconds from 1970 either way: file systems store times far outside what a
    // calendar date can show (btrfs and XFS hold 64-bit seconds), and evidence may.
    let (secs, nanos) = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => (i64::try_from(after.as_secs()).ok(), after.subsec_nanos()),
        Err(before) => {
            let before = before.duration();
            let (secs, nanos) = match before.subsec_nanos() {
                0 => (before.as_secs(), 0),
                n => (before.as_secs() + 1, 1_000_000_000 - n),
            };
            (i64::try_from(secs).ok().map(|s| -s), nanos)
        }
    };
    match secs.and_then(|s| chrono::DateTime::from_timestamp(s, nanos)) {
        Some(dt) => dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => format!("(time out of range: {secs:?} s from 1970)"),
    }
}

/// Serialises a time as [`rfc3339`].
pub(crate) fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
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

/// Reads a time as [`rfc3339`] writes it (any RFC 3339 offset is taken).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let dt = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    let (secs, nanos) = (dt.timestamp(), dt.timestamp_subsec_nanos());
    let whole = std::time::Duration::from_secs(secs.unsigned_abs());
    let at = if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(whole)?
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(whole)?
    };
    at.checked_add(std::time::Duration::from_nanos(nanos.into()))
}

/// Reads a time written by [`ser_time`].
pub(crate) fn de_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    parse_rfc3339(&text).ok_or_else(|| serde::de::Error::custom(format!("not a time: {text}")))
}

/// Reads a time written by [`ser_opt_time`]; a time the writer could not show as a
/// date (`(time out of range ...)`) reads as none.
pub(crate) fn de_opt_time<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<SystemTime>, D::Error> {
    let text = <Option<std::borrow::Cow<'de, str>> as serde::Deserialize>::deserialize(d)?;
    Ok(text.as_deref().and_then(parse_rfc3339))
}

/// Log lines and records are cut at this many characters in a finding's evidence.
pub const EXCERPT_CHARS: usize = 600;

/// A log line or record as evidence shows it: cut at [`EXCERPT_CHARS`], escaped.
pub fn excerpt(text: &str) -> String {
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    printable(cut.as_bytes())
}

/// Characters that change how the text around them is shown without being control
/// characters: the bidirectional overrides, embeddings, isolates and marks (a file
/// `gnp.xpsa` written with U+202E shows as `aspx.png`) and the line and paragraph
/// separators.
pub fn is_disguising(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Escapes control characters, the characters that reorder or break the text around
/// them, and bytes that are not UTF-8, so that a hostile file name or log line cannot
/// drive the terminal, disguise itself or break a CSV/JSON consumer's view.
pub fn printable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || is_disguising(c) {
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
        assert_eq!(printable("x\u{9b}y".as_bytes()), "x\\u{9b}y");
    }

    #[test]
    fn printable_shows_bidi_overrides_instead_of_obeying_them() {
        let disguised = "invoice\u{202e}gnp.xpsa";
        assert_eq!(printable(disguised.as_bytes()), "invoice\\u{202e}gnp.xpsa");
        assert_eq!(
            printable("a\u{2066}b\u{2028}c".as_bytes()),
            "a\\u{2066}b\\u{2028}c"
        );
        // Ordinary non-ASCII text stays as it is.
        assert_eq!(printable("café 東京".as_bytes()), "café 東京");
    }

    #[test]
    fn rfc3339_is_utc_and_keeps_fractions() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_614_729_600);
        // Before 1970, and beyond any calendar, are shown, never a panic.
        let before = SystemTime::UNIX_EPOCH - std::time::Duration::from_millis(1500);
        assert_eq!(rfc3339(before), "1969-12-31T23:59:58.500Z");
        if let Some(absurd) =
            SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(i64::MAX as u64 / 2))
        {
            assert!(rfc3339(absurd).starts_with("(time out of range"));
        }
        assert_eq!(rfc3339(t), "2021-03-03T00:00:00Z");
        let t = t + std::time::Duration::from_millis(345);
        assert_eq!(rfc3339(t), "2021-03-03T00:00:00.345Z");
        for time in [t, before] {
            assert_eq!(parse_rfc3339(&rfc3339(time)), Some(time));
        }
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn excerpts_are_cut_and_escaped() {
        let long = "\u{1b}".to_string() + &"x".repeat(EXCERPT_CHARS * 2);
        let cut = excerpt(&long);
        assert!(cut.starts_with("\\u{1b}x"));
        assert_eq!(cut.chars().filter(|c| *c == 'x').count(), EXCERPT_CHARS - 1);
    }
}
