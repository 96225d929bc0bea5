//! The event-log part of the hunt: Application, MSExchange Management, Security,
//! Sysmon and Defender logs read with the `evtx` crate; damaged chunks and records
//! are counted and the file goes on.

use super::{max_time, min_time, HuntOptions};
use crate::checks::events::{self, Channel};
use exsweep_evidence::{winpath, Evidence};
use exsweep_logs::evtx::{read_records, RecordRead};
use exsweep_model::{printable, LogCoverage, LogEvidence};
use rayon::prelude::*;
use std::sync::Mutex;

const EVENT_LOG_DIR: &str = r"C:\Windows\System32\winevt\Logs";
/// An EVTX file inside a zip is decompressed into memory up to this size.
const MAX_EVTX_IN_MEMORY: u64 = 256 << 20;
const EXCERPT: usize = 600;

/// The event logs exsweep reads, by file name, and what their absence means.
const CHANNELS: [(Channel, &str, Option<&str>); 5] = [
    (Channel::Application, "Application.evtx", Some("Unified Messaging exploitation (CVE-2021-26857) was not assessed")),
    (
        Channel::ExchangeManagement,
        "MSExchange Management.evtx",
        Some("Exchange cmdlets run by attackers (mailbox exports, role assignments) were not assessed"),
    ),
    (Channel::Security, "Security.evtx", Some("process creation by the web server (4688) was not assessed")),
    (Channel::Sysmon, "Microsoft-Windows-Sysmon%4Operational.evtx", None),
    (Channel::Defender, "Microsoft-Windows-Windows Defender%4Operational.evtx", None),
];

/// Reads the event logs; findings, coverage and warnings go into the hunt's result.
pub fn hunt(evidence: &Evidence, options: &HuntOptions, result: &mut super::HuntResult) {
    let (entries, _) = evidence.list_files(&[EVENT_LOG_DIR.to_string()], &[]);
    let files: Vec<_> = entries
        .into_iter()
        .filter_map(|e| {
            let name = winpath::file_name(&e.windows_path).to_lowercase();
            let i = CHANNELS
                .iter()
                .position(|(_, file, _)| file.to_lowercase() == name)?;
            Some((i, e))
        })
        .collect();
    let coverage: Vec<Mutex<LogCoverage>> = CHANNELS
        .iter()
        .map(|(channel, file, _)| {
            Mutex::new(LogCoverage {
                source: channel.name(),
                windows_path: format!(r"{EVENT_LOG_DIR}\{file}"),
                ..LogCoverage::default()
            })
        })
        .collect();
    let findings = Mutex::new(Vec::new());
    let warnings = Mutex::new(Vec::new());
    files.par_iter().for_each(|(i, entry)| {
        let channel = CHANNELS[*i].0;
        let mut cov = LogCoverage::default();
        let mut found = Vec::new();
        let mut notes = Vec::new();
        let reader = match evidence.open_seekable(entry, MAX_EVTX_IN_MEMORY) {
            Ok(r) => r,
            Err(e) => {
                warnings
                    .lock()
                    .unwrap()
                    .push(format!("cannot read {}: {e}", entry.windows_path));
                return;
            }
        };
        let local = evidence.local_display(entry);
        let read = read_records(reader, |read| {
            let event = match read {
                RecordRead::Event(event) => {
                    cov.lines += 1;
                    event
                }
                RecordRead::Unrecognised => {
                    cov.lines += 1;
                    cov.parse_failures += 1;
                    return;
                }
                RecordRead::Damaged(e) => {
                    cov.parse_failures += 1;
                    if notes.len() < 5 {
                        notes.push(format!(
                            "{}: damaged record skipped: {e}",
                            entry.windows_path
                        ));
                    }
                    return;
                }
            };
            cov.first = min_time(cov.first, event.time);
            cov.last = max_time(cov.last, event.time);
            if event.time.is_some_and(|t| {
                options.since.is_some_and(|s| t < s) || options.until.is_some_and(|u| t > u)
            }) {
                return;
            }
            let mut hits = Vec::new();
            events::check_event(channel, &event, &mut hits);
            if hits.is_empty() {
                return;
            }
            let text: String = format!("{} {} {}", event.provider, event.event_id, event.text())
                .chars()
                .take(EXCERPT)
                .collect();
            let evidence = LogEvidence {
                source: channel.name(),
                windows_path: entry.windows_path.clone(),
                local_path: local.clone(),
                line: event.record_id,
                time: event.time,
                user: event
                    .get("SubjectUserName")
                    .or(event.get("User"))
                    .map(str::to_string),
                excerpt: printable(text.as_bytes()),
                ..LogEvidence::default()
            };
            for mut f in hits {
                f.log = Some(evidence.clone());
                found.push(f);
            }
        });
        if let Err(e) = read {
            warnings.lock().unwrap().push(format!(
                "{} is not a readable EVTX file: {e}",
                entry.windows_path
            ));
            return;
        }
        cov.files = 1;
        cov.bytes = entry.size;
        {
            let mut total = coverage[*i].lock().unwrap();
            total.files += cov.files;
            total.bytes += cov.bytes;
            total.lines += cov.lines;
            total.parse_failures += cov.parse_failures;
            total.first = min_time(total.first, cov.first);
            total.last = max_time(total.last, cov.last);
        }
        findings.lock().unwrap().extend(found);
        warnings.lock().unwrap().extend(notes);
    });
    result.findings.extend(findings.into_inner().unwrap());
    result.warnings.extend(warnings.into_inner().unwrap());
    for (cov, (_, _, consequence)) in coverage.into_iter().zip(CHANNELS) {
        let mut cov = cov.into_inner().unwrap();
        match consequence {
            Some(c) if cov.files == 0 => cov.consequence = Some(format!("no log found: {c}")),
            None if cov.files == 0 => continue, // optional channel: its absence is normal
            _ => {}
        }
        result.coverage.push(cov);
    }
}
