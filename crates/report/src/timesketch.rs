//! Timesketch's JSONL: one event per timestamp, oldest first, with the fields
//! Timesketch requires (`message`, `datetime`, `timestamp` in epoch microseconds,
//! `timestamp_desc`) and the finding's ID on each of its events, so that a file's
//! modified and created events stay one finding in the sketch.

use crate::jsonl::write_record;
use crate::timeline::{epoch_micros, events};
use exsweep_model::{rfc3339, Report};
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Event<'a> {
    message: String,
    datetime: String,
    timestamp: i64,
    timestamp_desc: &'a str,
    /// Shared by every event of one finding.
    exsweep_finding_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exsweep_incident: Option<&'a str>,
    check_id: &'a str,
    severity: &'static str,
    class: &'static str,
    score: u8,
    host: &'a str,
    scan_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    windows_path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for event in events(report) {
        let f = event.finding;
        let file = f.file();
        write_record(
            out,
            &Event {
                message: format!("{}: {}", f.title, f.detail),
                datetime: rfc3339(event.time),
                timestamp: epoch_micros(event.time),
                timestamp_desc: &event.desc,
                exsweep_finding_id: &f.id,
                exsweep_incident: event.incident,
                check_id: &f.check_id,
                severity: f.severity.as_str(),
                class: f.class.as_str(),
                score: f.score,
                host: &report.host,
                scan_id: &report.scan_id,
                windows_path: file
                    .map(|e| e.windows_path.as_str())
                    .or(f.entities.windows_path.as_deref()),
                sha256: file.and_then(|e| e.sha256.as_deref()),
                client_ip: f.entities.client_ip.as_deref(),
                user: f.entities.user.as_deref(),
                url: f.entities.url.as_deref(),
            },
        )?;
    }
    Ok(())
}
