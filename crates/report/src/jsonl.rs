//! JSONL: one finding a line, then the incidents, the checklist, and one summary line
//! with the verdict and coverage.
//! The record layout is documented in `docs/jsonl-schema.md`; `schema_version`
//! changes when a field changes meaning or disappears. Strings keep the evidence's
//! text exactly; JSON escapes its control characters, and the characters that would
//! reorder a terminal's line (bidi overrides) are written as `\uXXXX` escapes too, so
//! the file is safe to `cat` and still decodes to the same text.

use exsweep_model::{
    is_disguising, rfc3339, ChecklistItem, Class, Coverage, Evidence, Finding, Incident, Report,
    Severity, TrailEntry, VerdictLevel,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA_VERSION: u32 = 3;

#[derive(Serialize)]
struct FindingRecord<'a> {
    record: &'static str,
    schema_version: u32,
    scan_id: &'a str,
    host: &'a str,
    /// When it happened: the file's modification time, else the scan's start.
    timestamp: String,
    timestamp_desc: &'static str,
    #[serde(flatten)]
    finding: &'a Finding,
}

#[derive(Serialize)]
struct IncidentRecord<'a> {
    record: &'static str,
    schema_version: u32,
    scan_id: &'a str,
    host: &'a str,
    #[serde(flatten)]
    incident: &'a Incident,
}

#[derive(Serialize)]
struct ChecklistRecord<'a> {
    record: &'static str,
    schema_version: u32,
    scan_id: &'a str,
    host: &'a str,
    #[serde(flatten)]
    item: &'a ChecklistItem,
}

#[derive(Serialize)]
struct SummaryRecord<'a> {
    record: &'static str,
    schema_version: u32,
    scan_id: &'a str,
    host: &'a str,
    started: String,
    finished: String,
    verdict: VerdictLevel,
    verdict_basis: VerdictBasis<'a>,
    findings_by_severity: BTreeMap<&'static str, usize>,
    coverage: &'a Coverage,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    trail: &'a [TrailEntry],
}

/// What the verdict rests on.
#[derive(Serialize)]
struct VerdictBasis<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    driven_by: Option<Class>,
    findings_by_class: &'a BTreeMap<&'static str, usize>,
    not_assessed: &'a [String],
    still_open: &'a [String],
    explanation: String,
}

/// The time that places a finding on a timeline, and what that time is (Timesketch's
/// `timestamp_desc`): the log entry's, the file's modification, the probe's, else the
/// scan's start.
pub fn finding_time(report: &Report, finding: &Finding) -> (String, &'static str) {
    let desc = match finding.evidence {
        Evidence::LogLine(_) | Evidence::EventRecord(_) => "Logged",
        Evidence::File(_) => "File modified",
        Evidence::Remote(_) => "Observed",
        Evidence::Config(_) => "Scan started",
    };
    match finding.time() {
        Some(t) => (rfc3339(t), desc),
        None => (rfc3339(report.started), "Scan started"),
    }
}

/// serde_json's compact output, with disguising characters written as `\uXXXX`.
struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_disguising(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                write!(writer, "\\u{:04x}", c as u32)?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// One record and its line break, with [`SafeFormatter`]'s escapes.
pub(crate) fn write_record(out: &mut dyn Write, record: &impl Serialize) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, SafeFormatter);
    record.serialize(&mut serializer)?;
    out.write_all(b"\n")
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for finding in &report.findings {
        let (timestamp, timestamp_desc) = finding_time(report, finding);
        let record = FindingRecord {
            record: "finding",
            schema_version: SCHEMA_VERSION,
            scan_id: &report.scan_id,
            host: &report.host,
            timestamp,
            timestamp_desc,
            finding,
        };
        write_record(out, &record)?;
    }
    for incident in &report.incidents {
        write_record(
            out,
            &IncidentRecord {
                record: "incident",
                schema_version: SCHEMA_VERSION,
                scan_id: &report.scan_id,
                host: &report.host,
                incident,
            },
        )?;
    }
    for item in &report.checklist {
        write_record(
            out,
            &ChecklistRecord {
                record: "checklist",
                schema_version: SCHEMA_VERSION,
                scan_id: &report.scan_id,
                host: &report.host,
                item,
            },
        )?;
    }
    let summary = SummaryRecord {
        record: "summary",
        schema_version: SCHEMA_VERSION,
        scan_id: &report.scan_id,
        host: &report.host,
        started: rfc3339(report.started),
        finished: rfc3339(report.finished),
        verdict: report.verdict.level,
        verdict_basis: VerdictBasis {
            driven_by: report.verdict.driven_by,
            findings_by_class: &report.verdict.findings_by_class,
            not_assessed: &report.verdict.not_assessed,
            still_open: &report.verdict.still_open,
            explanation: report.verdict.explanation(),
        },
        findings_by_severity: Severity::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str(),
                    report.findings.iter().filter(|f| f.severity == *s).count(),
                )
            })
            .collect(),
        coverage: &report.coverage,
        trail: &report.trail,
    };
    write_record(out, &summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsweep_model::{
        AreaCoverage, Check, Confidence, ConfigItem, Entities, EventEvidence, FileEvidence,
        FileTimes, IncidentStep, LocalPath, LogCoverage, LogLine, MatchedString, Phase, Reference,
        RemoteObservation, RuleInfo, Verdict,
    };
    use serde_json::Value;
    use std::borrow::Cow;
    use std::collections::BTreeSet;
    use std::time::{Duration, SystemTime};

    const SCHEMA_DOC: &str = include_str!("../../../docs/jsonl-schema.md");

    static CHECK: Check = Check {
        id: Cow::Borrowed("EXS-TEST-001"),
        title: Cow::Borrowed("a check"),
        severity: Severity::Critical,
        class: Class::Compromise,
        category: Cow::Borrowed("webshell"),
        references: Cow::Borrowed(&[Reference::cve("CVE-2021-26855")]),
        why: Cow::Borrowed("why"),
        action: Cow::Borrowed("act"),
    };

    /// The field paths the schema document's tables list, per record type.
    fn documented() -> BTreeSet<String> {
        let mut record = "";
        let mut paths = BTreeSet::new();
        for line in SCHEMA_DOC.lines() {
            if line.starts_with("## `finding`") {
                record = "finding";
            } else if line.starts_with("## `incident`") {
                record = "incident";
            } else if line.starts_with("## `checklist`") {
                record = "checklist";
            } else if line.starts_with("## `summary`") {
                record = "summary";
            } else if let Some(row) = line.strip_prefix("| `") {
                let field = row.split('`').next().unwrap();
                assert!(!record.is_empty(), "a field before any record: {field}");
                paths.insert(format!("{record}.{field}"));
            }
        }
        paths
    }

    fn walk(value: &Value, path: &str, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let here = format!("{path}.{key}");
                    out.insert(here.clone());
                    walk(child, &here, out);
                }
            }
            Value::Array(items) => {
                for item in items.iter().filter(|i| i.is_object()) {
                    walk(item, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }

    /// A report in which every field that can be written is.
    fn full_report() -> Report {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_614_729_600);
        let local = LocalPath::zip_member(b"/cases/c.zip", b"uploads/auto/C%3A/x.aspx");
        let entities = Entities {
            client_ip: Some("192.0.2.1".into()),
            user: Some("CORP\\a".into()),
            user_agent: Some("python-requests".into()),
            url: Some("/ecp/y.js?x=1".into()),
            request_id: Some("r1".into()),
            process: Some("cmd.exe /c whoami".into()),
            windows_path: Some(r"C:\x.aspx".into()),
        };
        let line = LogLine {
            source: "IIS".into(),
            windows_path: r"C:\inetpub\logs\LogFiles\W3SVC1\u_ex210303.log".into(),
            local: local.clone(),
            line: 7,
            time: Some(t),
            method: Some("POST".into()),
            status: Some("200".into()),
            excerpt: "a line".into(),
        };
        let mut rule_hit = CHECK.hit("a rule".into());
        rule_hit.rule = Some(RuleInfo {
            id: "exsweep:r".into(),
            name: "r".into(),
            meta_id: Some("EXR-TEST-1".into()),
            description: Some("d".into()),
            author: Some("exsweep".into()),
        });
        rule_hit.known_good_sha256 = vec!["ab".repeat(32)];
        rule_hit.matches = vec![MatchedString {
            identifier: "$a".into(),
            offset: 3,
            data: "eval(".into(),
        }];
        let other_rule = rule_hit.rule.clone();
        let mut findings = vec![
            Finding::new(
                rule_hit,
                Evidence::File(FileEvidence {
                    windows_path: r"C:\x.aspx".into(),
                    local: local.clone(),
                    size: 10,
                    md5: Some("m".into()),
                    sha1: Some("s".into()),
                    sha256: Some("s2".into()),
                    times: FileTimes {
                        modified: Some(t),
                        accessed: Some(t),
                        created: Some(t),
                    },
                }),
                entities.clone(),
            ),
            Finding::new(
                CHECK.hit("l".into()),
                Evidence::LogLine(line.clone()),
                entities.clone(),
            ),
            Finding::new(
                CHECK.hit("e".into()),
                Evidence::EventRecord(EventEvidence {
                    source: "EVTX Security".into(),
                    windows_path: r"C:\Windows\System32\winevt\Logs\Security.evtx".into(),
                    local: local.clone(),
                    record_id: 9,
                    time: Some(t),
                    provider: "Microsoft-Windows-Security-Auditing".into(),
                    event_id: 4688,
                    excerpt: "4688".into(),
                }),
                entities.clone(),
            ),
            Finding::new(
                CHECK.hit("c".into()),
                Evidence::Config(ConfigItem {
                    windows_path: r"C:\Windows\System32\inetsrv\config\applicationHost.config"
                        .into(),
                    local: local.clone(),
                    item: "system.webServer/globalModules/add[@name='x']".into(),
                    value: "x.dll".into(),
                }),
                entities.clone(),
            ),
            Finding::new(
                CHECK.hit("r".into()),
                Evidence::Remote(RemoteObservation {
                    target: "https://exch01/owa/".into(),
                    observed: "X-OWA-Version: 15.2.858.5".into(),
                    time: Some(t),
                }),
                entities.clone(),
            ),
        ];
        findings[0].other_rules.extend(other_rule);
        let area = AreaCoverage {
            area: "ProgramData".into(),
            windows_path: r"C:\ProgramData".into(),
            present: false,
            consequence: Some("not assessed".into()),
        };
        let coverage = Coverage {
            layout: "image".into(),
            recognised: vec![exsweep_model::RecognisedGroup {
                taken_for: "IIS".into(),
                by: "its W3C #Fields: line".into(),
                count: 1,
                files: vec!["u_ex210303.log".into()],
            }],
            logs: vec![LogCoverage {
                source: "IIS".into(),
                windows_path: r"C:\inetpub\logs\LogFiles".into(),
                status: exsweep_model::LogStatus::Short,
                files: 1,
                bytes: 2,
                lines: 3,
                parsed: 1,
                parse_failures: 0,
                first: Some(t),
                last: Some(t),
                consequence: Some("starts late".into()),
            }],
            drives: vec!["C:".into()],
            exchange_install: Some("C:\\Exchange".into()),
            exchange_install_source: Some("registry (MsiInstallPath)".into()),
            areas: vec![area.clone()],
            configs: vec![area],
            warnings: vec!["a warning".into()],
            sigma: Some(exsweep_model::SigmaCoverage {
                files: 2,
                rules_loaded: 1,
                correlations_loaded: 1,
                filters_applied: 0,
                skipped: vec![exsweep_model::SigmaSkipped {
                    file: "rules/linux/x.yml".into(),
                    rule: Some("A Linux rule".into()),
                    kind: "no source".into(),
                    reason: "no log exsweep reads is product: linux".into(),
                }],
            }),
            ..Coverage::default()
        };
        Report {
            scan_id: "s".into(),
            host: "EXCH01".into(),
            started: t,
            finished: t,
            verdict: Verdict::new(&findings, &coverage),
            incidents: vec![Incident {
                id: "INC-1".into(),
                story: "From ...".into(),
                first: t,
                last: t,
                attacker_ips: vec!["192.0.2.1".into()],
                user_agents: vec!["python-requests".into()],
                users: vec!["CORP\\a".into()],
                files: vec!["C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx".into()],
                cves: vec!["CVE-2021-26855".into()],
                techniques: vec!["T1505.003".into()],
                confidence: Confidence::High,
                confidence_reason: "tied by client IP".into(),
                steps: vec![IncidentStep {
                    time: Some(t),
                    phase: Phase::Exploitation,
                    finding_id: "abc".into(),
                    check_id: "EXS-LOG-001".into(),
                    summary: "a check: x".into(),
                    joined_by: "client IP 192.0.2.1".into(),
                }],
            }],
            findings,
            coverage,
            trail: vec![TrailEntry { line, entities }],
            checklist: vec![ChecklistItem {
                id: "EXS-TODO-005".into(),
                title: "Reset credentials".into(),
                why: "LSASS was dumped".into(),
                how: "reset them".into(),
                finding_ids: vec!["abc".into()],
            }],
        }
    }

    #[test]
    fn bidi_overrides_are_escaped_and_decode_back() {
        let mut out = Vec::new();
        write_record(&mut out, &Value::String("a\u{202e}b\u{1b}c".into())).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "\"a\\u202eb\\u001bc\"\n");
        let back: String = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(back, "a\u{202e}b\u{1b}c");
    }

    #[test]
    fn every_field_reads_back_and_writes_again_the_same() {
        let mut first = Vec::new();
        write(&full_report(), &mut first).unwrap();
        let report = crate::saved::report_from(&mut first.as_slice(), "full.jsonl")
            .unwrap_or_else(|e| panic!("{e:?}"));
        let mut second = Vec::new();
        write(&report, &mut second).unwrap();
        assert_eq!(
            String::from_utf8(second).unwrap(),
            String::from_utf8(first).unwrap()
        );
    }

    #[test]
    fn written_fields_are_the_documented_ones() {
        let mut out = Vec::new();
        write(&full_report(), &mut out).unwrap();
        let mut written = BTreeSet::new();
        for line in String::from_utf8(out).unwrap().lines() {
            let record: Value = serde_json::from_str(line).unwrap();
            let kind = record["record"].as_str().unwrap().to_string();
            walk(&record, &kind, &mut written);
        }
        let documented = documented();
        let undocumented: Vec<&String> = written.difference(&documented).collect();
        let unwritten: Vec<&String> = documented.difference(&written).collect();
        assert!(
            undocumented.is_empty() && unwritten.is_empty(),
            "written but not in docs/jsonl-schema.md: {undocumented:#?}\n\
             documented but never written: {unwritten:#?}"
        );
    }
}
