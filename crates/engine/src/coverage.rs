//! The coverage, assembled in one place from what each stage reports: the evidence
//! (layout, drives), the inventory (install, areas, hives and configuration files, log
//! sources found), the file sweep's counters, the hunt's per-source reads, and the
//! loaders' notes. Here, and only here, a missing or late log source gets the sentence
//! that says what it means for the verdict.

use crate::hunt::HuntResult;
use crate::inventory::{area_coverage, Inventory};
use crate::sweep::SweepStats;
use exsweep_evidence::Evidence;
use exsweep_model::{AreaCoverage, Coverage, LogCoverage};
use std::time::{Duration, SystemTime};

/// Investigations start here: logs that begin later may miss the 2021 campaigns.
const CAMPAIGN_START: u64 = 1_609_459_200; // 2021-01-01

/// What the scan's loaders brought: counts and notes.
pub struct Loaded<'a> {
    pub rules: usize,
    pub indicators: usize,
    pub size_cap: u64,
    pub warnings: &'a [String],
}

/// The consequence of a log source that is missing or starts after the campaigns,
/// given what its absence means (`None`: an optional log, whose absence is normal).
fn log_consequence(read: &LogCoverage, absent_means: Option<&str>) -> Option<String> {
    let campaign_start = SystemTime::UNIX_EPOCH + Duration::from_secs(CAMPAIGN_START);
    if read.files == 0 {
        absent_means.map(|c| format!("no logs found: {c}"))
    } else if read.first.is_some_and(|t| t > campaign_start) {
        let what = absent_means.map_or("its events", |c| c.split(" were").next().unwrap_or(c));
        Some(format!(
            "starts after 2021-01-01: activity before that (the 2021 campaigns) was not assessed; {what}"
        ))
    } else {
        None
    }
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
            read.consequence = log_consequence(&read, Some(dir.consequence));
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
            read.consequence = log_consequence(&read, log.consequence);
            logs.push(read);
        }
        warnings.append(&mut hunt.warnings);
    }
    Coverage {
        layout: evidence.describe_layout().to_string(),
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
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(files: u64, first_secs: Option<u64>) -> LogCoverage {
        LogCoverage {
            files,
            first: first_secs.map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s)),
            ..LogCoverage::default()
        }
    }

    #[test]
    fn missing_and_late_logs_say_what_they_mean() {
        let means = Some("OAB generator file writes (CVE-2021-26858) were not assessed");
        assert_eq!(
            log_consequence(&read(0, None), means).as_deref(),
            Some("no logs found: OAB generator file writes (CVE-2021-26858) were not assessed")
        );
        assert_eq!(log_consequence(&read(0, None), None), None);
        assert_eq!(
            log_consequence(&read(3, Some(CAMPAIGN_START - 1)), means),
            None
        );
        let late = log_consequence(&read(3, Some(CAMPAIGN_START + 86_400)), means).unwrap();
        assert!(late.starts_with("starts after 2021-01-01"), "{late}");
        assert!(
            late.ends_with("; OAB generator file writes (CVE-2021-26858)"),
            "{late}"
        );
        let optional = log_consequence(&read(1, Some(CAMPAIGN_START + 1)), None).unwrap();
        assert!(optional.ends_with("; its events"), "{optional}");
    }
}
