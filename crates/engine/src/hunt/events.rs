//! The event-log part of the hunt: the Application, MSExchange Management, Security,
//! Sysmon and Defender logs the inventory found, read with the `evtx` crate through
//! [`exsweep_logs::evtx`]; damaged chunks and records are counted and the file goes on.

use super::{max_time, min_time, HuntOptions, HuntResult, EXCERPT};
use crate::checks::events;
use crate::inventory::Inventory;
use exsweep_evidence::Evidence;
use exsweep_logs::evtx::{read_records, RecordRead};
use exsweep_model::{
    printable, Entities, EventEvidence, Evidence as Seen, Finding, LogCoverage, Text,
};
use rayon::prelude::*;
use std::sync::Mutex;

/// An EVTX file inside a zip is decompressed into memory up to this size.
const MAX_EVTX_IN_MEMORY: u64 = 256 << 20;
/// At most this many damaged-record warnings per file; the count stays exact.
const DAMAGE_WARNINGS: usize = 5;

/// Reads the event logs; findings, per-log coverage and warnings go into `result`.
pub fn hunt(
    evidence: &Evidence,
    inventory: &Inventory,
    options: &HuntOptions,
    result: &mut HuntResult,
) {
    let files: Vec<_> = inventory
        .event_logs
        .iter()
        .enumerate()
        .flat_map(|(i, log)| log.files.iter().map(move |f| (i, log.channel, f)))
        .collect();
    let coverage: Vec<Mutex<LogCoverage>> = inventory
        .event_logs
        .iter()
        .map(|log| {
            Mutex::new(LogCoverage {
                source: Text::Borrowed(log.channel.name()),
                windows_path: log.windows_path.clone(),
                ..LogCoverage::default()
            })
        })
        .collect();
    let findings = Mutex::new(Vec::new());
    let warnings = Mutex::new(Vec::new());
    files.par_iter().for_each(|(i, channel, entry)| {
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
        let local = evidence.local_path(entry);
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
                    if notes.len() < DAMAGE_WARNINGS {
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
            if options.outside_window(event.time) {
                return;
            }
            let mut hits = Vec::new();
            events::check_event(*channel, &event, &mut hits);
            if hits.is_empty() {
                return;
            }
            let text: String = format!("{} {} {}", event.provider, event.event_id, event.text())
                .chars()
                .take(EXCERPT)
                .collect();
            let seen = EventEvidence {
                source: Text::Borrowed(channel.name()),
                windows_path: entry.windows_path.clone(),
                local: local.clone(),
                record_id: event.record_id,
                time: event.time,
                provider: event.provider.clone(),
                event_id: event.event_id,
                excerpt: printable(text.as_bytes()),
            };
            let entities = Entities {
                user: event
                    .get("SubjectUserName")
                    .or(event.get("User"))
                    .map(str::to_string),
                process: event
                    .get("NewProcessName")
                    .or(event.get("Image"))
                    .map(str::to_string),
                ..Entities::default()
            };
            for hit in hits {
                found.push(Finding::new(
                    hit,
                    Seen::EventRecord(seen.clone()),
                    entities.clone(),
                ));
            }
        });
        if let Err(e) = read {
            warnings.lock().unwrap().push(format!(
                "{} is not a readable EVTX file: {e}",
                entry.windows_path
            ));
            return;
        }
        {
            let mut total = coverage[*i].lock().unwrap();
            total.files += 1;
            total.bytes += entry.size;
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
    result.event_logs = coverage
        .into_iter()
        .map(|c| c.into_inner().unwrap())
        .collect();
}
