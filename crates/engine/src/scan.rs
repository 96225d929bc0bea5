//! One scan, start to finish: open the evidence, take the inventory, load the
//! indicators and rules, sweep, and assemble the [`Report`].

use crate::hunt::{self, HuntOptions};
use crate::inventory::Inventory;
use crate::progress::Progress;
use crate::sweep::{self, SweepOptions};
use exsweep_evidence::{Evidence, Layout};
use exsweep_indicators::IndicatorSet;
use exsweep_model::{Coverage, Report, Verdict};
use exsweep_rules::RuleSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Everything a scan needs to know, already validated.
pub struct ScanConfig {
    pub evidence: PathBuf,
    pub layout: Option<Layout>,
    pub full: bool,
    pub iocs: Vec<PathBuf>,
    pub rules: Vec<PathBuf>,
    pub max_file_size: u64,
    pub rule_timeout: Duration,
    pub host: Option<String>,
    /// Read the logs too (the default).
    pub logs: bool,
    pub hunt: HuntOptions,
}

/// The defaults `exsweep scan` uses, in one place.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;
pub const DEFAULT_RULE_TIMEOUT: Duration = Duration::from_secs(20);

impl ScanConfig {
    /// A scan of `evidence` with every default: detected layout, default scope, built-in
    /// indicators and rules, logs included, no progress bar.
    pub fn new(evidence: PathBuf) -> ScanConfig {
        ScanConfig {
            evidence,
            layout: None,
            full: false,
            iocs: Vec::new(),
            rules: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            rule_timeout: DEFAULT_RULE_TIMEOUT,
            host: None,
            logs: true,
            hunt: HuntOptions::default(),
        }
    }
}

fn scan_id(started: SystemTime) -> String {
    let nanos = started
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:016x}",
        (nanos as u64) ^ (u64::from(std::process::id()) << 40)
    )
}

/// Runs a scan. An `Err` means it could not run at all (exit code 2); everything that
/// goes wrong during the scan is a warning in the report's coverage instead.
pub fn run(config: &ScanConfig, progress: &dyn Progress) -> Result<Report, String> {
    let started = SystemTime::now();
    let evidence = Evidence::open(&config.evidence, config.layout)?;
    let inventory = Inventory::take(&evidence);

    let mut indicators = IndicatorSet::builtin();
    for feed in &config.iocs {
        indicators.load_feed(feed)?;
    }
    for path in &config.rules {
        if !path.exists() {
            return Err(format!("rule path {} does not exist", path.display()));
        }
    }
    let rules = RuleSet::build(&config.rules);

    let mut coverage = Coverage {
        layout: evidence.describe_layout().to_string(),
        evidence_root: evidence.root().display().to_string(),
        exchange_install: inventory.exchange.as_ref().map(|e| match &e.version {
            Some(v) => format!("{} (build {v})", e.root),
            None => e.root.clone(),
        }),
        exchange_install_source: inventory.exchange.as_ref().map(|e| e.source.to_string()),
        rules_loaded: rules.rule_count,
        indicators_loaded: indicators.len(),
        ..Coverage::default()
    };
    coverage.warnings.extend(inventory.warnings.iter().cloned());
    coverage
        .warnings
        .extend(indicators.warnings.iter().cloned());
    coverage.warnings.extend(rules.warnings.iter().cloned());

    let options = SweepOptions {
        full: config.full,
        max_file_size: config.max_file_size,
        rule_timeout: config.rule_timeout,
    };
    let mut findings = sweep::run(
        &evidence,
        &inventory,
        &indicators,
        &rules,
        &options,
        progress,
        &mut coverage,
    );
    let mut trail = Vec::new();
    if config.logs {
        let shells = hunt::shell_urls(&findings, &inventory);
        let hunt = hunt::hunt(&evidence, &inventory, &shells, &config.hunt);
        findings.extend(hunt.findings);
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        coverage.logs = hunt.coverage;
        coverage.warnings.extend(hunt.warnings);
        trail = hunt.trail;
    }
    let host = config
        .host
        .clone()
        .or_else(|| inventory.host.clone())
        .or_else(|| {
            config
                .evidence
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    Ok(Report {
        scan_id: scan_id(started),
        host,
        started,
        finished: SystemTime::now(),
        verdict: Verdict::from_findings(&findings),
        findings,
        coverage,
        trail,
    })
}
