//! The one-line answer a sysadmin reads first, built from the findings' classes: a
//! critical compromise finding means compromised; compromise, attempt or suspicious
//! findings from medium up need a look; exposure findings say the server is open
//! without saying it was entered; and what was not assessed is always said, so a
//! partial collection never reads as clean.

use crate::check::{Class, Severity};
use crate::coverage::Coverage;
use crate::finding::Finding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerdictLevel {
    Compromised,
    Suspicious,
    Exposed,
    NoIndicatorsFound,
}

impl VerdictLevel {
    pub fn label(self) -> &'static str {
        match self {
            VerdictLevel::Compromised => "COMPROMISED",
            VerdictLevel::Suspicious => "SUSPICIOUS",
            VerdictLevel::Exposed => "EXPOSED",
            VerdictLevel::NoIndicatorsFound => "NO INDICATORS FOUND",
        }
    }
}

/// The CVEs of the exposure findings from medium up, sorted.
fn still_open(findings: &[Finding]) -> Vec<String> {
    let mut cves: Vec<String> = findings
        .iter()
        .filter(|f| f.class == Class::Exposure && f.severity >= Severity::Medium)
        .flat_map(|f| f.references.iter())
        .filter_map(|r| match r {
            crate::check::Reference::Cve(id) => Some(id.to_string()),
            _ => None,
        })
        .collect();
    cves.sort();
    cves.dedup();
    cves
}

/// The verdict and what it rests on.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub level: VerdictLevel,
    /// The class of the findings that set the level; none for no indicators.
    pub driven_by: Option<Class>,
    /// Findings from medium up, per class.
    pub findings_by_class: BTreeMap<&'static str, usize>,
    /// Areas and log sources the evidence did not hold.
    pub not_assessed: Vec<String>,
    /// The CVEs exposure findings from medium up say the server is still open to.
    pub still_open: Vec<String>,
}

impl Verdict {
    pub fn new(findings: &[Finding], coverage: &Coverage) -> Verdict {
        let counted = |class: Class| {
            findings
                .iter()
                .filter(|f| f.class == class && f.severity >= Severity::Medium)
                .count()
        };
        let critical_compromise = findings
            .iter()
            .any(|f| f.class == Class::Compromise && f.severity == Severity::Critical);
        let first_present = |classes: &[Class]| classes.iter().copied().find(|c| counted(*c) > 0);
        let (level, driven_by) = if critical_compromise {
            (VerdictLevel::Compromised, Some(Class::Compromise))
        } else if let Some(class) =
            first_present(&[Class::Compromise, Class::Attempt, Class::Suspicious])
        {
            (VerdictLevel::Suspicious, Some(class))
        } else if counted(Class::Exposure) > 0 {
            (VerdictLevel::Exposed, Some(Class::Exposure))
        } else {
            (VerdictLevel::NoIndicatorsFound, None)
        };
        Verdict {
            level,
            driven_by,
            findings_by_class: Class::ALL
                .iter()
                .map(|c| (c.as_str(), counted(*c)))
                .collect(),
            not_assessed: coverage.not_assessed(),
            still_open: still_open(findings),
        }
    }

    pub fn label(&self) -> &'static str {
        self.level.label()
    }

    /// The verdict as the console's first line says it: the level, and the CVEs the
    /// server is still open to (`COMPROMISED; still open to CVE-2021-26855`).
    pub fn headline(&self) -> String {
        if self.still_open.is_empty() {
            self.label().to_string()
        } else {
            format!(
                "{}; still open to {}",
                self.label(),
                self.still_open.join(", ")
            )
        }
    }

    /// One sentence: what drove the verdict, and what could not be assessed.
    pub fn explanation(&self) -> String {
        let count = |c: Class| self.findings_by_class.get(c.as_str()).copied().unwrap_or(0);
        let mut text = match self.driven_by {
            Some(Class::Compromise) if self.level == VerdictLevel::Compromised => format!(
                "driven by {} compromise finding(s), at least one critical (a web shell, a dump or successful exploitation)",
                count(Class::Compromise)
            ),
            Some(class) => format!(
                "driven by {} {} finding(s) from medium up",
                count(class),
                class.as_str()
            ),
            None => "no finding from medium up".to_string(),
        };
        let others: Vec<String> = Class::ALL
            .iter()
            .filter(|c| Some(**c) != self.driven_by && count(**c) > 0)
            .map(|c| format!("{} {}", count(*c), c.as_str()))
            .collect();
        if !others.is_empty() {
            text.push_str(&format!("; also {}", others.join(", ")));
        }
        if !self.not_assessed.is_empty() {
            text.push_str(&format!(
                "; NOT ASSESSED: {} (not a clean bill of health)",
                self.not_assessed.join(", ")
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Check;
    use crate::finding::{Entities, Evidence, RemoteObservation};
    use std::borrow::Cow;

    const fn check(class: Class, severity: Severity) -> Check {
        Check {
            id: Cow::Borrowed("EXS-TEST-001"),
            title: Cow::Borrowed("t"),
            severity,
            class,
            category: Cow::Borrowed("c"),
            references: Cow::Borrowed(&[]),
            why: Cow::Borrowed(""),
            action: Cow::Borrowed(""),
        }
    }

    fn finding(class: Class, severity: Severity) -> Finding {
        Finding::new(
            check(class, severity).hit(String::new()),
            Evidence::Remote(RemoteObservation::default()),
            Entities::default(),
        )
    }

    #[test]
    fn classes_decide_the_level() {
        let none = Coverage::default();
        let level = |fs: &[Finding]| Verdict::new(fs, &none).level;
        use {Class::*, Severity::*};
        assert_eq!(
            level(&[finding(Compromise, Critical)]),
            VerdictLevel::Compromised
        );
        // A critical exposure (an open CVE) is not a compromise.
        assert_eq!(level(&[finding(Exposure, Critical)]), VerdictLevel::Exposed);
        assert_eq!(
            level(&[finding(Exposure, Critical), finding(Attempt, Medium)]),
            VerdictLevel::Suspicious
        );
        assert_eq!(
            level(&[finding(Compromise, High)]),
            VerdictLevel::Suspicious
        );
        assert_eq!(
            level(&[finding(Suspicious, Low)]),
            VerdictLevel::NoIndicatorsFound
        );
        let v = Verdict::new(
            &[finding(Compromise, Critical), finding(Attempt, Medium)],
            &none,
        );
        assert_eq!(v.driven_by, Some(Compromise));
        assert!(
            v.explanation().contains("also 1 attempt"),
            "{}",
            v.explanation()
        );
    }

    #[test]
    fn gaps_are_always_said() {
        let coverage = Coverage {
            areas: vec![crate::AreaCoverage {
                area: "ProgramData".into(),
                windows_path: r"C:\ProgramData".into(),
                present: false,
                consequence: Some("x".into()),
            }],
            ..Coverage::default()
        };
        let v = Verdict::new(&[], &coverage);
        assert_eq!(v.level, VerdictLevel::NoIndicatorsFound);
        assert!(
            v.explanation().contains("NOT ASSESSED: ProgramData"),
            "{}",
            v.explanation()
        );
    }
}
