//! The timeline: every time a finding carries, in one UTC order with sub-second
//! precision. A file finding gives one event per distinct timestamp (modified,
//! accessed, created; two that are equal are one event with both descriptions), a
//! log line, an event record or a probe's observation one event. Findings with no
//! time of their own (a configuration item) are not on it.

use exsweep_model::{Finding, Report};
use std::collections::HashMap;
use std::time::SystemTime;

/// One point on the timeline.
pub struct TimelineEvent<'r> {
    pub time: SystemTime,
    /// Timesketch's `timestamp_desc`: `Logged`, `File modified`, `File created; File
    /// modified` ...
    pub desc: String,
    pub finding: &'r Finding,
    /// The incident the finding is part of, if any.
    pub incident: Option<&'r str>,
}

/// A finding's times with what each is.
fn times(finding: &Finding) -> Vec<(SystemTime, &'static str)> {
    match finding.file() {
        Some(file) => [
            (file.times.created, "File created"),
            (file.times.modified, "File modified"),
            (file.times.accessed, "File accessed"),
        ]
        .into_iter()
        .filter_map(|(t, desc)| t.map(|t| (t, desc)))
        .collect(),
        None => finding
            .time()
            .map(|t| {
                let desc = match finding.evidence {
                    exsweep_model::Evidence::Remote(_) => "Observed",
                    _ => "Logged",
                };
                (t, desc)
            })
            .into_iter()
            .collect(),
    }
}

/// Finding ID → the ID of the incident it is part of.
pub fn incident_of(report: &Report) -> HashMap<&str, &str> {
    report
        .incidents
        .iter()
        .flat_map(|i| {
            i.steps
                .iter()
                .map(|s| (s.finding_id.as_str(), i.id.as_str()))
        })
        .collect()
}

/// The report's events, oldest first; ties by finding ID, so the order is the same
/// in every run.
pub fn events(report: &Report) -> Vec<TimelineEvent<'_>> {
    let incident_of = incident_of(report);
    let mut out = Vec::new();
    for finding in &report.findings {
        let mut merged: Vec<(SystemTime, Vec<&str>)> = Vec::new();
        for (t, desc) in times(finding) {
            match merged.iter_mut().find(|(at, _)| *at == t) {
                Some((_, descs)) => descs.push(desc),
                None => merged.push((t, vec![desc])),
            }
        }
        for (time, descs) in merged {
            out.push(TimelineEvent {
                time,
                desc: descs.join("; "),
                finding,
                incident: incident_of.get(finding.id.as_str()).copied(),
            });
        }
    }
    out.sort_by(|a, b| (a.time, &a.finding.id).cmp(&(b.time, &b.finding.id)));
    out
}

/// An optional time as every output writes it, empty when there is none.
pub fn time_text(t: Option<SystemTime>) -> String {
    t.map(exsweep_model::rfc3339).unwrap_or_default()
}

/// Microseconds since 1970 (negative before), Timesketch's `timestamp`.
pub fn epoch_micros(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn epoch_micros_keeps_sub_seconds_and_dates_before_1970() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_614_783_168_123_456_789);
        assert_eq!(epoch_micros(t), 1_614_783_168_123_456);
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(epoch_micros(before), -1_000_000);
    }
}
