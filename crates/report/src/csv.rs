//! CSV: one finding a row (RFC 4180 quoting). The `timestamp`, `timestamp_desc` and
//! `message` columns make the file importable into Timesketch as it is.

use super::jsonl::finding_time;
use super::timeline::time_text;
use exsweep_model::{printable, Report};
use std::io::{self, Write};

const HEADER: [&str; 20] = [
    "timestamp",
    "timestamp_desc",
    "message",
    "host",
    "scan_id",
    "finding_id",
    "check_id",
    "severity",
    "class",
    "score",
    "title",
    "windows_path",
    "local_path",
    "size",
    "sha256",
    "modified",
    "created",
    "rule",
    "references",
    "action",
];

/// Escapes control characters and disguising characters (as every output does),
/// quotes a field when it holds a separator or quote, and prefixes a leading `=`, `+`,
/// `-` or `@` with `'` so a spreadsheet never runs a hostile file name as a formula.
pub fn field(value: &str) -> String {
    let value = printable(value.as_bytes());
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value
    };
    if value.contains([',', '"']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))?;
    for f in &report.findings {
        let (timestamp, timestamp_desc) = finding_time(report, f);
        let file = f.file();
        let row = [
            timestamp,
            timestamp_desc.to_string(),
            format!("{}: {}", f.title, f.detail),
            report.host.clone(),
            report.scan_id.clone(),
            f.id.clone(),
            f.check_id.to_string(),
            f.severity.to_string(),
            f.class.as_str().to_string(),
            f.score.to_string(),
            f.title.to_string(),
            file.map(|e| e.windows_path.clone()).unwrap_or_default(),
            file.map(|e| e.local.display()).unwrap_or_default(),
            file.map(|e| e.size.to_string()).unwrap_or_default(),
            file.and_then(|e| e.sha256.clone()).unwrap_or_default(),
            time_text(file.and_then(|e| e.times.modified)),
            time_text(file.and_then(|e| e.times.created)),
            f.rule.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
            f.references
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            f.action.to_string(),
        ];
        let line: Vec<String> = row.iter().map(|v| field(v)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn quotes_and_defuses_formulas() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd()"), "'=cmd()");
        assert_eq!(field("-2+3"), "'-2+3");
        // Line breaks and terminal escapes never reach the spreadsheet raw.
        assert_eq!(field("a\nb\x1b[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(field("x\u{202e}gpj.exe"), "x\\u{202e}gpj.exe");
    }
}
