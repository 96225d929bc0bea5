//! The event-log part of the hunt: the Application, MSExchange Management, Security,
//! Sysmon and Defender logs the inventory found, read with the `evtx` crate through
//! [`exsweep_logs::evtx`]; damaged chunks and records are counted and the file goes on.
//! With `--sigma`, every record also goes through the Sigma rules, and the other
//! `.evtx` files of the event-log folder (PowerShell, Task Scheduler ...) are read for
//! them alone.

use super::cap::CappedFindings;
use super::correlation::{self, LogOf, Place};
use super::options::HuntOptions;
use super::SigmaRun;
use crate::checks::{self, events};
use crate::contain::contain;
use crate::inventory::{EventLog, Inventory, OtherEventLog};
use exsweep_evidence::Evidence;
use exsweep_logs::evtx::{read_records, EventRecord, RecordRead};
use exsweep_model::{
    excerpt, Entities, EventEvidence, Evidence as Seen, Finding, LogCoverage, Text,
};
use rayon::prelude::*;
use std::sync::Mutex;

/// An EVTX file inside a zip or `.gz` is decompressed into memory up to this size.
pub const MAX_EVTX_IN_MEMORY: u64 = 256 << 20;
/// At most this many damaged-record warnings per file; the count stays exact.
const DAMAGE_WARNINGS: usize = 5;

/// What the event logs gave.
pub struct EventsRead {
    pub findings: Vec<Finding>,
    /// What was read of each event log, in the inventory's order.
    pub logs: Vec<LogCoverage>,
    /// With `--sigma`: what was read of each other event log.
    pub other_logs: Vec<LogCoverage>,
    pub warnings: Vec<String>,
}

/// The account a record's process acted as: Sysmon's `User`; for a Security 4688 the
/// new process's (`TargetDomainName\TargetUserName`, written since Windows 10 and
/// Server 2016 when it differs from its creator's), else the creator's, the
/// subject's (`SubjectDomainName\SubjectUserName`), as for other records.
fn actor(event: &EventRecord) -> Option<String> {
    let named = |name: &str| event.get(name).filter(|v| !v.is_empty() && *v != "-");
    let account = |domain: &str, user: &str| {
        named(user).map(|u| match named(domain) {
            Some(d) => format!("{d}\\{u}"),
            None => u.to_string(),
        })
    };
    named("User").map(str::to_string).or_else(|| {
        (event.event_id == 4688)
            .then(|| account("TargetDomainName", "TargetUserName"))
            .flatten()
            .or_else(|| account("SubjectDomainName", "SubjectUserName"))
    })
}

/// The event-log part of one hunt: the coverage of each event log the inventory
/// found (the built-in ones, then the others `--sigma` reads), and what their files
/// gave, as they are read (all at once, or a batch of loose files after another).
pub struct EventHunt {
    /// How many of the coverage slots are the built-in event logs'.
    known: usize,
    /// The other event logs' names, in their slots' order.
    others: Vec<String>,
    coverage: Vec<Mutex<LogCoverage>>,
    findings: Mutex<CappedFindings>,
    warnings: Mutex<Vec<String>>,
}

impl EventHunt {
    /// The event logs of `inventory`; the other event logs count only `with_sigma`.
    pub fn new(inventory: &Inventory, with_sigma: bool) -> EventHunt {
        let others: &[OtherEventLog] = if with_sigma {
            &inventory.other_event_logs
        } else {
            &[]
        };
        let coverage = inventory
            .event_logs
            .iter()
            .map(|log| {
                Mutex::new(LogCoverage {
                    source: Text::Borrowed(log.channel.name()),
                    windows_path: log.windows_path.clone(),
                    ..LogCoverage::default()
                })
            })
            .chain(others.iter().map(|log| {
                Mutex::new(LogCoverage {
                    source: Text::Owned(log.name.clone()),
                    windows_path: log.windows_path.clone(),
                    ..LogCoverage::default()
                })
            }))
            .collect();
        EventHunt {
            known: inventory.event_logs.len(),
            others: others.iter().map(|log| log.name.clone()).collect(),
            coverage,
            findings: Mutex::new(CappedFindings::new(
                super::MAX_CHECK_FINDINGS,
                super::MAX_FINDINGS_PER_RULE,
                super::MAX_RULE_FINDINGS,
            )),
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// Reads the files of these event logs, in parallel: the built-in ones in the
    /// inventory's order, the others by name (with `--sigma` only). Returns how many
    /// files were of another log the inventory did not have, and were not read.
    pub fn read(
        &self,
        evidence: &Evidence,
        event_logs: &[EventLog],
        others: &[OtherEventLog],
        options: &HuntOptions,
        sigma: Option<SigmaRun>,
    ) -> usize {
        // (coverage slot, the channel its built-in checks know it as, the file)
        let mut files: Vec<_> = event_logs
            .iter()
            .enumerate()
            .flat_map(|(i, log)| log.files.iter().map(move |f| (i, Some(log.channel), f)))
            .collect();
        let mut unknown = 0;
        for log in others.iter().filter(|_| sigma.is_some()) {
            match self.others.iter().position(|name| *name == log.name) {
                Some(j) => files.extend(log.files.iter().map(|f| (self.known + j, None, f))),
                None => unknown += log.files.len(),
            }
        }
        let (coverage, findings, warnings) = (&self.coverage, &self.findings, &self.warnings);
        files.par_iter().for_each(|(i, channel, entry)| {
            let mut log_of = None;
            let mut cov = LogCoverage::default();
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
            let read = contain(&entry.windows_path, || {
                read_records(reader, |read| {
                    let event = match read {
                        RecordRead::Event(event) => {
                            cov.lines += 1;
                            cov.parsed += 1;
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
                    cov.saw(event.time);
                    if options.outside_window(event.time) {
                        return;
                    }
                    let mut hits = Vec::new();
                    if let Some(channel) = channel {
                        events::check_event(*channel, &event, &mut hits);
                    }
                    let source = || match channel {
                        Some(channel) => Text::Borrowed(channel.name()),
                        None => Text::Owned(format!("EVTX {}", event.channel)),
                    };
                    if let Some(sigma) = sigma {
                        let record = checks::sigma::evtx_record(&event);
                        let evaluation = sigma.rules.evaluate_evtx(&record);
                        hits.extend(evaluation.hits.iter().map(checks::sigma::sigma_hit));
                        correlation::feed(
                            sigma.fed,
                            evaluation.correlation,
                            event.time,
                            &mut log_of,
                            || LogOf {
                                source: source(),
                                windows_path: entry.windows_path.clone(),
                                local: local.clone(),
                            },
                            || Place::Record {
                                record_id: event.record_id,
                                event_id: event.event_id,
                                provider: event.provider.clone(),
                            },
                        );
                    }
                    if hits.is_empty() {
                        return;
                    }
                    let text = format!("{} {} {}", event.provider, event.event_id, event.text());
                    let seen = EventEvidence {
                        source: source(),
                        windows_path: entry.windows_path.clone(),
                        local: local.clone(),
                        record_id: event.record_id,
                        time: event.time,
                        provider: event.provider.clone(),
                        event_id: event.event_id,
                        excerpt: excerpt(&text),
                    };
                    let entities = Entities {
                        user: actor(&event),
                        process: event
                            .get("NewProcessName")
                            .or(event.get("Image"))
                            .map(str::to_string),
                        ..Entities::default()
                    };
                    // Straight into the capped set: a noisy rule over a big log keeps
                    // only its earliest findings in memory.
                    let mut kept = findings.lock().unwrap();
                    for hit in hits {
                        kept.add(Finding::new(
                            hit,
                            Seen::EventRecord(seen.clone()),
                            entities.clone(),
                        ));
                    }
                })
            });
            match read {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    warnings.lock().unwrap().push(format!(
                        "{} is not a readable EVTX file: {e}",
                        entry.windows_path
                    ));
                    return;
                }
                Err(warning) => {
                    warnings.lock().unwrap().push(warning);
                    return;
                }
            }
            cov.files = 1;
            cov.bytes = entry.size;
            coverage[*i].lock().unwrap().absorb(&cov);
            warnings.lock().unwrap().extend(notes);
        });
        unknown
    }

    /// What the event logs gave.
    pub fn finish(self) -> EventsRead {
        let mut logs: Vec<LogCoverage> = self
            .coverage
            .into_iter()
            .map(|c| c.into_inner().unwrap())
            .collect();
        let other_logs = logs.split_off(self.known);
        let findings = self.findings.into_inner().unwrap();
        let mut warnings = self.warnings.into_inner().unwrap();
        warnings.extend(super::over_cap_warnings(&findings));
        EventsRead {
            findings: findings.into_findings(),
            logs,
            other_logs,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event_id: u64, data: &[(&str, &str)]) -> EventRecord {
        EventRecord {
            event_id,
            data: data
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..EventRecord::default()
        }
    }

    #[test]
    fn the_actor_comes_from_the_field_that_names_it() {
        let creator = [
            ("SubjectUserName", "EXCH01$"),
            ("SubjectDomainName", "CORP"),
        ];
        // 4688 with the new process's account: that account.
        let mut with_target = creator.to_vec();
        with_target.extend([
            ("TargetUserName", "SYSTEM"),
            ("TargetDomainName", "NT AUTHORITY"),
        ]);
        assert_eq!(
            actor(&record(4688, &with_target)).as_deref(),
            Some(r"NT AUTHORITY\SYSTEM")
        );
        // Without one (older Windows, or "-"): the creator.
        let mut dashed = creator.to_vec();
        dashed.extend([("TargetUserName", "-"), ("TargetDomainName", "-")]);
        assert_eq!(
            actor(&record(4688, &dashed)).as_deref(),
            Some(r"CORP\EXCH01$")
        );
        // Other Security events name their subject; Sysmon its User.
        let mut cleared = creator.to_vec();
        cleared.push(("TargetUserName", "bob"));
        assert_eq!(
            actor(&record(1102, &cleared)).as_deref(),
            Some(r"CORP\EXCH01$")
        );
        assert_eq!(
            actor(&record(1, &[("User", r"NT AUTHORITY\SYSTEM")])).as_deref(),
            Some(r"NT AUTHORITY\SYSTEM")
        );
        assert_eq!(actor(&record(4688, &[])), None);
    }
}
