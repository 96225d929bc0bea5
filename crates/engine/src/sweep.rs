//! The file sweep: lists the files in scope, reads each once (up to the size cap),
//! runs every file check and the YARA-X rules on that one read, in parallel, and
//! counts what was read, skipped and why ([`SweepStats`]) for the coverage.

use crate::checks::baseline::BaselineContext;
use crate::checks::files::{check_file, FileSubject};
use crate::checks::{heuristics, inert, rule_hit, SCRIPT_IN_STATIC_FOLDER, UNEXPECTED_AUTH_FILE};
use crate::contain::contain;
use crate::context;
use crate::inventory::Inventory;
use crate::progress::Progress;
use exsweep_evidence::{winpath, Evidence, FileEntry};
use exsweep_indicators::baseline::Baselines;
use exsweep_indicators::IndicatorSet;
use exsweep_model::{Entities, Evidence as Seen, FileEvidence, Finding, Severity};
use exsweep_rules::{RuleScanner, RuleSet, ScanError};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// How much of an over-cap file is read for the header checks (dumps, PST magic).
const HEAD_BYTES: u64 = 64 << 10;
const MAX_WARNINGS: usize = 200;

thread_local! {
    /// This thread's read buffer, reused for every file (it grows to the largest file read).
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

pub struct SweepOptions {
    /// Every file on every drive instead of the default scope.
    pub full: bool,
    /// Files larger than this get only name and header checks.
    pub max_file_size: u64,
    pub rule_timeout: Duration,
}

#[derive(Default)]
struct Counters {
    seen: AtomicU64,
    scanned: AtomicU64,
    bytes: AtomicU64,
    empty: AtomicU64,
    over_cap: AtomicU64,
    unreadable: AtomicU64,
    timeouts: AtomicU64,
}

/// The folders to list: the default scope's present areas, or every drive.
fn scope(evidence: &Evidence, inventory: &Inventory, full: bool) -> (Vec<String>, Vec<String>) {
    if full {
        let drives = evidence
            .drives()
            .iter()
            .map(|d| format!("{d}:\\"))
            .collect();
        return (drives, Vec::new());
    }
    let mut dirs: Vec<String> = inventory
        .areas(evidence)
        .into_iter()
        .map(|a| a.windows_path)
        .filter(|p| evidence.dir_exists(p))
        .collect();
    // Drop folders nested in another folder of the scope: walk each tree once.
    let keys: Vec<String> = dirs.iter().map(|d| winpath::key(d)).collect();
    let mut i = 0;
    dirs.retain(|_| {
        let key = &keys[i];
        i += 1;
        !keys
            .iter()
            .any(|other| other != key && winpath::is_within(key, other))
    });
    (dirs, inventory.sweep_exclusions())
}

/// What the sweep read and passed over.
#[derive(Debug, Default)]
pub struct SweepStats {
    pub files_seen: u64,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub empty_files: u64,
    pub over_size_cap: u64,
    pub unreadable: u64,
    pub symlinks_not_followed: u64,
    pub special_files: u64,
    pub odd_names: u64,
    pub rule_timeouts: u64,
    pub warnings: Vec<String>,
}

/// Sweeps the files; returns the findings and what was read.
pub fn run(
    evidence: &Evidence,
    inventory: &Inventory,
    indicators: &IndicatorSet,
    baselines: &Baselines,
    rules: &RuleSet,
    options: &SweepOptions,
    progress: &dyn Progress,
) -> (Vec<Finding>, SweepStats) {
    let (dirs, exclude) = scope(evidence, inventory, options.full);
    let counters = Counters::default();
    let findings = Mutex::new(Vec::new());
    let mut baseline_warnings = Vec::new();
    let baseline = BaselineContext::new(baselines, evidence, inventory, &mut |w| {
        baseline_warnings.push(w)
    });
    let warnings = Mutex::new(baseline_warnings);
    let exchange_root = inventory.exchange.as_ref().map(|e| e.root.as_str());
    let ctx = FileContext {
        evidence,
        inventory,
        indicators,
        baseline: baseline.as_ref(),
        exchange_root,
        max_file_size: options.max_file_size,
        counters: &counters,
        warnings: &warnings,
    };
    // Files are read and scanned by the walk's own tasks as each folder is listed, so
    // reading overlaps listing; each worker thread keeps its scanner and read buffer.
    let listing = evidence.visit_files(&dirs, &exclude, &|file| {
        let found = contain(&file.windows_path, || {
            READ_BUFFER.with(|buf| {
                rules.with_scanner(options.rule_timeout, |scanner| {
                    ctx.sweep_file(&file, scanner, &mut buf.borrow_mut())
                })
            })
        })
        .unwrap_or_else(|warning| {
            counters.unreadable.fetch_add(1, Relaxed);
            ctx.warn(warning);
            Vec::new()
        });
        if !found.is_empty() {
            findings.lock().unwrap().extend(found);
        }
        counters.seen.fetch_add(1, Relaxed);
        progress.file_swept();
    });
    progress.sweep_finished();
    let mut all_warnings = listing.warnings;
    all_warnings.extend(warnings.into_inner().unwrap());
    let stats = SweepStats {
        files_seen: counters.seen.into_inner(),
        files_scanned: counters.scanned.into_inner(),
        bytes_scanned: counters.bytes.into_inner(),
        empty_files: counters.empty.into_inner(),
        over_size_cap: counters.over_cap.into_inner(),
        unreadable: listing.unreadable + counters.unreadable.into_inner(),
        symlinks_not_followed: listing.symlinks,
        special_files: listing.special_files,
        odd_names: listing.odd_names,
        rule_timeouts: counters.timeouts.into_inner(),
        warnings: all_warnings,
    };
    (findings.into_inner().unwrap(), stats)
}

struct FileContext<'a> {
    evidence: &'a Evidence,
    inventory: &'a Inventory,
    indicators: &'a IndicatorSet,
    baseline: Option<&'a BaselineContext<'a>>,
    exchange_root: Option<&'a str>,
    max_file_size: u64,
    counters: &'a Counters,
    warnings: &'a Mutex<Vec<String>>,
}

impl FileContext<'_> {
    fn warn(&self, text: String) {
        let mut w = self.warnings.lock().unwrap();
        if w.len() < MAX_WARNINGS {
            w.push(text);
        }
    }

    fn sweep_file(
        &self,
        file: &FileEntry,
        scanner: &mut RuleScanner,
        buf: &mut Vec<u8>,
    ) -> Vec<Finding> {
        let wants_whole = file.size <= self.max_file_size;
        // One byte over the cap tells a file that grew past it since it was listed.
        let limit = if wants_whole {
            self.max_file_size + 1
        } else {
            HEAD_BYTES
        };
        let read_ok = match self.evidence.read(file, limit, buf) {
            Ok(()) => true,
            Err(e) => {
                self.counters.unreadable.fetch_add(1, Relaxed);
                self.warn(format!(
                    "cannot read {}: {e}",
                    exsweep_model::printable(file.windows_path.as_bytes())
                ));
                buf.clear();
                false
            }
        };
        let complete = read_ok && wants_whole && buf.len() as u64 <= self.max_file_size;
        if read_ok {
            self.counters.scanned.fetch_add(1, Relaxed);
            self.counters.bytes.fetch_add(buf.len() as u64, Relaxed);
            if buf.is_empty() {
                self.counters.empty.fetch_add(1, Relaxed);
            }
            if !complete {
                self.counters.over_cap.fetch_add(1, Relaxed);
                buf.truncate(HEAD_BYTES as usize);
            }
        }
        let subject = FileSubject::new(
            &file.windows_path,
            self.inventory.zone_of(&file.windows_path),
            buf,
            complete,
        );
        let mut hits = check_file(&subject, self.indicators, self.exchange_root);
        let mut known_good = false;
        if let Some(baseline) = self.baseline {
            let judged = hits.iter().any(|h| {
                h.check.id == UNEXPECTED_AUTH_FILE.id || h.check.id == SCRIPT_IN_STATIC_FOLDER.id
            });
            let (baseline_hits, listed) = baseline.check(&subject, judged);
            hits.extend(baseline_hits);
            known_good = listed;
        }
        // Rules and heuristics describe the content: together they are one finding. A
        // file the baseline lists with this hash is Microsoft's, whatever a rule says.
        let mut content = Vec::new();
        let mut inert_page = None;
        if complete && !buf.is_empty() && !known_good {
            let view = exsweep_rules::text_view(buf);
            let mut own_rule_matched = false;
            match scanner.scan_with_view(&file.windows_path, buf, view.as_deref(), || {
                subject.hashes.md5(buf).to_string()
            }) {
                Ok(rule_hits) => {
                    // A low rule of exsweep's own is a lead (the page is encoded, spells
                    // text in Chr() calls), not a reading of what the page does.
                    own_rule_matched = rule_hits.iter().any(|hit| {
                        hit.is_builtin() && hit.severity.is_some_and(|(s, _)| s >= Severity::Medium)
                    });
                    content.extend(rule_hits.into_iter().map(rule_hit));
                }
                Err(ScanError::Timeout) => {
                    self.counters.timeouts.fetch_add(1, Relaxed);
                    self.warn(format!("rule scan timed out: {}", file.windows_path));
                }
                Err(e) => self.warn(format!("rule scan failed on {}: {e}", file.windows_path)),
            }
            if subject.is_server_executed() && subject.extension() != "config" {
                let text = view.as_deref().unwrap_or(buf);
                let assessment = heuristics::assess(&subject, text);
                content.extend(context::heuristic_hit(&assessment));
                if !content.is_empty() {
                    inert_page = inert::inert_page(&subject, text, &assessment, own_rule_matched);
                }
            }
        }
        if hits.is_empty() && content.is_empty() {
            return Vec::new();
        }
        let evidence = FileEvidence {
            windows_path: file.windows_path.clone(),
            local: self.evidence.local_path(file),
            size: file.size,
            md5: complete.then(|| subject.hashes.md5(buf).to_string()),
            sha1: complete.then(|| subject.hashes.sha1(buf).to_string()),
            sha256: complete.then(|| subject.hashes.sha256(buf).to_string()),
            times: file.times.clone(),
        };
        let entities = Entities {
            windows_path: Some(file.windows_path.clone()),
            ..Entities::default()
        };
        let mut findings: Vec<Finding> = hits
            .into_iter()
            .map(|hit| Finding::new(hit, Seen::File(evidence.clone()), entities.clone()))
            .collect();
        if !content.is_empty() {
            let mut finding =
                context::content_finding(content, Seen::File(evidence.clone()), entities);
            context::score_file(
                &mut finding,
                subject.zone,
                self.exchange_root,
                &file.times,
                self.evidence.hidden_or_system(file) == Some(true),
                inert_page,
            );
            findings.push(finding);
        }
        findings
    }
}
