//! What was seen: the one `Finding` type every check produces, the coverage of a
//! scan (what was and was not assessed) and the verdict derived from both.
//!
//! Everything here is plain data and serialisable; the JSONL schema in
//! `docs/jsonl-schema.md` is generated from these types and is the public contract.

use serde::Serialize;
use std::borrow::Cow;
use std::time::SystemTime;

/// How bad a finding is. Ordered, so `--fail-level` is a simple comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The default 0-100 score for a severity, used when a check has no finer score.
    pub fn default_score(self) -> u8 {
        match self {
            Severity::Info => 10,
            Severity::Low => 30,
            Severity::Medium => 50,
            Severity::High => 75,
            Severity::Critical => 100,
        }
    }

    /// Maps a Loki/THOR-style score (0-100+) to a severity, as those tools do:
    /// below 40 a notice, below 75 a warning, from 75 an alert.
    pub fn from_score(score: i64) -> Severity {
        match score {
            i64::MIN..=39 => Severity::Low,
            40..=74 => Severity::Medium,
            75..=99 => Severity::High,
            _ => Severity::Critical,
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad` honours width and alignment, so tables line up.
        f.pad(self.as_str())
    }
}

/// A reference that explains or sources a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Reference {
    Cve(Cow<'static, str>),
    Attack(Cow<'static, str>),
    Url(Cow<'static, str>),
    /// Author of a third-party rule or feed, shown with its matches (licence terms
    /// of rule packs such as signature-base ask for it).
    Author(Cow<'static, str>),
}

impl Reference {
    pub const fn cve(id: &'static str) -> Reference {
        Reference::Cve(Cow::Borrowed(id))
    }
    pub const fn attack(id: &'static str) -> Reference {
        Reference::Attack(Cow::Borrowed(id))
    }
    pub const fn url(url: &'static str) -> Reference {
        Reference::Url(Cow::Borrowed(url))
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Cve(id) => write!(f, "{id}"),
            Reference::Attack(id) => write!(f, "ATT&CK {id}"),
            Reference::Url(url) => write!(f, "{url}"),
            Reference::Author(who) => write!(f, "author: {who}"),
        }
    }
}

/// A string a rule matched, with where it sits in the file.
#[derive(Clone, Debug, Serialize)]
pub struct MatchedString {
    pub identifier: String,
    pub offset: u64,
    /// The matched bytes, printable ASCII kept and everything else escaped.
    pub data: String,
}

/// File timestamps as the evidence source knows them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileTimes {
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_time")]
    pub modified: Option<SystemTime>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_time")]
    pub accessed: Option<SystemTime>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_time")]
    pub created: Option<SystemTime>,
}

fn ser_time<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// UTC RFC 3339 with seconds, the form every output uses.
pub fn rfc3339(t: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = t.into();
    dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The evidence behind a finding about a file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileEvidence {
    /// The path as the Windows server knew it, e.g. `C:\inetpub\wwwroot\x.aspx`.
    pub windows_path: String,
    /// Where exsweep read it from (a local path, or `archive.zip!entry`).
    pub local_path: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub times: FileTimes,
}

/// The evidence behind a finding about a log line or event record.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LogEvidence {
    /// The log source: `HttpProxy`, `ECP Server`, `OAB Generator`, `IIS`, `EVTX` ...
    pub source: &'static str,
    pub windows_path: String,
    pub local_path: String,
    /// Line number in a text log, record number in an EVTX file.
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_time")]
    pub time: Option<SystemTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The line or record itself, escaped and cut.
    pub excerpt: String,
}

/// One thing a check saw. Every check, whatever it looks at, reports through this type.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub check_id: &'static str,
    pub title: String,
    pub severity: Severity,
    pub score: u8,
    pub category: &'static str,
    pub references: Vec<Reference>,
    /// What exactly was seen and why it matters, in a sentence or two.
    pub detail: String,
    pub file: Option<FileEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogEvidence>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<MatchedString>,
    /// Why this kind of finding matters.
    pub why: &'static str,
    /// What the responder should do about it.
    pub action: &'static str,
    /// For rule matches: the rule's namespace and identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Finding {
    /// The time that places the finding on a timeline: the log entry's time, or the
    /// file's modification time.
    pub fn time(&self) -> Option<SystemTime> {
        self.log
            .as_ref()
            .and_then(|l| l.time)
            .or_else(|| self.file.as_ref().and_then(|f| f.times.modified))
    }
}

/// A part of the server exsweep looks at, and whether the evidence held it.
#[derive(Clone, Debug, Serialize)]
pub struct AreaCoverage {
    pub area: String,
    pub windows_path: String,
    pub present: bool,
    /// What a missing area means for the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consequence: Option<String>,
}

/// What the scan read, what it could not, and why. The basis for "not assessed".
#[derive(Clone, Debug, Default, Serialize)]
pub struct Coverage {
    pub layout: String,
    /// What the log hunt read, per log source.
    pub logs: Vec<LogCoverage>,
    pub evidence_root: String,
    pub exchange_install: Option<String>,
    pub exchange_install_source: Option<String>,
    pub areas: Vec<AreaCoverage>,
    pub files_seen: u64,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub empty_files: u64,
    pub over_size_cap: u64,
    pub size_cap: u64,
    pub unreadable: u64,
    pub symlinks_not_followed: u64,
    pub special_files: u64,
    pub odd_names: u64,
    pub rule_timeouts: u64,
    pub rules_loaded: usize,
    pub indicators_loaded: usize,
    /// Human-readable notes on anything that went wrong; the scan went on.
    pub warnings: Vec<String>,
}

impl Coverage {
    /// Areas the scan expected but the evidence did not hold.
    pub fn gaps(&self) -> impl Iterator<Item = &AreaCoverage> {
        self.areas.iter().filter(|a| !a.present)
    }

    /// Log sources that were missing or start too late to cover the campaigns.
    pub fn log_gaps(&self) -> impl Iterator<Item = &LogCoverage> {
        self.logs.iter().filter(|l| l.consequence.is_some())
    }
}

/// What the log hunt read of one log source (HttpProxy, IIS, ...).
#[derive(Clone, Debug, Default, Serialize)]
pub struct LogCoverage {
    pub source: &'static str,
    pub windows_path: String,
    pub files: u64,
    pub bytes: u64,
    pub lines: u64,
    /// Lines (or records) exsweep tried to parse and could not.
    pub parse_failures: u64,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_time")]
    pub first: Option<SystemTime>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_time")]
    pub last: Option<SystemTime>,
    /// What a missing or short source means for the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consequence: Option<String>,
}

/// The one-line answer a sysadmin reads first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Compromised,
    Suspicious,
    NoIndicatorsFound,
}

impl Verdict {
    /// Critical evidence means compromise; anything from medium up needs a look.
    pub fn from_findings(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Critical) => Verdict::Compromised,
            Some(Severity::High) | Some(Severity::Medium) => Verdict::Suspicious,
            _ => Verdict::NoIndicatorsFound,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Compromised => "COMPROMISED",
            Verdict::Suspicious => "SUSPICIOUS",
            Verdict::NoIndicatorsFound => "NO INDICATORS FOUND",
        }
    }
}

/// Everything a scan produced: what the outputs render.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scan_id: String,
    pub host: String,
    #[serde(serialize_with = "ser_systime")]
    pub started: SystemTime,
    #[serde(serialize_with = "ser_systime")]
    pub finished: SystemTime,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
    /// With `--follow`: every logged request of that RequestId or IP, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trail: Vec<LogEvidence>,
}

fn ser_systime<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
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
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!(Severity::parse("MEDIUM"), Some(Severity::Medium));
        assert_eq!(Severity::parse("nope"), None);
        assert_eq!(Severity::from_score(80), Severity::High);
        assert_eq!(Severity::from_score(20), Severity::Low);
    }

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
