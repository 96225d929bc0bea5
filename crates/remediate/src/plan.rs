//! The plan: which files leave the server and why, decided from a scan's findings
//! before anything is touched. A plan is shown first, can be written to a file
//! (`scan --plan`), carried from the lab to the server and applied there; it names
//! files by their Windows paths and SHA-256, so on the server only the files that are
//! still exactly what the scan saw are moved.

use crate::checklist::{self, ChecklistItem};
use crate::durable;
use crate::findings::{FindingRef, ScanRef};
use crate::vault::Reason;
use exsweep_evidence::{winpath, Evidence};
use exsweep_model::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const PLAN_FORMAT: &str = "exsweep-plan/1";

/// One file to move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    pub windows_path: String,
    pub size: u64,
    pub sha256: String,
    pub reasons: Vec<Reason>,
    /// For a compiled copy of a page in `Temporary ASP.NET Files`: the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub companion_of: Option<String>,
    /// For a modified Exchange file: the SHA-256 values the baseline ships, one of
    /// which a `--known-good` copy must have to take its place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_good_sha256: Vec<String>,
}

/// A selected finding whose file does not move, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftAlone {
    pub windows_path: String,
    pub why: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    pub created: String,
    pub host: String,
    /// The evidence the scan read, and its layout.
    pub evidence_root: String,
    pub layout: String,
    pub entries: Vec<PlanEntry>,
    #[serde(default)]
    pub left_alone: Vec<LeftAlone>,
    /// What cannot be fixed by moving files.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
}

/// Which findings' files to move.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// The lowest severity taken; without it, `high` unless findings or paths are
    /// named, which are then taken whatever their severity.
    pub min_severity: Option<Severity>,
    pub check_ids: Vec<String>,
    pub finding_ids: Vec<String>,
    /// Windows paths of files, or of folders whose files are taken.
    pub paths: Vec<String>,
}

impl Selection {
    fn takes(&self, finding: &FindingRef, windows_path: &str) -> bool {
        let named = !self.finding_ids.is_empty() || !self.paths.is_empty();
        let floor = self.min_severity.unwrap_or(if named {
            Severity::Info
        } else {
            Severity::High
        });
        let key = winpath::key(windows_path);
        finding.severity >= floor
            && (self.check_ids.is_empty()
                || self
                    .check_ids
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&finding.check_id)))
            && (self.finding_ids.is_empty() || self.finding_ids.contains(&finding.id))
            && (self.paths.is_empty()
                || self.paths.iter().any(|p| {
                    let want = winpath::key(p);
                    key == want || winpath::is_within(&key, &want)
                }))
    }
}

/// Files that are the record of an attack, not part of it: they stay for the case.
fn is_log(windows_path: &str) -> bool {
    let key = winpath::key(windows_path);
    let ext = winpath::extension(&key);
    matches!(ext.as_str(), "log" | "evtx" | "etl")
        || key.contains("\\logging\\")
        || key.contains("\\logfiles\\")
}

fn reason(finding: &FindingRef) -> Reason {
    Reason {
        finding_id: finding.id.clone(),
        check_id: finding.check_id.clone(),
        severity: finding.severity.as_str().to_string(),
        title: finding.title.clone(),
    }
}

/// The SHA-256 of a file the scan did not hash (over its size cap), read again from
/// the evidence.
fn hash_from_evidence(evidence: &Evidence, windows_path: &str) -> Option<String> {
    let (parent, _) = windows_path.rsplit_once('\\')?;
    let name = winpath::key(winpath::file_name(windows_path));
    evidence.local_dirs(parent).into_iter().find_map(|dir| {
        std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
            (winpath::key(&e.file_name().to_string_lossy()) == name)
                .then(|| durable::digest_file(&e.path()).ok().map(|d| d.sha256))
                .flatten()
        })
    })
}

/// Builds the plan for `findings` of a scan of `evidence`.
pub fn build(
    findings: &[FindingRef],
    selection: &Selection,
    evidence: &Evidence,
    scan: &ScanRef,
) -> Plan {
    let mut entries: BTreeMap<String, PlanEntry> = BTreeMap::new();
    let mut left_alone = BTreeMap::new();
    for finding in findings {
        let Some(file) = finding.file() else {
            continue;
        };
        if !selection.takes(finding, &file.windows_path) {
            continue;
        }
        let key = winpath::key(&file.windows_path);
        let leave = |why: &str| LeftAlone {
            windows_path: file.windows_path.clone(),
            why: why.to_string(),
        };
        if is_log(&file.windows_path) {
            left_alone.insert(
                key,
                leave("a log records the attack: it is evidence and stays"),
            );
            continue;
        }
        let sha256 = match &file.sha256 {
            Some(sha) => sha.clone(),
            None => match hash_from_evidence(evidence, &file.windows_path) {
                Some(sha) => sha,
                None => {
                    left_alone.insert(key, leave("its content could not be read to hash it"));
                    continue;
                }
            },
        };
        let entry = entries.entry(key).or_insert_with(|| PlanEntry {
            windows_path: file.windows_path.clone(),
            size: file.size,
            sha256,
            reasons: Vec::new(),
            companion_of: None,
            known_good_sha256: Vec::new(),
        });
        entry.reasons.push(reason(finding));
        for sha in &finding.known_good_sha256 {
            if !entry.known_good_sha256.contains(sha) {
                entry.known_good_sha256.push(sha.clone());
            }
        }
    }
    let pages: Vec<PlanEntry> = entries.values().cloned().collect();
    for companion in crate::compiled::companions(evidence, &pages) {
        let key = winpath::key(&companion.windows_path);
        entries.entry(key).or_insert(companion);
    }
    Plan {
        format: PLAN_FORMAT.into(),
        created: crate::now_rfc3339(),
        host: scan.host.clone(),
        evidence_root: scan.evidence_root.clone(),
        layout: scan.layout.clone(),
        entries: entries.into_values().collect(),
        left_alone: left_alone.into_values().collect(),
        checklist: checklist::build(findings),
    }
}

impl Plan {
    /// Reads a plan file, refusing one of another format or cut short.
    pub fn read(path: &std::path::Path) -> Result<Plan, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the plan {}: {e}", path.display()))?;
        let plan: Plan = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "the plan {} is not a whole exsweep plan ({e}); nothing was changed",
                path.display()
            )
        })?;
        if plan.format != PLAN_FORMAT {
            return Err(format!(
                "the plan {} is of format {:?}, not {PLAN_FORMAT}",
                path.display(),
                plan.format
            ));
        }
        Ok(plan)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(check: &str, severity: Severity, path: &str) -> FindingRef {
        serde_json::from_value(serde_json::json!({
            "id": format!("id-{check}"),
            "check_id": check,
            "title": "t",
            "severity": severity.as_str(),
            "class": "compromise",
            "detail": "d",
            "evidence": {"kind": "file", "windows_path": path, "size": 3, "sha256": "ab"},
        }))
        .unwrap()
    }

    #[test]
    fn high_and_above_by_default_named_findings_whatever_their_severity() {
        let high = finding("EXS-FILE-009", Severity::High, r"C:\inetpub\wwwroot\a.aspx");
        let medium = finding(
            "EXS-FILE-010",
            Severity::Medium,
            r"C:\inetpub\wwwroot\b.aspx",
        );
        let default = Selection::default();
        assert!(default.takes(&high, &high.evidence.file.windows_path));
        assert!(!default.takes(&medium, &medium.evidence.file.windows_path));
        let named = Selection {
            paths: vec![r"C:\INETPUB".into()],
            ..Selection::default()
        };
        assert!(named.takes(&medium, &medium.evidence.file.windows_path));
        let by_check = Selection {
            check_ids: vec!["exs-file-010".into()],
            min_severity: Some(Severity::Medium),
            ..Selection::default()
        };
        assert!(!by_check.takes(&high, &high.evidence.file.windows_path));
        assert!(by_check.takes(&medium, &medium.evidence.file.windows_path));
    }

    #[test]
    fn logs_never_move() {
        assert!(is_log(
            r"C:\Program Files\Microsoft\Exchange Server\V15\Logging\HttpProxy\Owa\HttpProxy_2021030301-1.LOG"
        ));
        assert!(is_log(r"C:\inetpub\logs\LogFiles\W3SVC1\u_ex210303.log"));
        assert!(!is_log(r"C:\inetpub\wwwroot\aspnet_client\x.aspx"));
    }
}
