//! The log hunt's caps: of one check's findings at most `cap` are kept (of a rule's,
//! a Sigma rule's, at most `per_rule`: thousands of rules share one check), and of the
//! `--follow` trail as many entries; the earliest (by time, then log file and line,
//! then text),
//! whatever order the files were read in, so two runs over the same logs keep the same
//! ones. The rest are counted.

use exsweep_model::{Finding, Text, TrailEntry};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::time::SystemTime;

/// What ranks an item first: its time and its location.
type RankKey = (Option<SystemTime>, String);

/// An item's own text, which ranks items of the same time and place (borrowed, so a
/// kept finding's detail is not held twice).
pub trait Tiebreak {
    fn tiebreak(&self) -> &str;
}

impl Tiebreak for Finding {
    fn tiebreak(&self) -> &str {
        &self.detail
    }
}

impl Tiebreak for TrailEntry {
    fn tiebreak(&self) -> &str {
        ""
    }
}

/// An item with the key that ranks it.
struct Ranked<T> {
    key: RankKey,
    item: T,
}

impl<T: Tiebreak> PartialEq for Ranked<T> {
    fn eq(&self, other: &Ranked<T>) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T: Tiebreak> Eq for Ranked<T> {}
impl<T: Tiebreak> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Ranked<T>) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T: Tiebreak> Ord for Ranked<T> {
    fn cmp(&self, other: &Ranked<T>) -> Ordering {
        self.key
            .cmp(&other.key)
            .then_with(|| self.item.tiebreak().cmp(other.item.tiebreak()))
    }
}

/// The `cap` earliest of the items added (the latest of them on top, to be replaced
/// first), and how many were added.
pub struct EarliestKept<T> {
    cap: usize,
    pub seen: usize,
    latest_first: BinaryHeap<Ranked<T>>,
}

impl<T: Tiebreak> EarliestKept<T> {
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

/// What ranks a rule's findings: time, then a hash of location and text (a few bytes
/// where the location itself would be a path), so that each rule's ranking can be
/// kept for every finding it would keep without holding the findings.
type RuleRank = (Option<SystemTime>, u64);

fn rule_rank(finding: &Finding) -> RuleRank {
    use std::hash::{Hash, Hasher};
    // `DefaultHasher::new` has fixed keys: the same finding ranks the same in every run.
    let mut hasher = std::hash::DefaultHasher::new();
    finding.evidence.location().hash(&mut hasher);
    finding.detail.hash(&mut hasher);
    (finding.time(), hasher.finish())
}

/// The findings of the checks that run many rules (Sigma): each rule's `per_rule`
/// earliest, and of those at most `budget` in all, the most severe first, then the
/// earliest. A rule's ranking orders the budget's too (a rule has one severity), so a
/// finding a rule drops for an earlier one never frees a slot another finding could
/// have needed: the same findings are kept whatever order the files are read in.
struct RuleBudget {
    per_rule: usize,
    budget: usize,
    /// Each rule's kept ranks, latest on top, and how many findings it had.
    rules: HashMap<Text, (BinaryHeap<RuleRank>, usize)>,
    /// The kept findings, by (severity, most severe first; rank); the last is the one
    /// to drop when over budget.
    kept: std::collections::BTreeMap<
        (std::cmp::Reverse<exsweep_model::Severity>, RuleRank, Text),
        Finding,
    >,
}

impl RuleBudget {
    fn add(&mut self, group: Text, finding: Finding) {
        let rank = rule_rank(&finding);
        let (ranks, seen) = self.rules.entry(group.clone()).or_default();
        *seen += 1;
        if ranks.len() == self.per_rule {
            if ranks.peek().is_some_and(|latest| rank < *latest) {
                let dropped = ranks.pop().unwrap();
                self.kept
                    .remove(&(std::cmp::Reverse(finding.severity), dropped, group.clone()));
            } else {
                return;
            }
        }
        ranks.push(rank);
        self.kept
            .insert((std::cmp::Reverse(finding.severity), rank, group), finding);
        if self.kept.len() > self.budget {
            self.kept.pop_last();
        }
    }

    /// Per rule: how many findings it had and how many are kept.
    fn counts(&self) -> HashMap<&Text, (usize, usize)> {
        let mut counts: HashMap<&Text, (usize, usize)> = self
            .rules
            .iter()
            .map(|(group, (_, seen))| (group, (*seen, 0)))
            .collect();
        for (_, _, group) in self.kept.keys() {
            if let Some(c) = counts.get_mut(group) {
                c.1 += 1;
            }
        }
        counts
    }
}

/// Per check the earliest findings; for a finding that names a rule, its rule's
/// earliest under the rules' common budget ([`RuleBudget`]).
pub struct CappedFindings {
    cap: usize,
    per_check: HashMap<Text, EarliestKept<Finding>>,
    rules: RuleBudget,
}

impl CappedFindings {
    /// At most `cap` findings per check, `per_rule` per rule and `rule_budget` of all
    /// rules' together.
    pub fn new(cap: usize, per_rule: usize, rule_budget: usize) -> CappedFindings {
        CappedFindings {
            cap,
            per_check: HashMap::new(),
            rules: RuleBudget {
                per_rule,
                budget: rule_budget,
                rules: HashMap::new(),
                kept: Default::default(),
            },
        }
    }

    pub fn add(&mut self, finding: Finding) {
        match &finding.rule {
            Some(rule) => {
                let group = Text::Owned(format!("{} rule {}", finding.check_id, rule.name));
                self.rules.add(group, finding);
            }
            None => {
                let key = (finding.time(), finding.evidence.location());
                self.per_check
                    .entry(finding.check_id.clone())
                    .or_insert_with(|| EarliestKept::new(self.cap))
                    .add(key, finding);
            }
        }
    }

    /// How many findings a check had, kept or not.
    pub fn seen(&self, check_id: &str) -> usize {
        self.per_check.get(check_id).map_or(0, |k| k.seen)
    }

    /// The checks (and rules) that had more findings than they keep, with how many
    /// and how many were kept, by ID.
    pub fn over_cap(&self) -> Vec<(&str, usize, usize)> {
        let mut over: Vec<(&str, usize, usize)> = self
            .per_check
            .iter()
            .filter(|(_, k)| k.left_out() > 0)
            .map(|(id, k)| (&**id, k.seen, k.seen - k.left_out()))
            .chain(
                self.rules
                    .counts()
                    .into_iter()
                    .filter(|(_, (seen, kept))| seen > kept)
                    .map(|(group, (seen, kept))| (&**group, seen, kept)),
            )
            .collect();
        over.sort();
        over
    }

    pub fn into_findings(self) -> Vec<Finding> {
        // Sized up front: grown by doubling, the list of every kept finding (tens of
        // thousands, some 800 bytes each) would hold up to twice that.
        let total = self
            .per_check
            .values()
            .map(|kept| kept.latest_first.len())
            .sum::<usize>()
            + self.rules.kept.len();
        let mut findings = Vec::with_capacity(total);
        for kept in self.per_check.into_values() {
            findings.extend(kept.into_sorted());
        }
        findings.extend(self.rules.kept.into_values());
        findings
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
            let mut capped = CappedFindings::new(3, 3, 3);
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

    /// A finding of rule `rule` at `secs`, at `severity`.
    fn of_rule(rule: &str, secs: u64, severity: exsweep_model::Severity) -> Finding {
        let mut finding = at(secs);
        finding.severity = severity;
        finding.rule = Some(exsweep_model::RuleInfo {
            id: format!("sigma:{rule}"),
            name: rule.to_string(),
            meta_id: None,
            description: None,
            author: None,
        });
        finding
    }

    #[test]
    fn rules_keep_their_earliest_under_one_budget_the_most_severe_first_in_any_order() {
        use exsweep_model::Severity::{High, Low};
        // A noisy low rule, a noisy high rule and a quiet low one; 3 per rule, 5 in all.
        let mut all: Vec<(&str, u64, exsweep_model::Severity)> = Vec::new();
        all.extend((1..=9).map(|s| ("noisy-low", s, Low)));
        all.extend((11..=19).map(|s| ("noisy-high", s, High)));
        all.push(("quiet-low", 5, Low));
        let kept = |order: &[(&str, u64, exsweep_model::Severity)]| {
            let mut capped = CappedFindings::new(100, 3, 5);
            for (rule, secs, severity) in order {
                capped.add(of_rule(rule, *secs, *severity));
            }
            let over = capped
                .over_cap()
                .iter()
                .map(|(id, seen, kept)| format!("{id} {seen} {kept}"))
                .collect::<Vec<_>>();
            let mut kept: Vec<(String, u64)> = capped
                .into_findings()
                .iter()
                .map(|f| {
                    let secs = match &f.evidence {
                        Evidence::LogLine(l) => l.line,
                        _ => unreachable!(),
                    };
                    (f.rule.as_ref().unwrap().name.clone(), secs)
                })
                .collect();
            kept.sort();
            (kept, over)
        };
        let (expected, over) = kept(&all);
        // The high rule's 3 earliest, then the 2 earliest low ones of all (by time).
        assert_eq!(
            expected,
            [
                ("noisy-high".to_string(), 11),
                ("noisy-high".to_string(), 12),
                ("noisy-high".to_string(), 13),
                ("noisy-low".to_string(), 1),
                ("noisy-low".to_string(), 2),
            ]
        );
        assert_eq!(
            over,
            [
                "EXS-LOG-010 rule noisy-high 9 3",
                "EXS-LOG-010 rule noisy-low 9 2",
                "EXS-LOG-010 rule quiet-low 1 0",
            ]
        );
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(kept(&reversed).0, expected);
        let mut interleaved = all.clone();
        interleaved.sort_by_key(|(_, secs, _)| secs % 4);
        assert_eq!(kept(&interleaved).0, expected);
    }
}
