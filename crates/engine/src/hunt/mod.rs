//! The log hunt: finds the server's logs by kind, streams each once, selects the lines
//! any check could concern (see [`lines`]), parses those by the file's own header
//! ([`parse`]) and runs the log checks on them; the event logs in [`events`]. Files are read in parallel, one chunk
//! at a time, so memory stays flat whatever the logs' size.

pub mod events;

use crate::checks::logs::{self, LogContext};
use crate::inventory::Inventory;
use exsweep_evidence::known::DEFAULT_EXCHANGE_ROOT;
use exsweep_evidence::{winpath, Evidence, FileEntry};
use exsweep_logs::lines::{self, LineSink, Needle, Needles};
use exsweep_logs::parse::{self, Columns, Fields};
use exsweep_logs::{segments, LogSource};
use exsweep_model::{printable, Finding, LogCoverage, LogEvidence};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Logs at least twice this size on disk are selected in segments of it, in parallel.
const SEGMENT: u64 = 32 << 20;
/// Selected lines of segments waiting for their turn, at most (bytes).
const WAITING_BUDGET: usize = 64 << 20;
/// Per check, at most this many findings are kept; the rest are counted.
const MAX_FINDINGS_PER_CHECK: usize = 5_000;
const EXCERPT: usize = 600;
/// Investigations start here: logs that begin later may miss the 2021 campaign.
const CAMPAIGN_START: u64 = 1_609_459_200; // 2021-01-01

/// A folder of logs of one kind, and what its absence means.
struct SourceDir {
    source: LogSource,
    windows_path: String,
    /// Only files whose name contains this (lower case) belong to the source.
    name_contains: &'static str,
    consequence: &'static str,
}

fn source_dirs(exchange_root: &str) -> Vec<SourceDir> {
    let log = |rel: &str| format!(r"{exchange_root}\Logging\{rel}");
    vec![
        SourceDir {
            source: LogSource::HttpProxy {
                protocol: String::new(),
            },
            windows_path: log("HttpProxy"),
            name_contains: ".log",
            consequence:
                "ProxyLogon (CVE-2021-26855, 27065) exploitation in the front end was not assessed",
        },
        SourceDir {
            source: LogSource::EcpServer,
            windows_path: log(r"ECP\Server"),
            name_contains: ".log",
            consequence: "virtual-directory web-shell writes (CVE-2021-27065) were not assessed",
        },
        SourceDir {
            source: LogSource::EcpActivity,
            windows_path: log(r"ECP\Activity"),
            name_contains: ".log",
            consequence: "ECP activity was not assessed",
        },
        SourceDir {
            source: LogSource::OabGenerator,
            windows_path: log("OABGeneratorLog"),
            name_contains: ".log",
            consequence: "OAB generator file writes (CVE-2021-26858) were not assessed",
        },
        SourceDir {
            source: LogSource::RpsHttp,
            windows_path: log(r"CmdletInfra\Powershell-Proxy\Http"),
            name_contains: "rps_http",
            consequence: "remote PowerShell requests were not assessed",
        },
        SourceDir {
            source: LogSource::Iis,
            windows_path: r"C:\inetpub\logs\LogFiles".into(),
            name_contains: ".log",
            consequence:
                "web-shell use and ProxyShell/ProxyNotShell requests in IIS logs were not assessed",
        },
    ]
}

/// A log file and its kind.
struct LogFile {
    source: LogSource,
    source_index: usize,
    entry: FileEntry,
}

/// The log hunt's settings.
#[derive(Default)]
pub struct HuntOptions {
    pub since: Option<SystemTime>,
    pub until: Option<SystemTime>,
    /// A RequestId or client IP whose every logged request is collected.
    pub follow: Option<String>,
}

/// What the hunt produced.
#[derive(Default)]
pub struct HuntResult {
    pub findings: Vec<Finding>,
    pub coverage: Vec<LogCoverage>,
    pub warnings: Vec<String>,
    /// Every logged request of the `--follow` RequestId or IP, oldest first.
    pub trail: Vec<LogEvidence>,
}

/// URL paths of web shells the file sweep found, mapped from their Windows paths.
pub fn shell_urls(findings: &[Finding], inventory: &Inventory) -> Vec<(String, String)> {
    let ex = inventory
        .exchange
        .as_ref()
        .map_or(DEFAULT_EXCHANGE_ROOT, |e| e.root.as_str());
    let mut bases = vec![winpath::key(&format!(r"{ex}\FrontEnd\HttpProxy"))];
    bases.extend(inventory.web_roots.iter().map(|r| winpath::key(r)));
    let mut urls: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f.severity >= exsweep_model::Severity::High)
        .filter_map(|f| f.file.as_ref())
        .filter_map(|file| {
            let key = winpath::key(&file.windows_path);
            bases.iter().find_map(|base| {
                let rest = key.strip_prefix(base.as_str())?;
                rest.starts_with('\\')
                    .then(|| (rest.replace('\\', "/"), file.windows_path.clone()))
            })
        })
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

/// Hunts through the logs. `shells` are `(url path, Windows path)` of shells on disk.
pub fn hunt(
    evidence: &Evidence,
    inventory: &Inventory,
    shells: &[(String, String)],
    options: &HuntOptions,
) -> HuntResult {
    let exchange_root = inventory
        .exchange
        .as_ref()
        .map_or(DEFAULT_EXCHANGE_ROOT, |e| e.root.as_str());
    let dirs = source_dirs(exchange_root);
    let mut files = Vec::new();
    let mut result = HuntResult::default();
    for (i, dir) in dirs.iter().enumerate() {
        let (entries, listing) = evidence.list_files(std::slice::from_ref(&dir.windows_path), &[]);
        result.warnings.extend(listing.warnings);
        let dir_key = winpath::key(&dir.windows_path);
        for entry in entries {
            let name = winpath::file_name(&entry.windows_path).to_lowercase();
            if !name.contains(dir.name_contains) {
                continue;
            }
            let source = match &dir.source {
                // The protocol is the first folder below HttpProxy, as the server spelled it.
                LogSource::HttpProxy { .. } => LogSource::HttpProxy {
                    protocol: entry.windows_path[dir_key.len()..]
                        .trim_start_matches('\\')
                        .split('\\')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                },
                other => other.clone(),
            };
            files.push(LogFile {
                source,
                source_index: i,
                entry,
            });
        }
    }

    let selections: Vec<Needles> = dirs
        .iter()
        .map(|dir| match logs::needles(&dir.source) {
            None => Needles::every_line(),
            Some(mut needles) => {
                needles.push(Needle::plain("#fields"));
                needles.extend(shells.iter().map(|(url, _)| Needle::plain(url.as_str())));
                needles.extend(options.follow.iter().map(Needle::plain));
                Needles::new(&needles)
            }
        })
        .collect();
    let ctx = LogContext { exchange_root };
    let shared = Mutex::new(FileTotals::default());
    let stats: Vec<Mutex<LogCoverage>> = dirs
        .iter()
        .map(|d| {
            Mutex::new(LogCoverage {
                source: d.source.name(),
                windows_path: d.windows_path.clone(),
                ..LogCoverage::default()
            })
        })
        .collect();

    let plan = segments::Plan::new(SEGMENT, WAITING_BUDGET);
    files.par_iter().for_each(|file| {
        let mut sink = FileHunt {
            file,
            local: evidence.local_display(&file.entry),
            columns: None,
            ctx: &ctx,
            shells,
            options,
            findings: Vec::new(),
            trail: Vec::new(),
            parse_failures: 0,
            first: None,
            last: None,
        };
        let (counts, error) = segments::select(
            evidence,
            &file.entry,
            &selections[file.source_index],
            &plan,
            &mut sink,
        );
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
        {
            let mut cov = stats[file.source_index].lock().unwrap();
            cov.files += 1;
            cov.bytes += counts.bytes;
            cov.lines += counts.lines;
            cov.parse_failures += sink.parse_failures;
            cov.first = min_time(cov.first, sink.first);
            cov.last = max_time(cov.last, sink.last);
        }
        let mut totals = shared.lock().unwrap();
        totals.warnings.extend(warnings);
        totals.trail.extend(sink.trail);
        for f in sink.findings {
            let count = totals.per_check.entry(f.check_id).or_default();
            *count += 1;
            if *count <= MAX_FINDINGS_PER_CHECK {
                totals.findings.push(f);
            }
        }
    });

    let totals = shared.into_inner().unwrap();
    for (id, count) in &totals.per_check {
        if *count > MAX_FINDINGS_PER_CHECK {
            result.warnings.push(format!(
                "{id}: {count} hits, the first {MAX_FINDINGS_PER_CHECK} kept as findings"
            ));
        }
    }
    result.warnings.extend(totals.warnings);
    let shell_hits_capped = totals
        .per_check
        .get(logs::SHELL_ACCESS.id)
        .copied()
        .unwrap_or(0)
        > MAX_FINDINGS_PER_CHECK;
    result.findings = aggregate_shell_access(totals.findings, shell_hits_capped);
    result
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    result.trail = totals.trail;
    result.trail.sort_by_key(|t| t.time);
    let campaign_start = SystemTime::UNIX_EPOCH + Duration::from_secs(CAMPAIGN_START);
    for (dir, cov) in dirs.iter().zip(stats) {
        let mut cov = cov.into_inner().unwrap();
        if cov.files == 0 {
            cov.consequence = Some(format!("no logs found: {}", dir.consequence));
        } else if cov.first.is_some_and(|t| t > campaign_start) {
            cov.consequence = Some(format!(
                "starts after 2021-01-01: activity before that (the 2021 campaigns) was not assessed; {}",
                dir.consequence.split(" were").next().unwrap_or("")
            ));
        }
        result.coverage.push(cov);
    }
    events::hunt(evidence, options, &mut result);
    result
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    result
}

pub(crate) fn min_time(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub(crate) fn max_time(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[derive(Default)]
struct FileTotals {
    findings: Vec<Finding>,
    per_check: HashMap<&'static str, usize>,
    warnings: Vec<String>,
    trail: Vec<LogEvidence>,
}

/// Folds the per-request hits on each shell URL into one finding per shell: who used
/// it, when, and how often. `capped`: only the first hits were kept, so the counts and
/// the last time are lower bounds.
fn aggregate_shell_access(findings: Vec<Finding>, capped: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut by_url: HashMap<String, Vec<Finding>> = HashMap::new();
    for f in findings {
        if f.check_id == logs::SHELL_ACCESS.id {
            by_url.entry(f.detail.clone()).or_default().push(f);
        } else {
            out.push(f);
        }
    }
    for (shell, mut hits) in by_url {
        hits.sort_by_key(|f| f.time());
        let mut ips: Vec<String> = hits
            .iter()
            .filter_map(|f| f.log.as_ref()?.client_ip.clone())
            .collect();
        ips.sort();
        ips.dedup();
        let when = |f: &Finding| {
            f.time()
                .map(exsweep_model::rfc3339)
                .unwrap_or_else(|| "?".into())
        };
        let mut first = hits[0].clone();
        first.detail = format!(
            "{shell} was requested {}{} time(s) between {} and {} from {}. The first request is shown.",
            if capped { "at least " } else { "" },
            hits.len(),
            when(&hits[0]),
            when(hits.last().expect("non-empty")),
            if ips.is_empty() { "unknown addresses".to_string() } else { ips.join(", ") }
        );
        out.push(first);
    }
    out
}

/// The per-file state of the hunt: the header in force and what was found.
struct FileHunt<'a> {
    file: &'a LogFile,
    local: String,
    columns: Option<Columns>,
    ctx: &'a LogContext<'a>,
    shells: &'a [(String, String)],
    options: &'a HuntOptions,
    findings: Vec<Finding>,
    trail: Vec<LogEvidence>,
    parse_failures: u64,
    first: Option<SystemTime>,
    last: Option<SystemTime>,
}

impl FileHunt<'_> {
    fn parse(&mut self, text: &str) -> Option<Fields> {
        let source = &self.file.source;
        if source == &LogSource::OabGenerator {
            return Some(parse::free_text(text));
        }
        let columns = self.columns.get_or_insert_with(|| source.default_columns());
        let record: Vec<String> = if source.is_w3c() {
            text.split(' ').map(str::to_string).collect()
        } else {
            parse::split_csv(text)
        };
        if columns.is_empty() {
            return None;
        }
        let mut fields = if source.is_w3c() {
            parse::iis(columns, &record)
        } else {
            parse::exchange_csv(columns, &record)
        };
        // A record without a readable time is not a record of this log.
        fields.time?;
        if matches!(source, LogSource::EcpServer | LogSource::EcpActivity) && fields.text.is_none()
        {
            fields.text = Some(text.to_string());
        }
        Some(fields)
    }

    fn evidence(&self, fields: &Fields, number: u64, text: &str) -> LogEvidence {
        let cut: String = text.chars().take(EXCERPT).collect();
        LogEvidence {
            source: self.file.source.name(),
            windows_path: self.file.entry.windows_path.clone(),
            local_path: self.local.clone(),
            line: number,
            time: fields.time,
            client_ip: fields.client_ip.clone(),
            user_agent: fields.user_agent.clone(),
            method: fields.method.clone(),
            url: fields.url_stem.as_ref().map(|s| match &fields.url_query {
                Some(q) => format!("{s}?{q}"),
                None => s.clone(),
            }),
            status: fields.status.clone(),
            request_id: fields.request_id.clone(),
            user: fields.user.clone(),
            excerpt: printable(cut.as_bytes()),
        }
    }
}

impl LineSink for FileHunt<'_> {
    fn line(&mut self, line: &[u8], number: u64) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_start_matches('\u{feff}');
        if text.is_empty() {
            return;
        }
        if let Some(header) = text.strip_prefix('#') {
            if let Some(fields) = header.strip_prefix("Fields:") {
                let sep = if self.file.source.is_w3c() { ' ' } else { ',' };
                self.columns = Some(Columns::new(fields.trim().split(sep)));
            }
            return;
        }
        if self.file.source.is_csv()
            && self.columns.is_none()
            && !text.as_bytes()[0].is_ascii_digit()
        {
            // A bare CSV header (`DateTime,RequestId,...`).
            self.columns = Some(Columns::new(text.split(',')));
            return;
        }
        let Some(fields) = self.parse(text) else {
            self.parse_failures += 1;
            return;
        };
        self.first = min_time(self.first, fields.time);
        self.last = max_time(self.last, fields.time);
        if let (Some(t), Some(since)) = (fields.time, self.options.since) {
            if t < since {
                return;
            }
        }
        if let (Some(t), Some(until)) = (fields.time, self.options.until) {
            if t > until {
                return;
            }
        }
        let mut found = Vec::new();
        logs::check_line(&self.file.source, &fields, text, self.ctx, &mut found);
        let stem = fields
            .url_stem
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        if let Some((_, path)) = self.shells.iter().find(|(url, _)| *url == stem) {
            found.push(logs::SHELL_ACCESS.finding(path.clone()));
        }
        let follow = self.options.follow.as_deref().is_some_and(|needle| {
            fields
                .request_id
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(needle))
                || fields.client_ip.as_deref() == Some(needle)
                || text
                    .to_ascii_lowercase()
                    .contains(&needle.to_ascii_lowercase())
        });
        if found.is_empty() && !follow {
            return;
        }
        let evidence = self.evidence(&fields, number, text);
        if follow {
            self.trail.push(evidence.clone());
        }
        for mut f in found {
            f.log = Some(evidence.clone());
            self.findings.push(f);
        }
    }
}
