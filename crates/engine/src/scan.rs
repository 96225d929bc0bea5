//! One scan, start to finish, in two steps. A [`ScanRequest`] is what was asked for,
//! unchecked; [`ScanRequest::validate`] turns it into a [`ScanConfig`] that has loaded
//! the indicator feeds, compiled the rules and checked the time window and drives, so
//! every usage error is found before any evidence is read. [`run`] then opens the
//! evidence, takes the inventory, sweeps, hunts, correlates, assembles the coverage
//! and the verdict, and returns the [`Report`].

use crate::checks;
use crate::correlate;
use crate::coverage::{self, Loaded};
use crate::hunt::{self, HuntOptions};
use crate::incidents;
use crate::inventory::{self, Inventory};
use crate::progress::Progress;
use crate::sweep::{self, SweepOptions};
use exsweep_evidence::{Evidence, Layout};
use exsweep_indicators::baseline::Baselines;
use exsweep_indicators::IndicatorSet;
use exsweep_model::{finding, Finding, Report, Verdict};
use exsweep_rules::RuleSet;
use exsweep_sigma::{Routing, SigmaRules};
use std::cmp::Reverse;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// The defaults `exsweep scan` uses, in one place.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;
pub const DEFAULT_RULE_TIMEOUT: Duration = Duration::from_secs(20);

/// What a scan is asked to do, as given: nothing checked or loaded yet.
#[derive(Clone)]
pub struct ScanRequest {
    pub evidence: PathBuf,
    pub layout: Option<Layout>,
    /// More drives of the same server (`D:` at a second mount point), beside the
    /// evidence's own.
    pub extra_drives: Vec<(char, PathBuf)>,
    /// Every file on every drive instead of the default scope.
    pub full: bool,
    pub iocs: Vec<PathBuf>,
    /// Known-good baselines (`SHA256,build,relative path`, optionally gzipped).
    pub baselines: Vec<PathBuf>,
    pub rules: Vec<PathBuf>,
    /// Sigma rule files or folders (`--sigma`), run over the event logs.
    pub sigma: Vec<PathBuf>,
    /// A routing file in place of the built-in one (`--sigma-routing`).
    pub sigma_routing: Option<PathBuf>,
    pub max_file_size: u64,
    pub rule_timeout: Duration,
    pub host: Option<String>,
    /// Read the logs too (the default).
    pub logs: bool,
    pub hunt: HuntOptions,
}

impl ScanRequest {
    /// A scan of `evidence` with every default: detected layout, default scope, built-in
    /// indicators and rules, logs included.
    pub fn new(evidence: PathBuf) -> ScanRequest {
        ScanRequest {
            evidence,
            layout: None,
            extra_drives: Vec::new(),
            full: false,
            iocs: Vec::new(),
            baselines: Vec::new(),
            rules: Vec::new(),
            sigma: Vec::new(),
            sigma_routing: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            rule_timeout: DEFAULT_RULE_TIMEOUT,
            host: None,
            logs: true,
            hunt: HuntOptions::default(),
        }
    }

    /// Checks everything that can be checked without reading the evidence, loads the
    /// feeds and compiles the rules. An `Err` is a usage error (exit code 2).
    pub fn validate(self) -> Result<ScanConfig, String> {
        std::fs::metadata(&self.evidence)
            .map_err(|e| format!("cannot read evidence root {}: {e}", self.evidence.display()))?;
        if let Some(layout) = self.layout {
            layout.available_here()?;
        }
        for (letter, path) in &self.extra_drives {
            if !letter.is_ascii_alphabetic() {
                return Err(format!("{letter}: is not a drive letter"));
            }
            if !path.is_dir() {
                return Err(format!(
                    "drive {letter}: at {} is not a folder",
                    path.display()
                ));
            }
        }
        if let (Some(since), Some(until)) = (self.hunt.since, self.hunt.until) {
            if since > until {
                return Err("--since is after --until: the time window is empty".into());
            }
        }
        if self.max_file_size == 0 {
            return Err("--max-file-size must be at least 1 MiB".into());
        }
        let mut indicators = IndicatorSet::builtin();
        for feed in &self.iocs {
            indicators.load_feed(feed)?;
        }
        let mut baselines = Baselines::default();
        for path in &self.baselines {
            baselines.load(path)?;
        }
        for path in &self.rules {
            if !path.exists() {
                return Err(format!("rule path {} does not exist", path.display()));
            }
        }
        let rules = RuleSet::build(&self.rules);
        let sigma = self.load_sigma()?;
        Ok(ScanConfig {
            request: self,
            indicators,
            baselines,
            rules,
            sigma,
        })
    }
}

impl ScanRequest {
    /// The `--sigma` rules with their routing, when any were given.
    fn load_sigma(&self) -> Result<Option<SigmaRules>, String> {
        if self.sigma.is_empty() {
            return Ok(None);
        }
        for path in &self.sigma {
            if !path.exists() {
                return Err(format!("Sigma rule path {} does not exist", path.display()));
            }
        }
        let routing = Routing::from_file_or_built_in(self.sigma_routing.as_deref())?;
        Ok(Some(SigmaRules::load(&self.sigma, routing)))
    }
}

/// A scan ready to run: its request checked, its feeds loaded and its rules compiled.
pub struct ScanConfig {
    request: ScanRequest,
    indicators: IndicatorSet,
    baselines: Baselines,
    rules: RuleSet,
    sigma: Option<SigmaRules>,
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

/// The report's order: most severe first, then by time, then by ID, so that two runs
/// over the same evidence list the same findings in the same order. IDs are unique by
/// now, so the order is total and an unstable sort gives it without the stable sort's
/// buffer of half the findings.
fn sort_findings(findings: &mut [Finding]) {
    findings.sort_unstable_by(|a, b| {
        (Reverse(a.severity), a.time(), &a.id).cmp(&(Reverse(b.severity), b.time(), &b.id))
    });
}

/// Runs a scan. An `Err` means it could not run at all (exit code 2); everything that
/// goes wrong during the scan is a warning in the report's coverage instead.
pub fn run(config: &ScanConfig, progress: &dyn Progress) -> Result<Report, String> {
    let request = &config.request;
    let started = SystemTime::now();
    let evidence = Evidence::open(&request.evidence, request.layout, &request.extra_drives)?;
    let inventory = Inventory::take(&evidence, request.logs);
    if evidence.is_loose() {
        let logs = inventory
            .recognised
            .iter()
            .filter(|group| group.taken_for != inventory::NOT_READ);
        if logs.count() == 0 {
            let looked_at: u64 = inventory.recognised.iter().map(|g| g.count).sum();
            return Err(format!(
                "nothing in {} is a log exsweep reads ({}), and it holds no \
                 Windows, Program Files, inetpub or ProgramData folder, no drive-letter folders \
                 (KAPE), no uploads folder (Velociraptor); name the layout with --layout",
                request.evidence.display(),
                if request.logs {
                    format!("{looked_at} file(s) looked at")
                } else {
                    "--no-logs was given".to_string()
                }
            ));
        }
    }
    let options = SweepOptions {
        full: request.full,
        max_file_size: request.max_file_size,
        rule_timeout: request.rule_timeout,
    };
    let (mut findings, sweep_stats) = sweep::run(
        &evidence,
        &inventory,
        &config.indicators,
        &config.baselines,
        &config.rules,
        &options,
        progress,
    );
    let mut hunted = request.logs.then(|| {
        let shells = correlate::shell_urls(&findings, &inventory);
        hunt::hunt(
            &evidence,
            &inventory,
            &config.indicators,
            &shells,
            &request.hunt,
            config.sigma.as_ref(),
        )
    });
    let mut loader_warnings = config.indicators.warnings.clone();
    loader_warnings.extend(config.rules.warnings.iter().cloned());
    let coverage = coverage::assemble(
        &evidence,
        &inventory,
        &Loaded {
            rules: config.rules.rule_count,
            indicators: config.indicators.len(),
            size_cap: request.max_file_size,
            warnings: &loader_warnings,
            sigma: config.sigma.as_ref().map(|s| &s.report),
        },
        sweep_stats,
        hunted.as_mut(),
    );
    let trail = match hunted {
        Some(hunt) => {
            finding::append(&mut findings, hunt.findings);
            hunt.trail
        }
        None => Vec::new(),
    };
    findings.extend(checks::exposure::findings(&evidence, &inventory));
    findings.extend(checks::iis::findings(&inventory));
    correlate::score_shells_in_use(&mut findings);
    finding::make_ids_unique(&mut findings);
    sort_findings(&mut findings);
    let incidents = incidents::build(&findings, &inventory.web_map);
    let host = request
        .host
        .clone()
        .or_else(|| inventory.host.clone())
        .or_else(|| {
            request
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
        verdict: Verdict::new(&findings, &coverage),
        findings,
        incidents,
        coverage,
        trail,
        checklist: Vec::new(),
    })
}
