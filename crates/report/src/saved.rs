//! Saved results read back: the JSONL that `scan --format jsonl` wrote (gzipped or
//! not), one record at a time. [`read_report`] rebuilds the one scan a file holds as
//! a [`Report`], so that every output renders it again exactly; [`read_records`]
//! streams any number of files, record by record, for the overview of many hosts.
//!
//! A saved file is evidence of a kind too (it holds what attackers typed) and may be
//! cut short, edited or not a scan at all: a line that does not read is a warning
//! naming the file and line, and the reading goes on. A file without its summary
//! record says so in the coverage, so a truncated scan never reads as clean.

use crate::jsonl::SCHEMA_VERSION;
use exsweep_model::{
    ChecklistItem, Class, Coverage, Finding, Incident, Report, TrailEntry, Verdict, VerdictLevel,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::SystemTime;

/// A record longer than this is passed over: no scan writes one (a summary with a
/// long `--follow` trail is the largest), and reading it whole could take all memory.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Warnings kept per file; the rest are counted.
const WARNINGS_KEPT: usize = 20;

/// One record of a saved scan, with the scan it belongs to.
#[derive(Debug)]
pub enum Record {
    Finding(Scoped<Box<Finding>>),
    Incident(Scoped<Incident>),
    Checklist(Scoped<ChecklistItem>),
    Summary(Box<Summary>),
}

impl Record {
    /// The scan the record belongs to.
    pub fn scan_id(&self) -> &str {
        match self {
            Record::Finding(s) => &s.scan_id,
            Record::Incident(s) => &s.scan_id,
            Record::Checklist(s) => &s.scan_id,
            Record::Summary(s) => &s.scan_id,
        }
    }

    /// The host the record belongs to.
    pub fn host(&self) -> &str {
        match self {
            Record::Finding(s) => &s.host,
            Record::Incident(s) => &s.host,
            Record::Checklist(s) => &s.host,
            Record::Summary(s) => &s.host,
        }
    }
}

/// A record's item and the scan it belongs to.
#[derive(Debug, Deserialize)]
pub struct Scoped<T> {
    pub scan_id: String,
    pub host: String,
    #[serde(flatten)]
    pub item: T,
}

/// The verdict's basis as the summary record writes it.
#[derive(Debug, Deserialize)]
pub struct VerdictBasis {
    pub driven_by: Option<Class>,
    #[serde(default)]
    pub findings_by_class: BTreeMap<String, usize>,
    #[serde(default)]
    pub not_assessed: Vec<String>,
    #[serde(default)]
    pub still_open: Vec<String>,
}

/// A scan's summary record: its span, verdict and coverage.
#[derive(Debug, Deserialize)]
pub struct Summary {
    pub scan_id: String,
    pub host: String,
    #[serde(deserialize_with = "time")]
    pub started: SystemTime,
    #[serde(deserialize_with = "time")]
    pub finished: SystemTime,
    pub verdict: VerdictLevel,
    pub verdict_basis: VerdictBasis,
    pub coverage: Coverage,
    #[serde(default)]
    pub trail: Vec<TrailEntry>,
}

impl Summary {
    /// The verdict as the scan gave it.
    pub fn verdict(&self) -> Verdict {
        let basis = &self.verdict_basis;
        Verdict {
            level: self.verdict,
            driven_by: basis.driven_by,
            findings_by_class: Class::ALL
                .iter()
                .map(|c| {
                    (
                        c.as_str(),
                        basis
                            .findings_by_class
                            .get(c.as_str())
                            .copied()
                            .unwrap_or(0),
                    )
                })
                .collect(),
            not_assessed: basis.not_assessed.clone(),
            still_open: basis.still_open.clone(),
        }
    }
}

fn time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
    let text = String::deserialize(d)?;
    exsweep_model::parse_rfc3339(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("not a time: {text}")))
}

/// The JSONL's record layout: the `record` field names the kind.
#[derive(Deserialize)]
#[serde(tag = "record", rename_all = "lowercase")]
enum Wire {
    Finding(Scoped<Box<Finding>>),
    Incident(Scoped<Incident>),
    Checklist(Scoped<ChecklistItem>),
    Summary(Box<Summary>),
}

/// Only the version, read before the rest so that a record of another schema is
/// named as such rather than as a parse error.
#[derive(Deserialize)]
struct Version {
    schema_version: Option<u64>,
}

/// What reading one file met.
#[derive(Debug, Default)]
pub struct FileStats {
    pub lines: u64,
    pub records: u64,
    /// Warnings, the first [`WARNINGS_KEPT`] of them; `warnings_more` counts the rest.
    pub warnings: Vec<String>,
    pub warnings_more: u64,
}

impl FileStats {
    fn warn(&mut self, text: String) {
        if self.warnings.len() < WARNINGS_KEPT {
            self.warnings.push(text);
        } else {
            self.warnings_more += 1;
        }
    }

    /// The warnings, with the count of those left out.
    pub fn all_warnings(&self) -> impl Iterator<Item = String> + '_ {
        let more = (self.warnings_more > 0)
            .then(|| format!("... and {} more warnings like these", self.warnings_more));
        self.warnings.iter().cloned().chain(more)
    }
}

/// Opens a saved file, gunzipping a `.gz` one.
fn open(path: &Path) -> Result<Box<dyn BufRead>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let gzip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    Ok(if gzip {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Reads the next line into `line` (without its end), at most [`MAX_RECORD_BYTES`]:
/// `Ok(None)` at the end, `Ok(Some(false))` for a line too long (its rest skipped).
fn next_line(
    reader: &mut dyn BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    line.clear();
    let read = reader.take(max as u64 + 1).read_until(b'\n', line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        return Ok(Some(true));
    }
    if line.len() <= max {
        return Ok(Some(true)); // the last line, without a line break
    }
    // Too long: pass over the rest of it in pieces.
    loop {
        line.clear();
        let read = reader.take(1 << 20).read_until(b'\n', line)?;
        if read == 0 || line.last() == Some(&b'\n') {
            line.clear();
            return Ok(Some(false));
        }
    }
}

/// Calls `each` with every record of `path`, in order. Lines that are blank, not
/// JSON, of another schema or too long are warnings in the returned stats; an
/// unreadable file is an error.
pub fn read_records(path: &Path, each: impl FnMut(Record)) -> Result<FileStats, String> {
    let mut reader = open(path)?;
    Ok(records_from(
        &mut *reader,
        &path.display().to_string(),
        MAX_RECORD_BYTES,
        each,
    ))
}

/// [`read_records`] of an open reader named `name`, with lines up to `max` bytes.
pub(crate) fn records_from(
    reader: &mut dyn BufRead,
    name: &str,
    max: usize,
    mut each: impl FnMut(Record),
) -> FileStats {
    let mut stats = FileStats::default();
    let mut line = Vec::new();
    loop {
        let whole = match next_line(reader, &mut line, max) {
            Ok(Some(whole)) => whole,
            Ok(None) => break,
            Err(e) => {
                stats.warn(format!(
                    "{name}: reading stopped after line {}: {e}",
                    stats.lines
                ));
                break;
            }
        };
        stats.lines += 1;
        let at = stats.lines;
        if !whole {
            stats.warn(format!(
                "{name} line {at}: longer than {max} bytes, passed over"
            ));
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Ok(Version {
            schema_version: Some(v),
        }) = serde_json::from_slice::<Version>(&line)
        {
            if v != u64::from(SCHEMA_VERSION) {
                stats.warn(format!(
                    "{name} line {at}: schema version {v}, this exsweep reads {SCHEMA_VERSION}: passed over"
                ));
                continue;
            }
        }
        match serde_json::from_slice::<Wire>(&line) {
            Ok(wire) => {
                stats.records += 1;
                each(match wire {
                    Wire::Finding(f) => Record::Finding(f),
                    Wire::Incident(i) => Record::Incident(i),
                    Wire::Checklist(c) => Record::Checklist(c),
                    Wire::Summary(s) => Record::Summary(s),
                });
            }
            Err(e) => stats.warn(format!(
                "{name} line {at}: not an exsweep record ({e}): passed over"
            )),
        }
    }
    if stats.records == 0 {
        stats.warn(format!("{name}: no exsweep record in it"));
    }
    stats
}

/// Why a file could not be read back as one report.
#[derive(Debug)]
pub enum ReadError {
    /// The file holds more than one scan: render them as an overview.
    SeveralScans,
    /// It could not be read, or holds no scan.
    Unreadable(String),
}

/// Rebuilds the one scan `path` holds. Its warnings go into the coverage's; a file
/// cut before its summary gets a coverage that says the scan's coverage is unknown,
/// and a verdict rebuilt from its findings that names that gap.
pub fn read_report(path: &Path) -> Result<Report, ReadError> {
    let mut reader = open(path).map_err(ReadError::Unreadable)?;
    report_from(&mut *reader, &path.display().to_string())
}

/// [`read_report`] of an open reader named `name`.
pub(crate) fn report_from(reader: &mut dyn BufRead, name: &str) -> Result<Report, ReadError> {
    let mut scan: Option<(String, String)> = None;
    let mut several = false;
    let mut findings = Vec::new();
    let mut incidents = Vec::new();
    let mut checklist = Vec::new();
    let mut summary = None;
    let stats = records_from(reader, name, MAX_RECORD_BYTES, |record| {
        match &scan {
            Some((id, _)) if id != record.scan_id() => several = true,
            Some(_) => {}
            None => scan = Some((record.scan_id().to_string(), record.host().to_string())),
        }
        if several {
            return;
        }
        match record {
            Record::Finding(f) => findings.push(*f.item),
            Record::Incident(i) => incidents.push(i.item),
            Record::Checklist(c) => checklist.push(c.item),
            Record::Summary(s) => summary = Some(s),
        }
    });
    if several {
        return Err(ReadError::SeveralScans);
    }
    let Some((scan_id, host)) = scan else {
        return Err(ReadError::Unreadable(format!(
            "{name}: no exsweep record in it"
        )));
    };
    let mut report = match summary {
        Some(summary) => {
            let verdict = summary.verdict();
            let Summary {
                started,
                finished,
                coverage,
                trail,
                ..
            } = *summary;
            Report {
                scan_id,
                host,
                started,
                finished,
                verdict,
                findings,
                incidents,
                coverage,
                trail,
                checklist,
            }
        }
        None => {
            let coverage = Coverage {
                layout: "unknown (saved results without a summary)".into(),
                ..Coverage::default()
            };
            let mut verdict = Verdict::new(&findings, &coverage);
            verdict.not_assessed.push(format!(
                "everything after the last record of {name} (it ends before its summary record: the scan's coverage is unknown)"
            ));
            let started = findings
                .iter()
                .filter_map(Finding::time)
                .min()
                .unwrap_or(SystemTime::UNIX_EPOCH);
            Report {
                scan_id,
                host,
                started,
                finished: started,
                verdict,
                findings,
                incidents,
                coverage,
                trail: Vec::new(),
                checklist,
            }
        }
    };
    report.coverage.warnings.extend(stats.all_warnings());
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str, max: usize) -> (Vec<Record>, FileStats) {
        let mut found = Vec::new();
        let stats = records_from(&mut text.as_bytes(), "saved.jsonl", max, |r| found.push(r));
        (found, stats)
    }

    const CHECKLIST: &str = r#"{"record":"checklist","schema_version":3,"scan_id":"s1","host":"H","id":"EXS-TODO-001","title":"t","why":"w","how":"h","finding_ids":[]}"#;

    #[test]
    fn lines_too_long_other_schemas_and_garbage_are_warnings_and_reading_goes_on() {
        let long = format!("{{\"pad\":\"{}\"}}", "x".repeat(300));
        let old = r#"{"record":"finding","schema_version":1,"scan_id":"s0","host":"H"}"#;
        let text = format!(
            "{long}\n\n{old}\n{{\"record\":\"mystery\"}}\n\u{1b}]0;x\n{CHECKLIST}\r\n{CHECKLIST}"
        );
        let (found, stats) = records(&text, 200);
        assert_eq!(
            found.len(),
            2,
            "both checklist records, the last without a line break"
        );
        assert!(matches!(&found[0], Record::Checklist(c) if c.item.id == "EXS-TODO-001"));
        assert_eq!((stats.lines, stats.records), (7, 2));
        let warnings = stats.warnings.join("\n");
        for expected in [
            "saved.jsonl line 1: longer than 200 bytes",
            "line 3: schema version 1, this exsweep reads 3",
            "line 4: not an exsweep record",
            "line 5: not an exsweep record",
        ] {
            assert!(warnings.contains(expected), "{expected} in {warnings}");
        }
    }

    #[test]
    fn a_file_of_two_scans_is_not_one_report() {
        let other = CHECKLIST.replace("\"s1\"", "\"s2\"");
        let text = format!("{CHECKLIST}\n{other}\n");
        assert!(matches!(
            report_from(&mut text.as_bytes(), "two.jsonl"),
            Err(ReadError::SeveralScans)
        ));
        assert!(matches!(
            report_from(&mut "".as_bytes(), "empty.jsonl"),
            Err(ReadError::Unreadable(why)) if why.contains("no exsweep record")
        ));
    }
}
