//! The [`Finding`]: one thing a check saw, where, about whom, and how much it weighs.
//!
//! A finding is a [`Hit`] (what the check says) joined with its [`Evidence`] (where it
//! was seen) and the [`Entities`] it names. Its [`id`](Finding::id) is a hash of the
//! check, the rule and the evidence's location, so a plan, a report and a later scan of
//! the same evidence name the same finding the same way.

use crate::check::{Class, Hit, Reference, Severity, Text};
use crate::text::{de_opt_time, ser_opt_time};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::borrow::Cow;
use std::time::SystemTime;

/// Where exsweep read something, losslessly: the local path, and for a member of a
/// zip the member's name inside it. Both are UTF-8 text in which a `%` and every byte
/// that is not valid UTF-8 are written `%XX`, so names that are not UTF-8 survive
/// the JSONL output and can be turned back into the bytes ([`LocalPath::path_bytes`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalPath {
    #[serde(rename = "local_path")]
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    zip_member: Option<String>,
}

fn escape_lossless(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '%' {
                out.push_str("%25");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unescape_lossless(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

impl LocalPath {
    /// A file on this machine, from its path's bytes (`OsStr::as_encoded_bytes`).
    pub fn file(path_bytes: &[u8]) -> LocalPath {
        LocalPath {
            path: escape_lossless(path_bytes),
            zip_member: None,
        }
    }

    /// A member of the zip at `zip_bytes`, named `member_bytes` inside it.
    pub fn zip_member(zip_bytes: &[u8], member_bytes: &[u8]) -> LocalPath {
        LocalPath {
            path: escape_lossless(zip_bytes),
            zip_member: Some(escape_lossless(member_bytes)),
        }
    }

    /// A file named by its escaped text (as [`LocalPath::escaped`] or the JSONL's
    /// `local_path` give it).
    pub fn from_escaped(text: &str) -> LocalPath {
        LocalPath {
            path: text.to_string(),
            zip_member: None,
        }
    }

    /// The local path as escaped text: UTF-8, with `%` and bytes that are not UTF-8
    /// written `%XX`.
    pub fn escaped(&self) -> &str {
        &self.path
    }

    /// The local path's bytes, exactly as this machine names the file (or the zip).
    pub fn path_bytes(&self) -> Vec<u8> {
        unescape_lossless(&self.path)
    }

    /// The zip member's name as stored in the zip, for a member.
    pub fn member_bytes(&self) -> Option<Vec<u8>> {
        self.zip_member.as_deref().map(unescape_lossless)
    }

    /// For people: `path` or `archive.zip!member`, with control characters and bytes
    /// that are not UTF-8 escaped.
    pub fn display(&self) -> String {
        let path = crate::printable(&self.path_bytes());
        match self.member_bytes() {
            Some(member) => format!("{path}!{}", crate::printable(&member)),
            None => path,
        }
    }
}

/// File timestamps as the evidence source knows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTimes {
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub modified: Option<SystemTime>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub accessed: Option<SystemTime>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub created: Option<SystemTime>,
}

/// A file on the evidence.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileEvidence {
    /// The path as the Windows server knew it, e.g. `C:\inetpub\wwwroot\x.aspx`.
    pub windows_path: String,
    #[serde(flatten)]
    pub local: LocalPath,
    pub size: u64,
    /// The digests; absent when the file was over the size cap and not read whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub times: FileTimes,
}

/// A line of a text log (HttpProxy, ECP, OAB generator, Rps_Http, IIS).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LogLine {
    /// The log source: `HttpProxy`, `ECP Server`, `OAB Generator`, `IIS` ...
    pub source: Text,
    /// The log file as the server knew it.
    pub windows_path: String,
    #[serde(flatten)]
    pub local: LocalPath,
    /// The line's number in the file, from 1.
    pub line: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub time: Option<SystemTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The line itself, escaped and cut.
    pub excerpt: String,
}

/// A logged request as the `--follow` trail lists it: the line and what it names.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrailEntry {
    #[serde(flatten)]
    pub line: LogLine,
    pub entities: Entities,
}

/// A record of a Windows event log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EventEvidence {
    /// The log: `EVTX Security`, `EVTX Sysmon` ...
    pub source: Text,
    /// The `.evtx` file as the server knew it.
    pub windows_path: String,
    #[serde(flatten)]
    pub local: LocalPath,
    pub record_id: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub time: Option<SystemTime>,
    pub provider: String,
    pub event_id: u64,
    /// The record's values, escaped and cut.
    pub excerpt: String,
}

/// An item of the server's configuration (IIS, Exchange, the registry).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ConfigItem {
    /// The file or hive it was read from, as the server knew it.
    pub windows_path: String,
    #[serde(flatten)]
    pub local: LocalPath,
    /// Which item: an XPath-like path in a configuration file, a registry value's key.
    pub item: String,
    /// Its value, escaped and cut.
    pub value: String,
}

/// What a remote probe observed of the server.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RemoteObservation {
    /// What was asked: a URL.
    pub target: String,
    /// What answered, in short (a status and a header, a version).
    pub observed: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub time: Option<SystemTime>,
}

/// Where a finding was seen.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    File(FileEvidence),
    LogLine(LogLine),
    EventRecord(EventEvidence),
    Config(ConfigItem),
    Remote(RemoteObservation),
}

impl Evidence {
    /// The time that places it on a timeline: a log entry's or record's time, a file's
    /// modification time, a probe's time.
    pub fn time(&self) -> Option<SystemTime> {
        match self {
            Evidence::File(f) => f.times.modified,
            Evidence::LogLine(l) => l.time,
            Evidence::EventRecord(e) => e.time,
            Evidence::Config(_) => None,
            Evidence::Remote(r) => r.time,
        }
    }

    /// Where it is, as one key: the Windows path (lower case) and, in a log, the line
    /// or record. Findings with the same location are about the same thing.
    pub fn location(&self) -> String {
        match self {
            Evidence::File(f) => f.windows_path.to_lowercase(),
            Evidence::LogLine(l) => format!("{}#{}", l.windows_path.to_lowercase(), l.line),
            Evidence::EventRecord(e) => {
                format!("{}#{}", e.windows_path.to_lowercase(), e.record_id)
            }
            Evidence::Config(c) => format!("{}#{}", c.windows_path.to_lowercase(), c.item),
            Evidence::Remote(r) => r.target.clone(),
        }
    }
}

/// The people, machines and things a finding names, as fields rather than prose, so
/// that findings can be joined on them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The requested URL: path and query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// A process image or command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// The file on the server the finding is about (a shell, a dump).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_path: Option<String>,
}

/// A string a rule matched, with where it sits in the file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MatchedString {
    pub identifier: String,
    pub offset: u64,
    /// The matched bytes, printable ASCII kept and everything else escaped.
    pub data: String,
}

/// The rule behind a rule match: its own name and words, whoever wrote it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleInfo {
    /// `namespace:identifier` (`exsweep:` for built-in rules, `user:<file>` for packs).
    pub id: String,
    pub name: String,
    /// The rule's own `id` meta: `EXR-<family>-<n>` for exsweep's rules (as `exsweep
    /// checks` lists them), a UUID for signature-base's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// One part of a finding's score and what earned it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreReason {
    /// What the reason adds; context can take points away (a vendor folder).
    pub points: i16,
    pub because: Text,
}

/// One thing a check saw. Every check, whatever it looks at, reports through this type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// Stable: the same check, rule and location give the same ID in every scan.
    pub id: String,
    pub check_id: Text,
    pub title: Text,
    pub severity: Severity,
    pub class: Class,
    pub category: Text,
    /// 0-100, the sum of the reasons' points, clamped.
    pub score: u8,
    pub score_reasons: Vec<ScoreReason>,
    /// Borrowed from the check where it can be: the findings of one rule share them.
    pub references: Cow<'static, [Reference]>,
    /// What exactly was seen, in a sentence or two.
    pub detail: String,
    /// Why this kind of finding matters.
    pub why: Text,
    /// What the responder should do about it.
    pub action: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleInfo>,
    /// The other rules that matched the same file, weaker than `rule`: a file is one
    /// finding, however many rules describe it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_rules: Vec<RuleInfo>,
    pub evidence: Evidence,
    pub entities: Entities,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<MatchedString>,
    /// For a modified Exchange file (EXS-FILE-012): the SHA-256 values the baseline
    /// ships for its path, so quarantine can put a known-good copy back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_good_sha256: Vec<String>,
}

/// The sum of the reasons' points, clamped to 0-100.
fn total(reasons: &[ScoreReason]) -> u8 {
    reasons
        .iter()
        .map(|r| i32::from(r.points))
        .sum::<i32>()
        .clamp(0, 100) as u8
}

fn stable_id(parts: &[&str]) -> String {
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Finding {
    /// A hit seen at `evidence`, naming `entities`.
    pub fn new(hit: Hit, evidence: Evidence, mut entities: Entities) -> Finding {
        if entities.windows_path.is_none() {
            entities.windows_path = hit.names_file.clone();
        }
        let score_reasons = vec![match hit.score {
            Some((points, because)) => ScoreReason {
                points: points.into(),
                because,
            },
            None => ScoreReason {
                points: hit.severity.default_score().into(),
                because: format!("{} severity", hit.severity).into(),
            },
        }];
        let score = total(&score_reasons);
        let rule_id = hit.rule.as_ref().map_or("", |r| r.id.as_str());
        let id = stable_id(&[&hit.check.id, rule_id, &evidence.location()]);
        Finding {
            id,
            check_id: hit.check.id,
            title: hit.check.title,
            severity: hit.severity,
            class: hit.class,
            category: hit.check.category,
            score,
            score_reasons,
            references: hit.check.references,
            detail: hit.detail,
            why: hit.check.why,
            action: hit.check.action,
            rule: hit.rule,
            other_rules: Vec::new(),
            evidence,
            entities,
            matches: hit.matches,
            known_good_sha256: hit.known_good_sha256,
        }
    }

    /// Adds a reason that raises or lowers the score (`points` may be negative); the
    /// severity then follows the score ([`Severity::from_score`]).
    pub fn rescore(&mut self, points: i16, because: impl Into<Text>) {
        self.score_reasons.push(ScoreReason {
            points,
            because: because.into(),
        });
        self.score = total(&self.score_reasons);
        self.severity = Severity::from_score(self.score.into());
    }

    /// The time that places the finding on a timeline.
    pub fn time(&self) -> Option<SystemTime> {
        self.evidence.time()
    }

    /// The file, for findings about one.
    pub fn file(&self) -> Option<&FileEvidence> {
        match &self.evidence {
            Evidence::File(f) => Some(f),
            _ => None,
        }
    }
}

/// Moves `more` to the end of `findings`, growing whichever list is longer: a scan's
/// findings run to tens of thousands, and copying the longer list into a grown copy
/// of the shorter one would hold both at once. (The order is fixed later, by sorting.)
pub fn append(findings: &mut Vec<Finding>, mut more: Vec<Finding>) {
    if more.len() > findings.len() {
        std::mem::swap(findings, &mut more);
    }
    // Exactly: the longer list is usually sized to fit, and growing it by doubling
    // would hold room for as many findings again (some 800 bytes each) until the end.
    findings.reserve_exact(more.len());
    findings.append(&mut more);
}

/// Makes every ID in `findings` unique. Two findings of one check at one location
/// (a file whose name and path both match indicators) share a hash; they are told
/// apart by their detail, in a fixed order, so the suffixes are the same every scan.
pub fn make_ids_unique(findings: &mut [Finding]) {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        (&findings[a].id, &findings[a].detail).cmp(&(&findings[b].id, &findings[b].detail))
    });
    let mut run = 1;
    for pair in 1..order.len() {
        let (prev, this) = (order[pair - 1], order[pair]);
        if findings[this].id.starts_with(&findings[prev].id[..16]) {
            run += 1;
            findings[this].id = format!("{}-{run}", &findings[this].id[..16]);
        } else {
            run = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Check;
    use std::borrow::Cow;

    static CHECK: Check = Check {
        id: Cow::Borrowed("EXS-TEST-001"),
        title: Cow::Borrowed("test"),
        severity: Severity::High,
        class: Class::Compromise,
        category: Cow::Borrowed("webshell"),
        references: Cow::Borrowed(&[]),
        why: Cow::Borrowed("why"),
        action: Cow::Borrowed("act"),
    };

    fn file(path: &str) -> Evidence {
        Evidence::File(FileEvidence {
            windows_path: path.into(),
            ..FileEvidence::default()
        })
    }

    #[test]
    fn local_paths_survive_bytes_that_are_not_utf8() {
        let raw = b"/ev/C/inetpub/sh\xffell 100%.aspx";
        let local = LocalPath::file(raw);
        assert_eq!(local.path, "/ev/C/inetpub/sh%FFell 100%25.aspx");
        assert_eq!(local.path_bytes(), raw);
        assert_eq!(local.display(), "/ev/C/inetpub/sh\\xffell 100%.aspx");
        let member = LocalPath::zip_member(b"/c.zip", b"uploads/auto/C%3A/x\x01.aspx");
        assert_eq!(
            member.member_bytes().unwrap(),
            b"uploads/auto/C%3A/x\x01.aspx"
        );
        assert_eq!(member.display(), "/c.zip!uploads/auto/C%3A/x\\u{1}.aspx");
    }

    #[test]
    fn ids_are_stable_and_unique() {
        let a = Finding::new(
            CHECK.hit("a".into()),
            file(r"C:\X.aspx"),
            Entities::default(),
        );
        let again = Finding::new(
            CHECK.hit("a".into()),
            file(r"c:\x.aspx"),
            Entities::default(),
        );
        assert_eq!(
            a.id, again.id,
            "the location is compared case-insensitively"
        );
        assert_eq!(a.id.len(), 16);
        let other = Finding::new(
            CHECK.hit("a".into()),
            file(r"C:\y.aspx"),
            Entities::default(),
        );
        assert_ne!(a.id, other.id);
        let mut twins = vec![
            Finding::new(
                CHECK.hit("second".into()),
                file(r"C:\x.aspx"),
                Entities::default(),
            ),
            Finding::new(
                CHECK.hit("first".into()),
                file(r"C:\x.aspx"),
                Entities::default(),
            ),
        ];
        make_ids_unique(&mut twins);
        assert_eq!(twins[1].id, a.id);
        assert_eq!(twins[0].id, format!("{}-2", a.id));
    }

    #[test]
    fn score_comes_from_the_severity_or_the_hit() {
        let f = Finding::new(CHECK.hit("a".into()), file(r"C:\x"), Entities::default());
        assert_eq!(f.score, 75);
        assert_eq!(f.score_reasons[0].because, "high severity");
        let mut hit = CHECK.hit("a".into());
        hit.score = Some((80, "the rule's score meta".into()));
        let mut f = Finding::new(hit, file(r"C:\x"), Entities::default());
        assert_eq!(f.score, 80);
        f.rescore(15, "in owa\\auth");
        assert_eq!((f.score, f.severity), (95, Severity::High));
        f.rescore(20, "requested in the logs");
        assert_eq!((f.score, f.severity), (100, Severity::Critical));
        f.rescore(-120, "vendor folder");
        assert_eq!((f.score, f.severity), (0, Severity::Low));
    }
}
