//! The per-check cap of the log hunt: of one check's findings at most `cap` are kept,
//! the earliest (by time, then log file and line), whatever order the files were read
//! in, so two runs over the same logs keep the same ones. The rest are counted.

use exsweep_model::{Finding, Text};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::time::SystemTime;

/// A finding with the key that ranks it: its time, its location, its detail.
struct Ranked {
    key: (Option<SystemTime>, String, String),
    finding: Finding,
}

impl Ranked {
    fn new(finding: Finding) -> Ranked {
        Ranked {
            key: (
                finding.time(),
                finding.evidence.location(),
                finding.detail.clone(),
            ),
            finding,
        }
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.key == other.key
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// One check's kept findings (the latest of them on top, to be replaced first) and
/// how many it had.
#[derive(Default)]
struct Kept {
    seen: usize,
    latest_first: BinaryHeap<Ranked>,
}

pub struct CappedFindings {
    cap: usize,
    per_check: HashMap<Text, Kept>,
}

impl CappedFindings {
    pub fn new(cap: usize) -> CappedFindings {
        CappedFindings {
            cap,
            per_check: HashMap::new(),
        }
    }

    pub fn add(&mut self, finding: Finding) {
        let kept = self.per_check.entry(finding.check_id.clone()).or_default();
        kept.seen += 1;
        let ranked = Ranked::new(finding);
        if kept.latest_first.len() < self.cap {
            kept.latest_first.push(ranked);
        } else if kept
            .latest_first
            .peek()
            .is_some_and(|latest| ranked < *latest)
        {
            kept.latest_first.pop();
            kept.latest_first.push(ranked);
        }
    }

    /// How many findings a check had, kept or not.
    pub fn seen(&self, check_id: &str) -> usize {
        self.per_check.get(check_id).map_or(0, |k| k.seen)
    }

    /// The checks that had more findings than the cap, with how many, by ID.
    pub fn over_cap(&self) -> Vec<(&str, usize)> {
        let mut over: Vec<(&str, usize)> = self
            .per_check
            .iter()
            .filter(|(_, k)| k.seen > self.cap)
            .map(|(id, k)| (&**id, k.seen))
            .collect();
        over.sort();
        over
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.per_check
            .into_values()
            .flat_map(|k| k.latest_first.into_iter().map(|r| r.finding))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::logs::KNOWN_ATTACKER_IP;
    use exsweep_model::{Entities, Evidence, LogLine};
    use std::time::Duration;

    fn at(secs: u64) -> Finding {
        Finding::new(
            KNOWN_ATTACKER_IP.hit(format!("at {secs}")),
            Evidence::LogLine(LogLine {
                windows_path: r"C:\l.log".into(),
                line: secs,
                time: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
                ..LogLine::default()
            }),
            Entities::default(),
        )
    }

    #[test]
    fn the_earliest_are_kept_whatever_the_order() {
        let kept = |order: &[u64]| {
            let mut capped = CappedFindings::new(3);
            for s in order {
                capped.add(at(*s));
            }
            assert_eq!(capped.seen(&KNOWN_ATTACKER_IP.id), order.len());
            assert_eq!(capped.over_cap(), [("EXS-LOG-010", order.len())]);
            let mut times: Vec<u64> = capped
                .into_findings()
                .iter()
                .map(|f| match &f.evidence {
                    Evidence::LogLine(l) => l.line,
                    _ => unreachable!(),
                })
                .collect();
            times.sort();
            times
        };
        assert_eq!(kept(&[9, 1, 7, 3, 5, 2]), [1, 2, 3]);
        assert_eq!(kept(&[2, 3, 1, 9, 7, 5]), [1, 2, 3]);
    }
}
