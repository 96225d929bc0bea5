//! The log hunt's caps: of one check's findings at most `cap` are kept (of a rule's,
//! a Sigma rule's, at most `per_rule`: thousands of rules share one check), and of the
//! `--follow` trail as many entries; the earliest (by time, then log file and line),
//! whatever order the files were read in, so two runs over the same logs keep the same
//! ones. The rest are counted.

use exsweep_model::{Finding, Text, TrailEntry};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::time::SystemTime;

/// What ranks an item: its time, its location, its text.
type RankKey = (Option<SystemTime>, String, String);

/// An item with the key that ranks it.
struct Ranked<T> {
    key: RankKey,
    item: T,
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Ranked<T>) -> bool {
        self.key == other.key
    }
}
impl<T> Eq for Ranked<T> {}
impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Ranked<T>) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Ranked<T>) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// The `cap` earliest of the items added (the latest of them on top, to be replaced
/// first), and how many were added.
pub struct EarliestKept<T> {
    cap: usize,
    pub seen: usize,
    latest_first: BinaryHeap<Ranked<T>>,
}

impl<T> EarliestKept<T> {
    pub fn new(cap: usize) -> EarliestKept<T> {
        EarliestKept {
            cap,
            seen: 0,
            latest_first: BinaryHeap::new(),
        }
    }

    fn add(&mut self, key: RankKey, item: T) {
        self.seen += 1;
        let ranked = Ranked { key, item };
        if self.latest_first.len() < self.cap {
            self.latest_first.push(ranked);
        } else if self
            .latest_first
            .peek()
            .is_some_and(|latest| ranked < *latest)
        {
            self.latest_first.pop();
            self.latest_first.push(ranked);
        }
    }

    /// How many were added and not kept.
    pub fn left_out(&self) -> usize {
        self.seen - self.latest_first.len()
    }

    /// The kept items, earliest first.
    pub fn into_sorted(self) -> Vec<T> {
        self.latest_first
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.item)
            .collect()
    }
}

impl EarliestKept<TrailEntry> {
    pub fn add_entry(&mut self, entry: TrailEntry) {
        let key = (
            entry.line.time,
            format!(
                "{}#{}",
                entry.line.windows_path.to_lowercase(),
                entry.line.line
            ),
            String::new(),
        );
        self.add(key, entry);
    }

    /// Takes in what another trail kept, and counts what it left out.
    pub fn absorb(&mut self, other: EarliestKept<TrailEntry>) {
        self.seen += other.left_out();
        for entry in other.into_sorted() {
            self.add_entry(entry);
        }
    }
}

/// Per check (per rule, for a finding that names one), the earliest findings.
pub struct CappedFindings {
    cap: usize,
    per_rule: usize,
    per_check: HashMap<Text, EarliestKept<Finding>>,
}

impl CappedFindings {
    pub fn new(cap: usize, per_rule: usize) -> CappedFindings {
        CappedFindings {
            cap,
            per_rule,
            per_check: HashMap::new(),
        }
    }

    pub fn add(&mut self, finding: Finding) {
        let key = (
            finding.time(),
            finding.evidence.location(),
            finding.detail.clone(),
        );
        let (group, cap) = match &finding.rule {
            Some(rule) => (
                Text::Owned(format!("{} rule {}", finding.check_id, rule.name)),
                self.per_rule,
            ),
            None => (finding.check_id.clone(), self.cap),
        };
        self.per_check
            .entry(group)
            .or_insert_with(|| EarliestKept::new(cap))
            .add(key, finding);
    }

    /// How many findings a check had, kept or not.
    pub fn seen(&self, check_id: &str) -> usize {
        self.per_check.get(check_id).map_or(0, |k| k.seen)
    }

    /// The checks (and rules) that had more findings than their cap, with how many
    /// and how many were kept, by ID.
    pub fn over_cap(&self) -> Vec<(&str, usize, usize)> {
        let mut over: Vec<(&str, usize, usize)> = self
            .per_check
            .iter()
            .filter(|(_, k)| k.left_out() > 0)
            .map(|(id, k)| (&**id, k.seen, k.seen - k.left_out()))
            .collect();
        over.sort();
        over
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.per_check
            .into_values()
            .flat_map(EarliestKept::into_sorted)
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
            let mut capped = CappedFindings::new(3, 3);
            for s in order {
                capped.add(at(*s));
            }
            assert_eq!(capped.seen(&KNOWN_ATTACKER_IP.id), order.len());
            assert_eq!(capped.over_cap(), [("EXS-LOG-010", order.len(), 3)]);
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
