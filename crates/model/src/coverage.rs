//! What a scan read, what it could not, and why: the basis for "not assessed". The
//! engine assembles it in one place from what each stage reports.

use crate::check::Text;
use crate::text::{de_opt_time, ser_opt_time};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// A part of the server exsweep looks at, and whether the evidence held it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AreaCoverage {
    pub area: String,
    pub windows_path: String,
    pub present: bool,
    /// What a missing area means for the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consequence: Option<String>,
}

/// How much a log source can be trusted for what it covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStatus {
    /// Read, and it reaches back before the campaigns.
    #[default]
    Ok,
    /// The evidence holds none of it.
    Missing,
    /// Most of what exsweep tried to parse could not be.
    Damaged,
    /// It starts after 2021-01-01.
    Short,
}

impl LogStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStatus::Ok => "ok",
            LogStatus::Missing => "missing",
            LogStatus::Damaged => "damaged",
            LogStatus::Short => "short",
        }
    }
}

/// What the log hunt read of one log source (HttpProxy, IIS, an event log ...).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LogCoverage {
    pub source: Text,
    pub windows_path: String,
    pub status: LogStatus,
    pub files: u64,
    pub bytes: u64,
    pub lines: u64,
    /// Lines (or records) exsweep parsed: the ones a check could concern.
    pub parsed: u64,
    /// Lines (or records) exsweep tried to parse and could not.
    pub parse_failures: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub first: Option<SystemTime>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_time",
        deserialize_with = "de_opt_time",
        default
    )]
    pub last: Option<SystemTime>,
    /// What a missing or short source means for the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consequence: Option<String>,
}

impl LogCoverage {
    /// Widens the first-to-last span to take in an entry of this time.
    pub fn saw(&mut self, time: Option<SystemTime>) {
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }

    /// Adds what another read of the same source counted.
    pub fn absorb(&mut self, other: &LogCoverage) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.lines += other.lines;
        self.parsed += other.parsed;
        self.parse_failures += other.parse_failures;
        self.saw(other.first);
        self.saw(other.last);
    }
}

/// For loose logs: the files taken for one log for one reason. Grouped, and their
/// names listed up to [`RecognisedGroup::NAMES_LISTED`], so that a collection of a
/// hundred thousand exported logs costs a line per kind, not per file, in memory and
/// in the report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecognisedGroup {
    /// The log they were read as (`IIS`, `HttpProxy`, `EVTX Security` ...) or `not read`.
    pub taken_for: String,
    /// What gave them away, or why they were not read.
    pub by: String,
    /// How many files.
    pub count: u64,
    /// The first of them by name.
    pub files: Vec<String>,
}

impl RecognisedGroup {
    /// How many names a group lists.
    pub const NAMES_LISTED: usize = 100;

    pub fn new(taken_for: String, by: String) -> RecognisedGroup {
        RecognisedGroup {
            taken_for,
            by,
            count: 0,
            files: Vec::new(),
        }
    }

    /// Adds another batch's group of the same files: their count, and the first of
    /// both lists' names by name.
    pub fn absorb(&mut self, other: RecognisedGroup) {
        self.count += other.count;
        self.files.extend(other.files);
        self.files.sort_unstable();
        self.files.truncate(Self::NAMES_LISTED);
    }

    /// Counts a file, and names it while the list has room.
    pub fn add(&mut self, file: &str) {
        self.count += 1;
        if self.files.len() < Self::NAMES_LISTED {
            self.files.push(file.to_string());
        }
    }
}

/// A Sigma rule (or rule file) `--sigma` did not load, and why.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SigmaSkipped {
    pub file: String,
    /// The rule's title, when the file parsed that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `parse error`, `unsupported` or `no source`.
    pub kind: String,
    pub reason: String,
}

/// What `--sigma` loaded: every rule file read, and each rule loaded or left out.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SigmaCoverage {
    pub files: u64,
    pub rules_loaded: u64,
    /// Correlation rules loaded (run over the scan's matches after it).
    #[serde(default)]
    pub correlations_loaded: u64,
    pub filters_applied: u64,
    pub skipped: Vec<SigmaSkipped>,
}

impl SigmaCoverage {
    /// One line: `2,927 Sigma rules loaded from 3,754 files; 827 not: 827 no source`.
    pub fn summary(&self) -> String {
        let mut line = format!("{} Sigma rules", self.rules_loaded);
        if self.correlations_loaded > 0 {
            line.push_str(&format!(
                " and {} correlation rules",
                self.correlations_loaded
            ));
        }
        line.push_str(&format!(" loaded from {} files", self.files));
        if !self.skipped.is_empty() {
            let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
            for s in &self.skipped {
                *kinds.entry(s.kind.as_str()).or_default() += 1;
            }
            let parts: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
            line.push_str(&format!(
                "; {} not: {}",
                self.skipped.len(),
                parts.join(", ")
            ));
        }
        if self.filters_applied > 0 {
            line.push_str(&format!("; {} filters applied", self.filters_applied));
        }
        line
    }
}

/// What the scan read, what it could not, and why.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Coverage {
    pub layout: String,
    /// For loose logs, what the files were taken for, grouped by log and reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recognised: Vec<RecognisedGroup>,
    /// What the log hunt read, per log source.
    pub logs: Vec<LogCoverage>,
    pub evidence_root: String,
    /// The drive letters the evidence holds.
    pub drives: Vec<String>,
    pub exchange_install: Option<String>,
    pub exchange_install_source: Option<String>,
    /// The folders the file sweep covers.
    pub areas: Vec<AreaCoverage>,
    /// The hives and configuration files the inventory reads the install and sites from.
    pub configs: Vec<AreaCoverage>,
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
    /// With `--sigma`: the load report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<SigmaCoverage>,
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

    /// What was not assessed, one line each: missing areas and log sources.
    pub fn not_assessed(&self) -> Vec<String> {
        self.gaps()
            .map(|a| format!("{} ({})", a.area, a.windows_path))
            .chain(self.log_gaps().map(|l| format!("{} logs", l.source)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reads_of_one_source_add_up() {
        let at = |s: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let mut total = LogCoverage::default();
        let mut one = LogCoverage {
            files: 1,
            lines: 10,
            ..LogCoverage::default()
        };
        one.saw(at(50));
        one.saw(None);
        one.saw(at(20));
        total.absorb(&one);
        let mut two = LogCoverage {
            files: 1,
            parse_failures: 2,
            ..LogCoverage::default()
        };
        two.saw(at(90));
        total.absorb(&two);
        assert_eq!((total.files, total.lines, total.parse_failures), (2, 10, 2));
        assert_eq!((total.first, total.last), (at(20), at(90)));
    }
}
