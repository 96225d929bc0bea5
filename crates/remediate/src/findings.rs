//! The findings remediation works from: the parts of a scan's finding records that
//! say which file, why and how bad, read from the JSONL a scan wrote or taken from a
//! scan run in the same command (through the same serialisation, so both paths see
//! the same fields).

use exsweep_model::{Finding, Severity};
use serde::Deserialize;
use std::io::BufRead;
use std::path::Path;

/// A reference as the JSONL writes it (`{"kind":"cve","id":"CVE-2021-26855"}`).
#[derive(Clone, Debug, Deserialize)]
pub struct ReferenceRef {
    pub kind: String,
    pub id: String,
}

/// The file a finding is about.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FileRef {
    pub windows_path: String,
    pub size: u64,
    pub sha256: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct EvidenceRef {
    pub kind: String,
    /// Read for every kind; meaningful for `file`.
    #[serde(flatten)]
    pub file: FileRef,
}

/// What remediation reads of one finding.
#[derive(Clone, Debug, Deserialize)]
pub struct FindingRef {
    pub id: String,
    pub check_id: String,
    pub title: String,
    #[serde(deserialize_with = "severity")]
    pub severity: Severity,
    pub class: String,
    pub detail: String,
    #[serde(default)]
    pub references: Vec<ReferenceRef>,
    pub evidence: EvidenceRef,
    /// For a modified Exchange file: the SHA-256 values the baseline ships for it.
    #[serde(default)]
    pub known_good_sha256: Vec<String>,
}

fn severity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let text = String::deserialize(d)?;
    Severity::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("severity {text}")))
}

impl FindingRef {
    /// The file this finding is about, when it is about a file.
    pub fn file(&self) -> Option<&FileRef> {
        match self.evidence.kind.as_str() {
            "file" => Some(&self.evidence.file),
            _ => None,
        }
    }

    /// The CVEs the finding cites.
    pub fn cves(&self) -> impl Iterator<Item = &str> {
        self.references
            .iter()
            .filter(|r| r.kind == "cve")
            .map(|r| r.id.as_str())
    }

    /// A finding of a scan run in this process.
    pub fn from_finding(finding: &Finding) -> FindingRef {
        let value = serde_json::to_value(finding).expect("a finding serialises");
        serde_json::from_value(value).expect("a finding reads back as a FindingRef")
    }
}

/// What a scan's JSONL says about the scan itself.
#[derive(Clone, Debug, Default)]
pub struct ScanRef {
    pub host: String,
    /// The evidence root as the scan was given it.
    pub evidence_root: String,
    /// The layout as the scan described it (`mounted image`, `KAPE collection` ...).
    pub layout: String,
}

/// Reads the findings and the summary of a scan's JSONL. Lines that are not finding
/// or summary records are passed over; a line that is not JSON is an error naming it.
pub fn read_jsonl(path: &Path) -> Result<(Vec<FindingRef>, ScanRef), String> {
    let shown = path.display();
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read findings {shown}: {e}"))?;
    let mut findings = Vec::new();
    let mut scan = None;
    for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read findings {shown}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |e: serde_json::Error| format!("{shown} line {}: {e}", number + 1);
        let value: serde_json::Value = serde_json::from_str(&line).map_err(bad)?;
        match value["record"].as_str() {
            Some("finding") => findings.push(serde_json::from_value(value).map_err(bad)?),
            Some("summary") => {
                let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
                scan = Some(ScanRef {
                    host: text(&value["host"]),
                    evidence_root: text(&value["coverage"]["evidence_root"]),
                    layout: text(&value["coverage"]["layout"]),
                });
            }
            _ => {}
        }
    }
    let scan = scan.ok_or_else(|| {
        format!("{shown} has no summary record: it is not a whole exsweep scan (--format jsonl), or it was cut short")
    })?;
    Ok((findings, scan))
}
