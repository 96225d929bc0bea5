//! The literals a text-log line must hold for a loaded Sigma rule to match it, so the
//! hunt can pass over the lines no rule can match without building their events, as it
//! does for its own checks.
//!
//! A rule's literals are read off its compiled detections as clauses, every one of
//! which a matching line holds (one needle of each): a value a field equals, a
//! substring it holds, a keyword, a regex's fixed text; `and` keeps every part's
//! clauses, `or` distributes over them, `not` gives none. rsigma's candidate index
//! reads the same witnesses, but keeps one per `and` and prefers a field equal to
//! `GET`, which every request line holds. The hunt selects lines by one clause of each
//! rule (the one whose shortest needle is longest), and checks every clause before
//! it builds a selected line's events. What the rules see is not the raw
//! line but the event built from it ([`crate::record`]): CSV quotes undone (`""` is
//! `"`), a space where the line has `+` (a user agent, where the route says), the URL
//! split at `?` or the stem and query joined by one, `-` for a missing query, and
//! every value folded to lower case. So a literal is cut at `"`, ` `, `?` and every
//! non-ASCII character, and its longest piece is the needle: wherever an event value
//! holds the literal, the line holds that piece. Three non-ASCII characters fold to
//! ASCII letters (KELVIN SIGN to `k`, `ſ` to `s`, `İ` to `i` and a dot), so a line
//! holding one is always selected. A rule with no literal (a number compared, a
//! field's mere presence, a negation alone, a regex with no fixed text) makes every
//! line of its logs selected.

use crate::routing::Routing;
use crate::RuleInfo;
use aho_corasick::AhoCorasick;
use rsigma_eval::matcher::GroupMode;
use rsigma_eval::{CompiledDetection, CompiledDetectionItem, CompiledMatcher, CompiledRule};
use rsigma_parser::{ConditionExpr, Quantifier};
use std::collections::{HashMap, HashSet};

type Detections = HashMap<String, CompiledDetection>;

/// The characters a line and the event built from it may differ at, besides the
/// non-ASCII ones (see the module's doc).
const CUT_AT: [char; 3] = ['"', ' ', '?'];

/// Characters that fold to an ASCII letter (in lower case or in a case-insensitive
/// regex): a line holding one may match a rule's literal without holding its piece.
const FOLD_TO_ASCII: [&str; 3] = ["\u{212a}", "\u{130}", "\u{17f}"];

/// The longest piece of `literal` that every raw line holds whose event holds
/// `literal`, lower case; `None` when there is none to rely on (empty, or a lone `-`,
/// which the event gives a line with no query whatever the line holds).
fn line_piece(literal: &str) -> Option<String> {
    literal
        .split(|c: char| !c.is_ascii() || CUT_AT.contains(&c))
        .max_by_key(|piece| piece.len())
        .filter(|piece| !piece.is_empty() && *piece != "-")
        .map(str::to_ascii_lowercase)
}

/// One of these needles is in the line.
type Clause = Vec<String>;

/// What a rule or part of it needs of a line it matches: every clause holds. `None`
/// when nothing is known (it can match any line).
type Needs = Option<Vec<Clause>>;

/// How few lines a clause is likely to select: its shortest needle's length, then
/// their mean length (a method, `GET`, is as short as `={{` but in every request).
fn score(clause: &Clause) -> (usize, usize) {
    let shortest = clause.iter().map(String::len).min().unwrap_or(0);
    let mean = clause.iter().map(String::len).sum::<usize>() / clause.len().max(1);
    (shortest, mean)
}

/// The clause of `clauses` that selects the fewest lines, as far as [`score`] tells.
fn best_clause(clauses: Vec<Clause>) -> Option<Clause> {
    clauses.into_iter().max_by_key(score)
}

/// How many clauses an `or` distributed over its parts' clauses may make; past it, a
/// part adds only its best clause to each.
const MAX_CLAUSES: usize = 16;

/// One of the parts must hold: `(a1 and a2) or b` is `(a1 or b) and (a2 or b)`, each
/// clause of the product one clause of every part (a part with too many clauses
/// gives its best to every one).
fn any_of(parts: impl IntoIterator<Item = Needs>) -> Needs {
    let mut product: Vec<Clause> = vec![Vec::new()];
    for part in parts {
        let clauses = part?;
        if product.len() * clauses.len() <= MAX_CLAUSES {
            product = product
                .iter()
                .flat_map(|p| clauses.iter().map(move |c| [p.as_slice(), c].concat()))
                .collect();
        } else {
            let best = best_clause(clauses)?;
            product
                .iter_mut()
                .for_each(|p| p.extend(best.iter().cloned()));
        }
    }
    for clause in &mut product {
        clause.sort();
        clause.dedup();
    }
    product.retain(|c| !c.is_empty());
    (!product.is_empty()).then_some(product)
}

/// Every part must hold: every part's clauses.
fn all_of(parts: impl IntoIterator<Item = Needs>) -> Needs {
    let clauses: Vec<Clause> = parts
        .into_iter()
        .flatten()
        .flatten()
        .filter(|c| !c.is_empty())
        .collect();
    (!clauses.is_empty()).then_some(clauses)
}

fn of_condition(condition: &ConditionExpr, detections: &Detections) -> Needs {
    match condition {
        ConditionExpr::Identifier(name) => of_detection(detections.get(name)?),
        ConditionExpr::And(parts) => all_of(parts.iter().map(|p| of_condition(p, detections))),
        ConditionExpr::Or(parts) => any_of(parts.iter().map(|p| of_condition(p, detections))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let selected: Vec<Needs> = detections
                .iter()
                .filter(|(name, _)| pattern.matches_detection_name(name))
                .map(|(_, detection)| of_detection(detection))
                .collect();
            match quantifier {
                // `all of` nothing and `0 of` hold whatever the line.
                Quantifier::All if selected.is_empty() => None,
                Quantifier::Count(0) => None,
                Quantifier::All => all_of(selected),
                Quantifier::Any | Quantifier::Count(_) => any_of(selected),
            }
        }
    }
}

fn of_detection(detection: &CompiledDetection) -> Needs {
    match detection {
        CompiledDetection::AllOf(items) => all_of(items.iter().map(of_item)),
        CompiledDetection::AnyOf(subs) if subs.is_empty() => None,
        CompiledDetection::AnyOf(subs) => any_of(subs.iter().map(of_detection)),
        CompiledDetection::And(subs) => all_of(subs.iter().map(of_detection)),
        CompiledDetection::Keywords(matcher) => of_matcher(matcher),
        // An array's members and conditional bodies: no line text to rely on.
        CompiledDetection::ArrayMatch { .. } | CompiledDetection::Conditional { .. } => None,
    }
}

fn of_item(item: &CompiledDetectionItem) -> Needs {
    match item.exists {
        // A field's presence or absence is not in a line's text.
        Some(_) => None,
        None => of_matcher(&item.matcher),
    }
}

fn of_matcher(matcher: &CompiledMatcher) -> Needs {
    match matcher {
        CompiledMatcher::Exact { value, .. }
        | CompiledMatcher::Contains { value, .. }
        | CompiledMatcher::StartsWith { value, .. }
        | CompiledMatcher::EndsWith { value, .. } => needing(value),
        CompiledMatcher::AhoCorasickSet { needles, .. } => {
            any_of(needles.iter().map(|n| needing(n)))
        }
        CompiledMatcher::Regex(regex) => of_regex(regex.as_str()),
        CompiledMatcher::RegexSetMatch { set, mode } => {
            let parts = set.patterns().iter().map(|p| of_regex(p));
            match mode {
                GroupMode::Any => any_of(parts),
                GroupMode::All => all_of(parts),
            }
        }
        CompiledMatcher::AnyOf(children) => any_of(children.iter().map(of_matcher)),
        CompiledMatcher::AllOf(children) => all_of(children.iter().map(of_matcher)),
        CompiledMatcher::CaseInsensitiveGroup { children, mode } => match mode {
            GroupMode::Any => any_of(children.iter().map(of_matcher)),
            GroupMode::All => all_of(children.iter().map(of_matcher)),
        },
        // Numbers, addresses, references, expansions, negations, `null`:
        // what they match is not a literal the line must hold.
        _ => None,
    }
}

/// What a part of a regex must match: one string (which a concatenation around it
/// may extend), or one of several.
enum RegexLiteral {
    One(String),
    AnyOf(Vec<String>),
}

impl RegexLiteral {
    fn into_set(self) -> Vec<String> {
        match self {
            RegexLiteral::One(s) => vec![s],
            RegexLiteral::AnyOf(all) => all,
        }
    }
}

/// The needles of a regex (a wildcard value compiles to one): its mandatory
/// literals, each cut as [`line_piece`] cuts.
fn of_regex(pattern: &str) -> Needs {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    any_of(regex_literal(&hir)?.into_set().iter().map(|l| needing(l)))
}

/// What a value that must be in an event asks of its line: its [`line_piece`].
fn needing(literal: &str) -> Needs {
    line_piece(literal).map(|piece| vec![vec![piece]])
}

/// The one ASCII character a class stands for in any case (`(?i)s` is `[Ssſ]`): the
/// non-ASCII members that fold to it are among [`FOLD_TO_ASCII`], whose lines are
/// always selected.
fn class_letter(class: &regex_syntax::hir::Class) -> Option<char> {
    let chars: Vec<char> = match class {
        regex_syntax::hir::Class::Unicode(c) => c
            .ranges()
            .iter()
            .flat_map(|r| r.start()..=r.end())
            .take(4)
            .collect(),
        regex_syntax::hir::Class::Bytes(c) => c
            .ranges()
            .iter()
            .flat_map(|r| r.start()..=r.end())
            .take(4)
            .map(char::from)
            .collect(),
    };
    let mut ascii = chars.iter().filter(|c| c.is_ascii());
    let first = ascii.next()?.to_ascii_lowercase();
    let same_letter = ascii.all(|c| c.to_ascii_lowercase() == first);
    let folds = chars
        .iter()
        .filter(|c| !c.is_ascii())
        .all(|c| FOLD_TO_ASCII.iter().any(|f| f.starts_with(*c)));
    (same_letter && folds && chars.len() < 4).then_some(first)
}

/// What every match of `hir` holds, if anything is known: runs of literals (and
/// single-letter classes) in a concatenation are joined, and of its parts the one
/// [`best_clause`] prefers is kept.
fn regex_literal(hir: &regex_syntax::hir::Hir) -> Option<RegexLiteral> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Literal(literal) => std::str::from_utf8(&literal.0)
            .ok()
            .map(|s| RegexLiteral::One(s.to_string())),
        HirKind::Class(class) => class_letter(class).map(|c| RegexLiteral::One(c.to_string())),
        HirKind::Capture(capture) => regex_literal(&capture.sub),
        HirKind::Repetition(repetition) if repetition.min >= 1 => {
            regex_literal(&repetition.sub).map(|l| RegexLiteral::AnyOf(l.into_set()))
        }
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for branch in branches {
                all.extend(regex_literal(branch)?.into_set());
            }
            Some(RegexLiteral::AnyOf(all))
        }
        HirKind::Concat(parts) => {
            let mut candidates: Vec<Vec<String>> = Vec::new();
            let mut run = String::new();
            let mut whole = true;
            for part in parts {
                match regex_literal(part) {
                    Some(RegexLiteral::One(s)) => run.push_str(&s),
                    other => {
                        whole = false;
                        candidates.push(vec![std::mem::take(&mut run)]);
                        candidates.extend(other.map(RegexLiteral::into_set));
                    }
                }
            }
            if whole {
                return Some(RegexLiteral::One(run));
            }
            candidates.push(vec![run]);
            best_clause(candidates).map(RegexLiteral::AnyOf)
        }
        _ => None,
    }
}

/// What a rule needs of every line it can match, whichever of its conditions does.
fn of_rule(rule: &CompiledRule) -> Needs {
    match rule.conditions.as_slice() {
        [] => None,
        [one] => of_condition(one, &rule.detections),
        all => any_of(all.iter().map(|c| of_condition(c, &rule.detections))),
    }
}

/// What the lines of one text source must hold for a rule taking it to match: how
/// the hunt selects them, and how a selected line is told apart before its event is
/// built.
pub(crate) struct LineNeeds {
    /// One needle of each rule's best clause, lower case (and the characters that
    /// fold to ASCII letters): every line a rule can match holds one.
    pub selecting: Vec<String>,
    /// Every needle of every rule's clauses, ASCII-case-insensitively.
    matcher: AhoCorasick,
    /// Per rule, whether it names `cs-uri-stem` (it sees the line's second event) and
    /// its clauses as indices of the matcher's needles.
    rules: Vec<(bool, Vec<Vec<usize>>)>,
}

/// Which of a text line's two events may match a rule: the one with the whole URI in
/// `cs-uri-query` (for rules that do not name `cs-uri-stem`), the one as logged (for
/// those that do). An event no rule may match need not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinePasses {
    pub whole_uri: bool,
    pub as_logged: bool,
}

impl LinePasses {
    /// Both events, as when nothing is known of what the rules need.
    pub const BOTH: LinePasses = LinePasses {
        whole_uri: true,
        as_logged: true,
    };

    /// Whether any event is to be built.
    pub fn any(self) -> bool {
        self.whole_uri || self.as_logged
    }
}

impl LineNeeds {
    /// For the rules with these needs, each given with whether it names the stem and
    /// its clauses; `None` when one of them needs nothing a line must hold.
    fn new(rules: Vec<(bool, &Needs)>) -> Option<LineNeeds> {
        let mut selecting = Vec::new();
        let mut needles: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut of_rules = Vec::new();
        for (uses_stem, needs) in rules {
            let clauses = needs.as_ref()?;
            selecting.extend(best_clause(clauses.clone())?);
            let as_indices = clauses
                .iter()
                .map(|clause| {
                    clause
                        .iter()
                        .map(|needle| {
                            *index.entry(needle.clone()).or_insert_with(|| {
                                needles.push(needle.clone());
                                needles.len() - 1
                            })
                        })
                        .collect()
                })
                .collect();
            of_rules.push((uses_stem, as_indices));
        }
        selecting.extend(FOLD_TO_ASCII.iter().map(|c| c.to_string()));
        selecting.sort();
        selecting.dedup();
        let matcher = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&needles)
            .expect("literal needles always build");
        Some(LineNeeds {
            selecting,
            matcher,
            rules: of_rules,
        })
    }

    /// Which of `line`'s events some rule may match: a rule may where every one of its
    /// clauses has a needle in the line. A line with non-ASCII text may fold into a
    /// needle and is always taken.
    pub(crate) fn passes(&self, line: &str) -> LinePasses {
        if !line.is_ascii() {
            return LinePasses::BOTH;
        }
        let mut present = vec![false; self.matcher.patterns_len()];
        for found in self.matcher.find_overlapping_iter(line) {
            present[found.pattern().as_usize()] = true;
        }
        let mut passes = LinePasses {
            whole_uri: false,
            as_logged: false,
        };
        for (uses_stem, clauses) in &self.rules {
            if clauses.iter().all(|c| c.iter().any(|&i| present[i])) {
                match uses_stem {
                    true => passes.as_logged = true,
                    false => passes.whole_uri = true,
                }
                if passes == LinePasses::BOTH {
                    break;
                }
            }
        }
        passes
    }
}

/// Per text source of `routing`: what its lines must hold for a rule of
/// `engine` that takes it to match them, or `None` when some such rule needs nothing
/// of a line. `rules` gives each engine rule's logsource by its key, `uses_stem` the
/// keys of the rules that name `cs-uri-stem`.
pub(crate) fn text_needs(
    engine: &rsigma_eval::Engine,
    rules: &HashMap<String, RuleInfo>,
    uses_stem: &HashSet<String>,
    routing: &Routing,
) -> Vec<(String, Option<LineNeeds>)> {
    let of_rules: Vec<(&RuleInfo, bool, Needs)> = engine
        .rules()
        .iter()
        .filter_map(|compiled| {
            let key = compiled.id.as_ref().unwrap_or(&compiled.title);
            Some((rules.get(key)?, uses_stem.contains(key), of_rule(compiled)))
        })
        .collect();
    routing
        .text
        .iter()
        .map(|route| {
            let taken = of_rules
                .iter()
                .filter(|(info, _, _)| route.logsource.satisfies(&info.logsource))
                .map(|(_, stem, needs)| (*stem, needs))
                .collect();
            (route.source.clone(), LineNeeds::new(taken))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_is_cut_where_line_and_event_differ_and_its_longest_piece_kept() {
        for (literal, piece) in [
            ("/owa/auth/x.aspx", Some("/owa/auth/x.aspx")),
            // The query joined to the stem by `?`: the line has a space there.
            (".aspx?cmd=whoami", Some("cmd=whoami")),
            // A decoded user agent: the line has `+` where the event has a space.
            ("Mozilla/5.0 (compatible; Nmap", Some("(compatible;")),
            ("Python-Urllib", Some("python-urllib")),
            // CSV quoting doubles a quote; a non-ASCII letter may fold another way.
            ("say \"\"hi\"\"", Some("say")),
            ("straße-xyz", Some("e-xyz")),
            ("", None),
            // A missing query reads as `-`, whatever the line holds.
            ("-", None),
            ("? ", None),
        ] {
            assert_eq!(line_piece(literal).as_deref(), piece, "{literal}");
        }
    }

    /// What the one rule with `detection` needs of a line, each clause sorted.
    fn needs_of(detection: &str) -> Needs {
        let yaml = format!("title: T\nlogsource: {{category: webserver}}\ndetection:\n{detection}");
        let collection = rsigma_parser::parse_sigma_yaml(&yaml).unwrap();
        let mut engine = rsigma_eval::Engine::new();
        engine.add_collection(&collection).unwrap();
        let mut needs = of_rule(&engine.rules()[0])?;
        needs.iter_mut().for_each(|clause| clause.sort());
        Some(needs)
    }

    fn clauses(all: &[&[&str]]) -> Needs {
        Some(
            all.iter()
                .map(|c| c.iter().map(|n| n.to_string()).collect())
                .collect(),
        )
    }

    #[test]
    fn a_rule_s_needs_follow_its_condition() {
        // `and`: every part's, the method's too.
        assert_eq!(
            needs_of("  m: {cs-method: GET}\n  k: ['={{', '=${']\n  condition: m and k\n"),
            clauses(&[&["get"], &["=${", "={{"]])
        );
        // `or`: one of each branch's, distributed over `and`.
        assert_eq!(
            needs_of(
                "  a: {cs-uri-query|contains: cmd=, cs-method: POST}\n  b: {cs-user-agent: sqlmap}\n  condition: a or b\n"
            ),
            clauses(&[&["cmd=", "sqlmap"], &["post", "sqlmap"]])
        );
        // A wildcard inside a value makes a regex: its fixed text, cut at the space.
        assert_eq!(
            needs_of("  s: {cs-uri-query: '*union select*from*'}\n  condition: s\n"),
            clauses(&[&["select"]])
        );
        // No literal a line must hold: every line is read.
        for detection in [
            "  s: {sc-status|gt: 400}\n  condition: s\n",
            "  s: {cs-method: GET}\n  condition: not s\n",
            "  a: {cs-uri-query|contains: x=}\n  b: {sc-status|lt: 300}\n  condition: a or b\n",
        ] {
            assert_eq!(needs_of(detection), None, "{detection}");
        }
    }

    #[test]
    fn lines_are_selected_by_a_clause_of_each_rule_and_taken_when_all_its_clauses_hold() {
        let method_and_template = clauses(&[&["get"], &["={{", "=<%="]]);
        let stem_rule = clauses(&[&["/owa/auth/"]]);
        let needs =
            LineNeeds::new(vec![(false, &method_and_template), (true, &stem_rule)]).unwrap();
        assert!(
            needs.selecting.contains(&"={{".to_string()),
            "{:?}",
            needs.selecting
        );
        assert!(
            !needs.selecting.contains(&"get".to_string()),
            "the method selects every GET"
        );
        let passes = |line: &str| {
            let p = needs.passes(line);
            (p.whole_uri, p.as_logged)
        };
        assert_eq!(passes("GET /x a={{7*7}} 443"), (true, false));
        assert_eq!(
            passes("POST /x a={{7*7}} 443"),
            (false, false),
            "not every clause holds"
        );
        assert_eq!(passes("GET /owa/auth/x.aspx a=1 443"), (false, true));
        // A letter that folds to ASCII: the engine may see `get` where the line has none.
        assert_eq!(passes("\u{212a}ET /x a={{7*7}} 443"), (true, true));
        assert!(
            LineNeeds::new(vec![(false, &method_and_template), (false, &None)]).is_none(),
            "a rule with no needs reads every line"
        );
    }

    #[test]
    fn a_regex_s_case_folded_letters_join_into_one_literal() {
        let clause = |pattern: &str| of_regex(pattern).map(|mut n| n.remove(0));
        assert_eq!(clause("(?i)whoami"), Some(vec!["whoami".to_string()]));
        assert_eq!(
            clause("(?i)^.*cmd\\.exe .*$"),
            Some(vec!["cmd.exe".to_string()])
        );
        assert_eq!(
            clause("(net|sc)\\.exe"),
            Some(vec![".exe".to_string()]),
            "the part whose shortest literal is longest"
        );
        assert_eq!(of_regex("[a-z]+"), None);
    }
}
