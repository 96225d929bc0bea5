//! The coverage, assembled in one place from what each stage reports: the evidence
//! (layout, drives), the inventory (install, areas, hives and configuration files, log
//! sources found), the file sweep's counters, the hunt's per-source reads, and the
//! loaders' notes. Here, and only here, a missing or late log source gets the sentence
//! that says what it means for the verdict.

use crate::hunt::HuntResult;
use crate::inventory::{area_coverage, Inventory};
use crate::sweep::SweepStats;
use exsweep_evidence::Evidence;
use exsweep_model::{AreaCoverage, Coverage, LogCoverage, LogStatus};
use std::time::{Duration, SystemTime};

/// Investigations start here: logs that begin later may miss the 2021 campaigns.
const CAMPAIGN_START: u64 = 1_609_459_200; // 2021-01-01

/// What the scan's loaders brought: counts and notes.
pub struct Loaded<'a> {
    pub rules: usize,
    pub indicators: usize,
    pub size_cap: u64,
    pub warnings: &'a [String],
    /// With `--sigma`: what loading the rules gave.
    pub sigma: Option<&'a exsweep_sigma::LoadReport>,
}

/// The Sigma load report as the coverage (and `exsweep sigma check`) records it.
pub fn sigma_coverage(report: &exsweep_sigma::LoadReport) -> exsweep_model::SigmaCoverage {
    exsweep_model::SigmaCoverage {
        files: report.files as u64,
        rules_loaded: report.loaded as u64,
        correlations_loaded: report.correlations_loaded as u64,
        filters_applied: report.filters_applied as u64,
        skipped: report
            .skipped
            .iter()
            .map(|s| exsweep_model::SigmaSkipped {
                file: s.file.clone(),
                rule: s.rule.clone(),
                kind: s.kind.as_str().to_string(),
                reason: s.reason.clone(),
            })
            .collect(),
    }
}

/// Judges a log source: missing, damaged (most of what was parsed failed), short
/// (starts after the campaigns) or ok, and what that leaves unassessed, given what its
/// absence means (`None`: an optional log, whose absence is normal).
fn judge(read: &mut LogCoverage, absent_means: Option<&str>) {
    let campaign_start = SystemTime::UNIX_EPOCH + Duration::from_secs(CAMPAIGN_START);
    let what = absent_means.map_or("its events", |c| c.split(" were").next().unwrap_or(c));
    (read.status, read.consequence) = if read.files == 0 {
        (
            LogStatus::Missing,
            absent_means.map(|c| format!("no logs found: {c}")),
        )
    } else if read.parse_failures > 0 && read.parse_failures >= read.parsed {
        (
            LogStatus::Damaged,
            Some(format!(
                "{} of the {} lines or records exsweep tried to read could not be parsed: \
                 what they held was not assessed; {what}",
                read.parse_failures,
                read.parse_failures + read.parsed
            )),
        )
    } else if read.first.is_some_and(|t| t > campaign_start) {
        (
            LogStatus::Short,
            Some(format!(
                "starts after 2021-01-01: activity before that (the 2021 campaigns) was not assessed; {what}"
            )),
        )
    } else {
        (LogStatus::Ok, None)
    };
}

/// Builds the coverage of one scan. `hunt` is `None` when the logs were not read.
pub fn assemble(
    evidence: &Evidence,
    inventory: &Inventory,
    loaded: &Loaded,
    sweep: SweepStats,
    hunt: Option<&mut HuntResult>,
) -> Coverage {
    let mut warnings = inventory.warnings.clone();
    warnings.extend(loaded.warnings.iter().cloned());
    warnings.extend(sweep.warnings);
    let mut logs = Vec::new();
    if let Some(hunt) = hunt {
        for (dir, mut read) in inventory
            .logs
            .iter()
            .zip(std::mem::take(&mut hunt.text_logs))
        {
            judge(&mut read, Some(dir.consequence));
            logs.push(read);
        }
        for (log, mut read) in inventory
            .event_logs
            .iter()
            .zip(std::mem::take(&mut hunt.event_logs))
        {
            if read.files == 0 && log.consequence.is_none() {
                continue; // an optional log the server did not keep
            }
            judge(&mut read, log.consequence);
            logs.push(read);
        }
        for mut read in std::mem::take(&mut hunt.other_event_logs) {
            judge(&mut read, None);
            logs.push(read);
        }
        warnings.append(&mut hunt.warnings);
    }
    Coverage {
        layout: evidence.describe_layout().to_string(),
        recognised: inventory.recognised.clone(),
        logs,
        evidence_root: evidence.root().display().to_string(),
        drives: evidence.drives().iter().map(|d| format!("{d}:")).collect(),
        exchange_install: inventory.exchange.as_ref().map(|e| match &e.version {
            Some(v) => format!("{} (build {v})", e.root),
            None => e.root.clone(),
        }),
        exchange_install_source: inventory.exchange.as_ref().map(|e| e.source.to_string()),
        areas: area_coverage(evidence, &inventory.areas(evidence)),
        configs: inventory
            .configs
            .iter()
            .map(|c| AreaCoverage {
                area: c.name.to_string(),
                windows_path: c.windows_path.to_string(),
                present: c.present,
                consequence: (!c.present).then(|| c.consequence.to_string()),
            })
            .collect(),
        files_seen: sweep.files_seen,
        files_scanned: sweep.files_scanned,
        bytes_scanned: sweep.bytes_scanned,
        empty_files: sweep.empty_files,
        over_size_cap: sweep.over_size_cap,
        size_cap: loaded.size_cap,
        unreadable: sweep.unreadable,
        symlinks_not_followed: sweep.symlinks_not_followed,
        special_files: sweep.special_files,
        odd_names: sweep.odd_names,
        rule_timeouts: sweep.rule_timeouts,
        rules_loaded: loaded.rules,
        indicators_loaded: loaded.indicators,
        sigma: loaded.sigma.map(sigma_coverage),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(
        files: u64,
        parsed: u64,
        failed: u64,
        first_secs: Option<u64>,
        means: Option<&str>,
    ) -> LogCoverage {
        let mut read = LogCoverage {
            files,
            parsed,
            parse_failures: failed,
            first: first_secs.map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s)),
            ..LogCoverage::default()
        };
        judge(&mut read, means);
        read
    }

    #[test]
    fn missing_damaged_and_late_logs_say_what_they_mean() {
        let means = Some("OAB generator file writes (CVE-2021-26858) were not assessed");
        let missing = judged(0, 0, 0, None, means);
        assert_eq!(missing.status, LogStatus::Missing);
        assert_eq!(
            missing.consequence.as_deref(),
            Some("no logs found: OAB generator file writes (CVE-2021-26858) were not assessed")
        );
        let optional = judged(0, 0, 0, None, None);
        assert_eq!(
            (optional.status, optional.consequence),
            (LogStatus::Missing, None)
        );
        let fine = judged(3, 10, 1, Some(CAMPAIGN_START - 1), means);
        assert_eq!((fine.status, fine.consequence), (LogStatus::Ok, None));
        let late = judged(3, 10, 0, Some(CAMPAIGN_START + 86_400), means);
        assert_eq!(late.status, LogStatus::Short);
        let text = late.consequence.unwrap();
        assert!(text.starts_with("starts after 2021-01-01"), "{text}");
        assert!(
            text.ends_with("; OAB generator file writes (CVE-2021-26858)"),
            "{text}"
        );
        let damaged = judged(1, 2, 5, Some(CAMPAIGN_START - 1), means);
        assert_eq!(damaged.status, LogStatus::Damaged);
        assert!(damaged.consequence.unwrap().starts_with("5 of the 7 lines"));
        let optional_late = judged(1, 1, 0, Some(CAMPAIGN_START + 1), None)
            .consequence
            .unwrap();
        assert!(optional_late.ends_with("; its events"), "{optional_late}");
    }
}
