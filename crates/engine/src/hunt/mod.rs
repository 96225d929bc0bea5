//! The log hunt: streams each log file the inventory found once, selects the lines any
//! check could concern ([`exsweep_logs::lines`]), parses those by the file's own header
//! and runs the log checks on them ([`text`]); the event logs are read in [`events`].
//! Files are read in parallel, one chunk at a time, so memory stays flat whatever the
//! logs' size; loose logs are walked again and read a batch after another, so it
//! stays flat whatever their number too. What the hunt read goes back per source, for
//! the coverage to judge.

mod cap;
mod correlation;
mod events;
mod options;
mod text;

pub use events::MAX_EVTX_IN_MEMORY;
pub use options::HuntOptions;

use crate::checks::logs::{self, LogContext};
use crate::contain::contain;
use crate::correlate::{self, ShellUrl};
use crate::inventory::{self, Inventory, LogDir, LogFile};
use cap::{CappedFindings, EarliestKept};
use exsweep_evidence::known::DEFAULT_EXCHANGE_ROOT;
use exsweep_evidence::Evidence;
use exsweep_indicators::IndicatorSet;
use exsweep_logs::lines::{self, Needle, Needles};
use exsweep_logs::{parse, segments};
use exsweep_model::{finding, Finding, LogCoverage, Text, TrailEntry};
use exsweep_sigma::SigmaRules;
use rayon::prelude::*;
use std::sync::Mutex;

/// Logs at least twice this size on disk are selected in segments of it, in parallel.
const SEGMENT: u64 = 32 << 20;
/// Selected lines of segments waiting for their turn, at most (bytes).
const WAITING_BUDGET: usize = 64 << 20;
/// Findings kept of exsweep's own checks together, per hunt (text logs, event logs),
/// shared fairly: a check keeps all of its findings, or as many as the noisiest checks
/// keep; the earliest. The rest are counted in a warning per check, so memory stays
/// flat however big the corpus.
pub(crate) const MAX_CHECK_FINDINGS: usize = 10_000;
/// Findings kept per rule of a check that runs many (Sigma): the earliest; the rest
/// are counted in a warning, so a noisy rule over a big corpus cannot fill memory.
pub const MAX_FINDINGS_PER_RULE: usize = 100;
/// Findings kept of all such rules together, per hunt (text logs, event logs): the
/// most severe first, then the earliest, so memory stays flat however big the corpus
/// and however many rules fire; the rest are counted in a warning per rule.
pub const MAX_RULE_FINDINGS: usize = 10_000;
/// At most this many `--follow` trail entries are kept; the rest are counted.
pub(crate) const MAX_TRAIL: usize = 10_000;
/// The `--sigma` rules as a hunt runs them: the rules, and where the records and lines
/// their correlations need are kept until every log is read.
#[derive(Clone, Copy)]
pub struct SigmaRun<'a> {
    pub rules: &'a SigmaRules,
    fed: &'a Mutex<correlation::Correlating>,
}

/// What the hunt produced.
#[derive(Default)]
pub struct HuntResult {
    pub findings: Vec<Finding>,
    /// What was read of each text-log folder, in the inventory's order.
    pub text_logs: Vec<LogCoverage>,
    /// What was read of each event log, in the inventory's order.
    pub event_logs: Vec<LogCoverage>,
    /// With `--sigma`: what was read of the other `.evtx` files.
    pub other_event_logs: Vec<LogCoverage>,
    pub warnings: Vec<String>,
    /// Every logged request of the `--follow` RequestId or IP, oldest first.
    pub trail: Vec<TrailEntry>,
}

/// Hunts through the logs the inventory found. `shells` are the shells the file
/// sweep found, so that requests to them are reported; `indicators` name the known
/// shells' paths, so that requests to those are too.
pub fn hunt(
    evidence: &Evidence,
    inventory: &Inventory,
    indicators: &IndicatorSet,
    shells: &[ShellUrl],
    options: &HuntOptions,
    rules: Option<&SigmaRules>,
) -> HuntResult {
    let fed = Mutex::new(correlation::Correlating::default());
    let sigma = rules.map(|rules| SigmaRun { rules, fed: &fed });
    let exchange_root = inventory
        .exchange
        .as_ref()
        .map_or(DEFAULT_EXCHANGE_ROOT, |e| e.root.as_str());
    let selections: Vec<Needles> = inventory
        .logs
        .iter()
        .map(|dir| {
            // The Sigma rules that take these logs add the literals their matches
            // need, or ask for every line when one of them has none.
            let sigma = rules
                .filter(|s| s.reads_text(dir.source.name()))
                .map(|s| s.line_needles(dir.source.name()));
            match (logs::needles(&dir.source), sigma) {
                (None, _) | (_, Some(None)) => Needles::every_line(),
                (Some(mut needles), sigma) => {
                    needles.push(Needle::plain("#fields"));
                    // A header repeated anywhere in the file (logs of two builds put
                    // together) changes the columns of the rows after it.
                    needles.extend(parse::csv_header_start(&dir.source).map(Needle::plain));
                    needles.extend(
                        shells
                            .iter()
                            .flat_map(|s| parse::logged_spellings(&s.url))
                            .map(Needle::plain),
                    );
                    needles.extend(options.follow.iter().map(Needle::plain));
                    needles.extend(sigma.flatten().into_iter().flatten().map(Needle::plain));
                    Needles::new(&needles)
                }
            }
        })
        .collect();
    let ctx = LogContext {
        exchange_root,
        web_map: &inventory.web_map,
        indicators,
    };
    let shared = Mutex::new(Totals {
        findings: CappedFindings::new(MAX_CHECK_FINDINGS, MAX_FINDINGS_PER_RULE, MAX_RULE_FINDINGS),
        warnings: Vec::new(),
        trail: EarliestKept::new(MAX_TRAIL),
    });
    let stats: Vec<Mutex<LogCoverage>> = inventory
        .logs
        .iter()
        .map(|d| {
            Mutex::new(LogCoverage {
                source: Text::Owned(d.label()),
                windows_path: d.windows_path.clone(),
                ..LogCoverage::default()
            })
        })
        .collect();

    let text = TextRead {
        evidence,
        ctx: &ctx,
        shells,
        options,
        sigma,
        plan: &segments::Plan::new(SEGMENT, WAITING_BUDGET),
        shared: &shared,
    };
    // Reads text log files, each with the coverage slot of its folder.
    let read_text_logs = |files: Vec<(usize, &LogFile)>| {
        files
            .par_iter()
            .for_each(|(dir, file)| text.read(file, &selections[*dir], &stats[*dir]))
    };
    let events = events::EventHunt::new(inventory, sigma.is_some());
    // Loose files of a log the inventory's walk did not find (they came after it).
    let mut unknown = 0;
    if evidence.is_loose() {
        // A batch at a time, each file recognised again, in the folders and logs
        // the inventory found when it walked them.
        evidence.visit_loose(inventory::LOOSE_BATCH, &mut |files| {
            let batch = inventory::loose_batch(evidence, &files);
            let slot = |dir: &LogDir| {
                inventory
                    .logs
                    .iter()
                    .position(|known| known.label() == dir.label())
            };
            let mut files = Vec::new();
            for dir in &batch.logs {
                match slot(dir) {
                    Some(at) => files.extend(dir.files.iter().map(|f| (at, f))),
                    None => unknown += dir.files.len(),
                }
            }
            read_text_logs(files);
            unknown += events.read(
                evidence,
                &batch.event_logs,
                &batch.other_event_logs,
                options,
                sigma,
            );
        });
    } else {
        read_text_logs(
            inventory
                .logs
                .iter()
                .enumerate()
                .flat_map(|(i, dir)| dir.files.iter().map(move |f| (i, f)))
                .collect(),
        );
        events.read(
            evidence,
            &inventory.event_logs,
            &inventory.other_event_logs,
            options,
            sigma,
        );
    }

    let totals = shared.into_inner().unwrap();
    let mut result = HuntResult::default();
    if unknown > 0 {
        result.warnings.push(format!(
            "{unknown} loose file(s) of a log that was not there when the evidence was first \
             walked (the evidence changed during the scan) were not read"
        ));
    }
    result.warnings.extend(over_cap_warnings(&totals.findings));
    result.warnings.extend(totals.warnings);
    let shell_hits_capped = totals.findings.left_out_of(&logs::SHELL_ACCESS.id);
    let findings = correlate::merge_same_requests(totals.findings.into_findings());
    result.findings = correlate::aggregate_shell_access(findings, shell_hits_capped);
    if totals.trail.left_out() > 0 {
        result.warnings.push(format!(
            "--follow: {} logged requests; the {MAX_TRAIL} earliest are in the trail, {} left out",
            totals.trail.seen,
            totals.trail.left_out()
        ));
    }
    result.trail = totals.trail.into_sorted();
    result.text_logs = stats.into_iter().map(|c| c.into_inner().unwrap()).collect();
    let events = events.finish();
    finding::append(&mut result.findings, events.findings);
    result.event_logs = events.logs;
    result.other_event_logs = events.other_logs;
    result.warnings.extend(events.warnings);
    if let Some(rules) = rules {
        let fed = fed.into_inner().unwrap();
        result.warnings.extend(fed.warning());
        finding::append(&mut result.findings, fed.correlate(rules));
    }
    result
}

/// What the reads of the text log files share: the evidence, the checks' context and
/// options, and where the findings, warnings and trail go.
struct TextRead<'a> {
    evidence: &'a Evidence,
    ctx: &'a LogContext<'a>,
    shells: &'a [ShellUrl],
    options: &'a HuntOptions,
    sigma: Option<SigmaRun<'a>>,
    plan: &'a segments::Plan,
    shared: &'a Mutex<Totals>,
}

impl TextRead<'_> {
    /// Hunts through one text log file: its lines selected by `selection`, what it
    /// read added to its folder's `coverage`.
    fn read(&self, file: &LogFile, selection: &Needles, coverage: &Mutex<LogCoverage>) {
        let outcome = contain(&file.entry.windows_path, || {
            let mut sink = text::FileHunt::new(
                file,
                self.evidence.local_path(&file.entry),
                self.ctx,
                self.shells,
                self.options,
                self.sigma,
            );
            let (counts, error) =
                segments::select(self.evidence, &file.entry, selection, self.plan, &mut sink);
            let mut warnings = Vec::new();
            if let Some(e) = error {
                warnings.push(format!("cannot read log {}: {e}", file.entry.windows_path));
            }
            if counts.overlong_lines > 0 {
                warnings.push(format!(
                    "{}: {} line(s) over {} MiB skipped",
                    file.entry.windows_path,
                    counts.overlong_lines,
                    lines::MAX_LINE >> 20
                ));
            }
            if counts.nul_bytes > 0 {
                warnings.push(format!(
                    "{}: {} NUL byte(s): binary data in a text log (damaged or overwritten?)",
                    file.entry.windows_path, counts.nul_bytes
                ));
            }
            let mut read = sink.finish();
            warnings.append(&mut read.warnings);
            (counts, read, warnings)
        });
        let (counts, mut read, warnings) = match outcome {
            Ok(done) => done,
            Err(warning) => {
                self.shared.lock().unwrap().warnings.push(warning);
                return;
            }
        };
        read.coverage.files = 1;
        read.coverage.bytes = counts.bytes;
        read.coverage.lines = counts.lines;
        coverage.lock().unwrap().absorb(&read.coverage);
        self.shared
            .lock()
            .unwrap()
            .add(read.findings, read.trail, warnings);
    }
}

/// A warning for each check or rule that found more than it keeps.
pub(crate) fn over_cap_warnings(findings: &CappedFindings) -> Vec<String> {
    findings
        .over_cap()
        .into_iter()
        .map(|(id, count, kept)| {
            format!(
                "{id}: {count} hits; the {kept} earliest are kept as findings, {} left out",
                count - kept
            )
        })
        .collect()
}

/// What the files hunted so far found, under the caps.
struct Totals {
    findings: CappedFindings,
    warnings: Vec<String>,
    trail: EarliestKept<TrailEntry>,
}

impl Totals {
    fn add(
        &mut self,
        findings: Vec<Finding>,
        trail: EarliestKept<TrailEntry>,
        warnings: Vec<String>,
    ) {
        self.warnings.extend(warnings);
        self.trail.absorb(trail);
        for f in findings {
            self.findings.add(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_files_of_a_log_the_inventory_did_not_see_are_counted_in_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let iis = "#Software: Microsoft Internet Information Services 10.0\n\
                   #Fields: date time cs-method cs-uri-stem\n2021-03-03 02:50:00 GET /owa/\n";
        std::fs::write(dir.path().join("u_ex210303.log"), iis).unwrap();
        let evidence = Evidence::open(dir.path(), None, &[]).unwrap();
        let inventory = Inventory::take(&evidence, true);
        // Between the inventory's walk and the hunt's: an HttpProxy protocol folder.
        std::fs::create_dir(dir.path().join("Owa")).unwrap();
        std::fs::write(
            dir.path().join("Owa/HttpProxy_2021030302-1.LOG"),
            "#Software: Microsoft Exchange Server\n#Log-type: HttpProxy Logs\n",
        )
        .unwrap();
        let indicators = IndicatorSet::builtin();
        let result = hunt(
            &evidence,
            &inventory,
            &indicators,
            &[],
            &HuntOptions::default(),
            None,
        );
        assert!(
            result
                .warnings
                .iter()
                .any(|w| w.starts_with("1 loose file(s) of a log that was not there")),
            "{:?}",
            result.warnings
        );
        let iis = result.text_logs.iter().find(|l| l.source == "IIS").unwrap();
        assert_eq!((iis.files, iis.lines), (1, 3));
    }
}
