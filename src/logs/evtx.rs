//! Windows event logs (EVTX), read with the `evtx` crate: Application, MSExchange
//! Management, Security, Sysmon and Defender. Each record is flattened to its provider,
//! event ID, level, time and `EventData` values; damaged chunks and records are
//! counted and the file goes on.

use super::{max_time, min_time, HuntOptions};
use crate::checks::events::{self, Channel};
use crate::evidence::{winpath, Evidence};
use crate::findings::{printable, LogCoverage, LogEvidence};
use rayon::prelude::*;
use serde_json::Value;
use std::sync::Mutex;
use std::time::SystemTime;

const EVENT_LOG_DIR: &str = r"C:\Windows\System32\winevt\Logs";
/// An EVTX file inside a zip is decompressed into memory up to this size.
const MAX_EVTX_IN_MEMORY: u64 = 256 << 20;
const EXCERPT: usize = 600;

/// One event record, flattened.
#[derive(Debug, Default)]
pub struct EventRecord {
    pub record_id: u64,
    pub time: Option<SystemTime>,
    pub provider: String,
    pub event_id: u64,
    pub level: u8,
    /// `EventData` / `UserData` values with their names (empty for unnamed `Data`).
    pub data: Vec<(String, String)>,
}

impl EventRecord {
    /// The value of a named field, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The n-th value, named or not (MSExchange CmdletLogs puts the cmdlet first).
    pub fn value(&self, index: usize) -> Option<&str> {
        self.data.get(index).map(|(_, v)| v.as_str())
    }

    /// Every value, for matching a command line or message anywhere in the record.
    pub fn text(&self) -> String {
        self.data
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => o.get("#text").and_then(scalar),
        _ => None,
    }
}

fn flatten(name: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(name, i, out)),
        Value::Object(map) if !map.contains_key("#text") => {
            for (k, child) in map {
                if k != "#attributes" {
                    // `Data` entries are unnamed values; anything else names its value.
                    let key = if k == "Data" { name } else { k.as_str() };
                    flatten(key, child, out);
                }
            }
        }
        Value::Object(map) => match map.get("#text") {
            Some(Value::Array(items)) => items.iter().for_each(|i| flatten(name, i, out)),
            Some(text) => flatten(name, text, out),
            None => {}
        },
        other => {
            if let Some(s) = scalar(other) {
                out.push((name.to_string(), s));
            }
        }
    }
}

/// Flattens one record's JSON (as the `evtx` crate renders it).
pub fn record_from_json(record_id: u64, json: &Value) -> Option<EventRecord> {
    let event = json.get("Event")?;
    let system = event.get("System")?;
    let provider = system
        .pointer("/Provider/#attributes/Name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let event_id = system.get("EventID").and_then(scalar)?.parse().ok()?;
    let level = system
        .get("Level")
        .and_then(scalar)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let time = system
        .pointer("/TimeCreated/#attributes/SystemTime")
        .and_then(Value::as_str)
        .and_then(super::parse::parse_timestamp);
    let mut data = Vec::new();
    for section in ["EventData", "UserData"] {
        if let Some(v) = event.get(section) {
            flatten("", v, &mut data);
        }
    }
    Some(EventRecord {
        record_id,
        time,
        provider,
        event_id,
        level,
        data,
    })
}

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
        let mut parser = match evtx::EvtxParser::from_read_seek(reader) {
            Ok(p) => p,
            Err(e) => {
                warnings.lock().unwrap().push(format!(
                    "{} is not a readable EVTX file: {e}",
                    entry.windows_path
                ));
                return;
            }
        };
        let local = evidence.local_display(entry);
        for record in parser.records_json_value() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    cov.parse_failures += 1;
                    if notes.len() < 5 {
                        notes.push(format!(
                            "{}: damaged record skipped: {e}",
                            entry.windows_path
                        ));
                    }
                    continue;
                }
            };
            cov.lines += 1;
            let Some(event) = record_from_json(record.event_record_id, &record.data) else {
                cov.parse_failures += 1;
                continue;
            };
            cov.first = min_time(cov.first, event.time);
            cov.last = max_time(cov.last, event.time);
            if event.time.is_some_and(|t| {
                options.since.is_some_and(|s| t < s) || options.until.is_some_and(|u| t > u)
            }) {
                continue;
            }
            let mut hits = Vec::new();
            events::check_event(channel, &event, &mut hits);
            if hits.is_empty() {
                continue;
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
