//! The log hunt's caps: of exsweep's own checks' findings at most `budget` are kept,
//! shared out fairly between the checks (a quiet check keeps all of its findings, the
//! noisy ones share the rest); of a rule's (a Sigma rule's: thousands of rules share
//! one check) at most `per_rule`, under a budget of their own; and of the `--follow`
//! trail as many entries as its cap. Each keeps its earliest (by time, then log file
//! and line, then a hash of the text), whatever order the files were read in, so two
//! runs over the same logs keep the same ones. The rest are counted. The budgets, not
//! the size of the logs, bound what a hunt holds.
//!
//! The kept findings live in one list (a slab), which the rankings point into: a
//! finding dropped frees its slot for the next one kept, and the list at the end is
//! the result, so handing tens of thousands of findings over copies none of them.

use exsweep_model::{Finding, Text, TrailEntry};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{Hash, Hasher};
use std::time::SystemTime;

/// What ranks an item: its time, its location, and a hash of its own text for items of
/// the same time and place.
type RankKey = (Option<SystemTime>, String, u64);

/// A hash of `parts` that is the same in every run (`DefaultHasher::new` has fixed keys).
fn fixed_hash(parts: &[&str]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    parts.iter().for_each(|p| p.hash(&mut hasher));
    hasher.finish()
}

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

    /// Adds `item`; gives back the item not kept, if one is left out (it, or the
    /// latest kept that it displaces).
    fn add(&mut self, key: RankKey, item: T) -> Option<T> {
        self.seen += 1;
        let ranked = Ranked { key, item };
        if self.latest_first.len() < self.cap {
            self.latest_first.push(ranked);
            return None;
        }
        match self.latest_first.peek_mut() {
            Some(mut latest) if ranked < *latest => {
                Some(std::mem::replace(&mut *latest, ranked).item)
            }
            _ => Some(ranked.item),
        }
    }

    /// How many are kept.
    fn len(&self) -> usize {
        self.latest_first.len()
    }

    /// Keeps one fewer than it keeps now, from now on: gives back the latest kept.
    fn shrink(&mut self) -> Option<T> {
        self.cap = self.len().saturating_sub(1);
        self.latest_first.pop().map(|r| r.item)
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
            entry.line.windows_path.to_lowercase(),
            entry.line.line,
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

/// The kept findings, each in a slot that stays its own while it is kept; a slot left
/// empty is filled by the next finding put.
#[derive(Default)]
struct Slab {
    slots: Vec<Option<Finding>>,
    empty: Vec<usize>,
}

impl Slab {
    fn put(&mut self, finding: Finding) -> usize {
        match self.empty.pop() {
            Some(slot) => {
                self.slots[slot] = Some(finding);
                slot
            }
            None => {
                self.slots.push(Some(finding));
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, slot: usize) {
        self.slots[slot] = None;
        self.empty.push(slot);
    }
}

/// What ranks a rule's findings: time, then a hash of location and text (a few bytes
/// where the location itself would be a path), so that each rule's ranking can be
/// kept for every finding it would keep without holding the findings.
type RuleRank = (Option<SystemTime>, u64);

fn rule_rank(finding: &Finding) -> RuleRank {
    let location = finding.evidence.location();
    (finding.time(), fixed_hash(&[&location, &finding.detail]))
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
    /// The kept findings' slots, by (severity, most severe first; rank); the last is
    /// the one to drop when over budget.
    kept: std::collections::BTreeMap<
        (std::cmp::Reverse<exsweep_model::Severity>, RuleRank, Text),
        usize,
    >,
}

impl RuleBudget {
    fn add(&mut self, group: Text, finding: Finding, slab: &mut Slab) {
        let rank = rule_rank(&finding);
        let severity = std::cmp::Reverse(finding.severity);
        let (ranks, seen) = self.rules.entry(group.clone()).or_default();
        *seen += 1;
        if ranks.len() == self.per_rule {
            if ranks.peek().is_some_and(|latest| rank < *latest) {
                let dropped = ranks.pop().unwrap();
                if let Some(slot) = self.kept.remove(&(severity, dropped, group.clone())) {
                    slab.remove(slot);
                }
            } else {
                return;
            }
        }
        ranks.push(rank);
        self.kept.insert((severity, rank, group), slab.put(finding));
        if self.kept.len() > self.budget {
            if let Some((_, slot)) = self.kept.pop_last() {
                slab.remove(slot);
            }
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

/// The findings of exsweep's own checks: each check's earliest, and at most `budget` of
/// all checks together. Over budget, the check that keeps the most gives up its
/// latest (of two that keep as many, the one whose ID sorts last), so every check keeps
/// as many as the fullest does, or all of its own: the counts a water level over the
/// checks' totals gives, whatever order the findings come in.
struct CheckBudget {
    budget: usize,
    kept: usize,
    per_check: HashMap<Text, EarliestKept<usize>>,
}

impl CheckBudget {
    fn add(&mut self, finding: Finding, slab: &mut Slab) {
        let key = (
            finding.time(),
            finding.evidence.location(),
            fixed_hash(&[&finding.detail]),
        );
        let check = self
            .per_check
            .entry(finding.check_id.clone())
            .or_insert_with(|| EarliestKept::new(self.budget));
        let before = check.len();
        // Put first, so that the finding it displaces (or it) frees a slot.
        if let Some(left_out) = check.add(key, slab.put(finding)) {
            slab.remove(left_out);
        }
        self.kept += check.len() - before;
        if self.kept > self.budget {
            let fullest = self
                .per_check
                .iter_mut()
                .max_by(|a, b| (a.1.len(), a.0).cmp(&(b.1.len(), b.0)))
                .map(|(_, check)| check);
            if let Some(slot) = fullest.and_then(EarliestKept::shrink) {
                slab.remove(slot);
                self.kept -= 1;
            }
        }
    }
}

/// The hunt's findings under its caps: exsweep's own checks' under [`CheckBudget`]; a
/// finding that names a rule under its rule's and the rules' common budget
/// ([`RuleBudget`]).
pub struct CappedFindings {
    checks: CheckBudget,
    rules: RuleBudget,
    slab: Slab,
}

impl CappedFindings {
    /// At most `check_budget` findings of the checks together, `per_rule` per rule and
    /// `rule_budget` of all rules' together.
    pub fn new(check_budget: usize, per_rule: usize, rule_budget: usize) -> CappedFindings {
        CappedFindings {
            checks: CheckBudget {
                budget: check_budget,
                kept: 0,
                per_check: HashMap::new(),
            },
            rules: RuleBudget {
                per_rule,
                budget: rule_budget,
                rules: HashMap::new(),
                kept: Default::default(),
            },
            slab: Slab::default(),
        }
    }

    pub fn add(&mut self, finding: Finding) {
        match &finding.rule {
            Some(rule) => {
                let group = Text::Owned(format!("{} rule {}", finding.check_id, rule.name));
                self.rules.add(group, finding, &mut self.slab);
            }
            None => self.checks.add(finding, &mut self.slab),
        }
    }

    /// Whether a check had findings that were not kept.
    pub fn left_out_of(&self, check_id: &str) -> bool {
        self.checks
            .per_check
            .get(check_id)
            .is_some_and(|k| k.left_out() > 0)
    }

    /// The checks (and rules) that had more findings than they keep, with how many
    /// and how many were kept, by ID.
    pub fn over_cap(&self) -> Vec<(&str, usize, usize)> {
        let mut over: Vec<(&str, usize, usize)> = self
            .checks
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

    /// The kept findings, in no particular order (the report sorts them): the slab
    /// itself, its empty slots dropped in place.
    // `filter_map` collects in place, in the slab's own allocation; `flatten` (what
    // the lint asks for) builds a second list beside it.
    #[allow(clippy::filter_map_identity)]
    pub fn into_findings(self) -> Vec<Finding> {
        self.slab
            .slots
            .into_iter()
            .filter_map(|slot| slot)
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
        of_check(&KNOWN_ATTACKER_IP, secs)
    }

    /// A finding of `check` at `secs`, on line `secs`.
    fn of_check(check: &exsweep_model::Check, secs: u64) -> Finding {
        Finding::new(
            check.hit(format!("at {secs}")),
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
            assert!(capped.left_out_of(&KNOWN_ATTACKER_IP.id));
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

    #[test]
    fn checks_share_their_budget_fairly_whatever_the_order() {
        use crate::checks::logs::{SHELL_ACCESS, WEB_TUNNEL};
        // A quiet check (1 finding), a busy one (4) and a noisy one (9), 7 kept in all:
        // the quiet one keeps its finding, the two others their 3 earliest.
        let mut all: Vec<(&exsweep_model::Check, u64)> = vec![(&WEB_TUNNEL, 50)];
        all.extend((1..=4).map(|s| (&SHELL_ACCESS, s)));
        all.extend((10..=18).map(|s| (&KNOWN_ATTACKER_IP, s)));
        let kept = |order: &[(&exsweep_model::Check, u64)]| {
            let mut capped = CappedFindings::new(7, 100, 100);
            for (check, secs) in order {
                capped.add(of_check(check, *secs));
            }
            assert!(!capped.left_out_of(&WEB_TUNNEL.id));
            assert_eq!(
                capped.over_cap(),
                [("EXS-LOG-010", 9, 3), ("EXS-LOG-012", 4, 3)]
            );
            let mut kept: Vec<(String, u64)> = capped
                .into_findings()
                .iter()
                .map(|f| match &f.evidence {
                    Evidence::LogLine(l) => (f.check_id.to_string(), l.line),
                    _ => unreachable!(),
                })
                .collect();
            kept.sort();
            kept
        };
        let expected = kept(&all);
        let expect = [
            ("EXS-LOG-010", 10),
            ("EXS-LOG-010", 11),
            ("EXS-LOG-010", 12),
            ("EXS-LOG-012", 1),
            ("EXS-LOG-012", 2),
            ("EXS-LOG-012", 3),
            ("EXS-LOG-019", 50),
        ];
        assert_eq!(expected, expect.map(|(id, line)| (id.to_string(), line)));
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(kept(&reversed), expected);
        let mut interleaved = all.clone();
        interleaved.sort_by_key(|(_, secs)| secs % 3);
        assert_eq!(kept(&interleaved), expected);
        let mut noisy_first = all.clone();
        noisy_first.sort_by_key(|(check, _)| check.id != KNOWN_ATTACKER_IP.id);
        assert_eq!(kept(&noisy_first), expected);
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
