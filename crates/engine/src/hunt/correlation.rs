//! Sigma correlation rules over the whole hunt: every event-log record and text-log
//! line that a correlation's rule matched leaves what the correlation needs (a few
//! dozen bytes and where it was); once all logs are read they are put in time order
//! (then by file and place, so ties fall the same way in every run) and correlated,
//! and each firing becomes an `EXS-SIGMA-002` finding on the record or line that
//! completed it.

use crate::checks;
use exsweep_model::{
    excerpt, Entities, EventEvidence, Evidence, Finding, LocalPath, LogLine, Text,
};
use exsweep_sigma::{CorrelationInput, SigmaRules};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// At most this many records and lines are kept for the correlation rules; past it,
/// correlations may count short, and a warning says so.
const MAX_CORRELATION_INPUTS: usize = 200_000;

/// The log a kept record or line is in, shared by all kept from it.
pub struct LogOf {
    pub source: Text,
    pub windows_path: String,
    pub local: LocalPath,
}

/// Where in its log a kept input is.
pub enum Place {
    Record {
        record_id: u64,
        event_id: u64,
        provider: String,
    },
    Line(u64),
}

/// A record or line a correlation's rule matched.
pub struct Fed {
    pub time: SystemTime,
    pub input: CorrelationInput,
    pub log: Arc<LogOf>,
    pub place: Place,
}

impl Fed {
    fn number(&self) -> u64 {
        match self.place {
            Place::Record { record_id, .. } => record_id,
            Place::Line(line) => line,
        }
    }

    /// `EVTX Security record 7 (Microsoft-Windows-Security-Auditing 4624)`,
    /// `IIS W3SVC1\u_ex210303.log line 12`.
    fn describe(&self) -> String {
        match &self.place {
            Place::Record {
                record_id,
                event_id,
                provider,
            } => format!(
                "{} record {record_id} ({provider} {event_id})",
                self.log.source
            ),
            Place::Line(line) => format!(
                "{} {} line {line}",
                self.log.source,
                exsweep_evidence::winpath::file_name(&self.log.windows_path)
            ),
        }
    }

    fn evidence(&self, excerpt: String) -> Evidence {
        let log = &*self.log;
        match &self.place {
            Place::Record {
                record_id,
                event_id,
                provider,
            } => Evidence::EventRecord(EventEvidence {
                source: log.source.clone(),
                windows_path: log.windows_path.clone(),
                local: log.local.clone(),
                record_id: *record_id,
                time: Some(self.time),
                provider: provider.clone(),
                event_id: *event_id,
                excerpt,
            }),
            Place::Line(line) => Evidence::LogLine(LogLine {
                source: log.source.clone(),
                windows_path: log.windows_path.clone(),
                local: log.local.clone(),
                line: *line,
                time: Some(self.time),
                method: None,
                status: None,
                excerpt,
            }),
        }
    }
}

/// What the correlation rules get from the whole hunt.
#[derive(Default)]
pub struct Correlating {
    kept: Vec<Fed>,
    left_out: usize,
}

impl Correlating {
    pub fn add(&mut self, fed: Fed) {
        if self.kept.len() < MAX_CORRELATION_INPUTS {
            self.kept.push(fed);
        } else {
            self.left_out += 1;
        }
    }

    pub fn warning(&self) -> Option<String> {
        (self.left_out > 0).then(|| {
            format!(
                "Sigma correlations: {} records and lines matched their rules; \
                 {MAX_CORRELATION_INPUTS} were kept, {} left out, so counts may be short",
                self.kept.len() + self.left_out,
                self.left_out
            )
        })
    }

    /// The correlation rules run over what was kept, oldest first, as findings
    /// placed on the record or line that completed each.
    pub fn correlate(mut self, rules: &SigmaRules) -> Vec<Finding> {
        if self.kept.is_empty() || rules.correlation_count() == 0 {
            return Vec::new();
        }
        self.kept.sort_by(|a, b| {
            (a.time, &a.log.windows_path, a.number()).cmp(&(
                b.time,
                &b.log.windows_path,
                b.number(),
            ))
        });
        let unix = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        };
        let inputs: Vec<(i64, &CorrelationInput)> = self
            .kept
            .iter()
            .map(|fed| (unix(fed.time), &fed.input))
            .collect();
        rules
            .correlate(&inputs)
            .iter()
            .map(|hit| {
                let records: Vec<String> = hit
                    .events
                    .iter()
                    .filter_map(|&i| self.kept.get(i))
                    .map(Fed::describe)
                    .collect();
                let last = &self.kept[hit.fired_by];
                Finding::new(
                    checks::sigma::correlation_hit(hit, &records),
                    last.evidence(excerpt(&records.join("; "))),
                    Entities::default(),
                )
            })
            .collect()
    }
}

/// Keeps `input` when a correlation's rule matched, from `log` at `place` (the log
/// made once per file, on its first input).
pub fn feed(
    into: &Mutex<Correlating>,
    input: Option<CorrelationInput>,
    time: Option<SystemTime>,
    log: &mut Option<Arc<LogOf>>,
    make_log: impl FnOnce() -> LogOf,
    place: impl FnOnce() -> Place,
) {
    let (Some(input), Some(time)) = (input, time) else {
        return;
    };
    let log = log.get_or_insert_with(|| Arc::new(make_log())).clone();
    into.lock().unwrap().add(Fed {
        time,
        input,
        log,
        place: place(),
    });
}
