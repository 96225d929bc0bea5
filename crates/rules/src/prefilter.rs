//! A literal prefilter for the YARA rule set. From the rules' source it derives, per
//! rule, groups of literals: the rule can match only a file that holds one literal of
//! every group (compared ASCII-case-insensitively). `$a and $b and any of ($c*)` needs
//! `a`, `b` and one of the `c`s, so a page that merely says "Request" does not wake a
//! rule that also needs an `eval`. A file that satisfies no rule skips the YARA-X scan.
//! One SIMD search over lower-cased bytes costs a fraction of YARA-X's pattern search,
//! and most files on a server satisfy no rule.
//!
//! The analysis only ever widens the set of files scanned: a rule that could match
//! without any of its patterns (a condition on `filesize`, a module, `not`, `#a == 0`,
//! another rule), or through a pattern not reducible to literals (`xor`, `base64`, a
//! regular expression without a literal prefix), switches the prefilter off; a part of a
//! condition that needs no literal is simply not required.

use aho_corasick::{AhoCorasick, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use std::collections::{HashMap, HashSet};
use yara_x_parser::ast::{self, Expr, HexToken, Pattern, Quantifier, AST};

/// Literals, lower case; a file must hold one of them.
type Literals = Vec<Vec<u8>>;
/// Groups of literals a rule needs: one of every group.
pub type Requirement = Vec<Literals>;

/// The gate's literals are cut to this many bytes: six bytes are as rare in random data
/// as twenty, and cut literals fold into one another (`directory.delete`,
/// `directory.move` ... into `direct`), keeping the gate within the SIMD searcher's
/// reach.
const GATE_LITERAL_BYTES: usize = 6;

/// The most literals one gate searcher takes: Teddy's limit.
const GATE_SEARCHER_LITERALS: usize = 64;

/// The widest gate worth having: four Teddy searchers. A pack as broad as
/// signature-base needs thousands of gate literals (128 searchers), which open on most
/// files anyway; scanning those files with YARA-X directly costs less (measured on the
/// benchmark tree: 27.8 s with the gate, 18 s without).
const MAX_GATE_LITERALS: usize = 4 * GATE_SEARCHER_LITERALS;

/// The size of the pieces a file is lowered and searched in: small enough for the cache.
const PIECE: usize = 64 << 10;

pub struct Prefilter {
    /// Find whether a literal of some rule's most selective group is there: the fast
    /// search (no short literal that random bytes hold), which most files end with. A
    /// searcher of at most [`GATE_SEARCHER_LITERALS`] runs SIMD (Teddy); one over
    /// more literals would run byte by byte, so the gate is split among several.
    gate_searchers: Vec<AhoCorasick>,
    #[cfg(test)]
    gate: Literals,
    /// Finds every literal that is there, overlaps included, for the per-rule check.
    matcher: AhoCorasick,
    /// Per rule, its groups as indices of the matcher's literals.
    rules: Vec<Vec<Vec<usize>>>,
    literal_count: usize,
    /// Pieces overlap by this much so a literal across a piece boundary is seen.
    overlap: usize,
}

/// The source of one namespace of a rule set (a file and the files it includes) and
/// the rules of it that compiled (`None`: all of them).
pub struct NamespaceSource<'a> {
    pub texts: Vec<&'a [u8]>,
    pub compiled: Option<&'a HashSet<String>>,
}

impl Prefilter {
    #[cfg(test)]
    /// The prefilter of a rule set compiled from `sources`, or `None` when some rule
    /// may match a file holding none of the literals. Rules that did not compile
    /// cannot match and are left out; a compiled rule the analysis cannot find in the
    /// source (a damaged file) switches the prefilter off.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = NamespaceSource<'a>>,
    ) -> Option<Prefilter> {
        Prefilter::from_requirements(requirements_of(sources)?)
    }

    /// The prefilter of rules needing `requirements` (what [`requirements_of`] found,
    /// perhaps read back from the rule cache).
    /// `None` when the gate would not be selective (see [`is_selective`]).
    pub fn from_requirements(requirements: Vec<Requirement>) -> Option<Prefilter> {
        let requirements = widened_all(requirements);
        let gate = gate_of(&requirements);
        if gate.len() > MAX_GATE_LITERALS {
            return None;
        }
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut literals: Literals = Vec::new();
        let mut rules = Vec::with_capacity(requirements.len());
        for requirement in requirements {
            let mut groups = Vec::with_capacity(requirement.len());
            for group in requirement {
                let mut ids: Vec<usize> = Vec::with_capacity(group.len());
                for mut literal in group {
                    if literal.is_empty() {
                        return None;
                    }
                    literal.make_ascii_lowercase();
                    let id = *index.entry(literal.clone()).or_insert_with(|| {
                        literals.push(literal);
                        literals.len() - 1
                    });
                    ids.push(id);
                }
                ids.sort_unstable();
                ids.dedup();
                groups.push(ids);
            }
            rules.push(groups);
        }
        let overlap = literals.iter().map(Vec::len).max().unwrap_or(1) - 1;
        let gate_searchers = gate
            .chunks(GATE_SEARCHER_LITERALS)
            .map(|chunk| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(chunk)
                    .ok()
            })
            .collect::<Option<Vec<_>>>()?;
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&literals)
            .ok()?;
        Some(Prefilter {
            gate_searchers,
            #[cfg(test)]
            gate,
            matcher,
            rules,
            literal_count: literals.len(),
            overlap,
        })
    }

    /// Whether some rule may match `data`. `scratch` is a reusable buffer.
    pub fn may_match(&self, data: &[u8], scratch: &mut Vec<u8>) -> bool {
        // The gate first, over the whole file: a file without any of its literals
        // satisfies no rule. Only then is every literal looked for, in every piece.
        let gate_opens = |piece: &[u8]| self.gate_searchers.iter().any(|g| g.is_match(piece));
        if !self.each_piece(data, scratch, gate_opens) {
            return false;
        }
        let mut present = vec![false; self.literal_count];
        self.each_piece(data, scratch, |piece| {
            let mut found_new = false;
            for m in self.matcher.find_overlapping_iter(piece) {
                let seen = &mut present[m.pattern().as_usize()];
                found_new |= !*seen;
                *seen = true;
            }
            found_new && self.some_rule_satisfied(&present)
        })
    }

    /// Calls `stop` on each lower-cased piece of `data` until it returns true; whether
    /// it did.
    fn each_piece(
        &self,
        data: &[u8],
        scratch: &mut Vec<u8>,
        mut stop: impl FnMut(&[u8]) -> bool,
    ) -> bool {
        let mut start = 0;
        loop {
            let end = (start + PIECE + self.overlap).min(data.len());
            scratch.clear();
            scratch.extend(data[start..end].iter().map(u8::to_ascii_lowercase));
            if stop(scratch.as_slice()) {
                return true;
            }
            if end == data.len() {
                return false;
            }
            start += PIECE;
        }
    }

    fn some_rule_satisfied(&self, present: &[bool]) -> bool {
        self.rules.iter().any(|groups| {
            groups
                .iter()
                .all(|group| group.iter().any(|&id| present[id]))
        })
    }
}

/// Whether every public rule of a namespace (a file and the files it includes) needs
/// literals the prefilter can look for; a namespace that does not is scanned on every
/// file, apart from the rest, so that it does not switch the prefilter off.
pub fn needs_literals(texts: &[&[u8]]) -> bool {
    texts.iter().all(|text| {
        let ast = AST::from(*text);
        ast.errors().is_empty()
            && ast
                .rules()
                .filter(|rule| !rule.flags.contains(ast::RuleFlags::Private))
                .all(|rule| rule_requirement(rule).is_some())
    })
}

fn widened_all(requirements: Vec<Requirement>) -> Vec<Requirement> {
    requirements
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|g| g.into_iter().map(widened).collect())
                .collect()
        })
        .collect()
}

/// The gate: each rule's most selective group, cut and folded.
fn gate_of(requirements: &[Requirement]) -> Literals {
    fewest(
        requirements
            .iter()
            .filter_map(|r| r.iter().max_by_key(|g| selectivity(g)))
            .flatten()
            .map(|l| l[..l.len().min(GATE_LITERAL_BYTES)].to_ascii_lowercase())
            .collect(),
    )
}

/// Whether rules needing `requirements` make a gate narrow enough to turn most files
/// away ([`MAX_GATE_LITERALS`]); if not, the prefilter would cost more than it saves.
pub fn is_selective(requirements: &[Requirement]) -> bool {
    gate_of(&widened_all(requirements.to_vec())).len() <= MAX_GATE_LITERALS
}

/// Per public rule that compiled, the literals it needs, or `None` when some rule may
/// match a file holding none (or the source does not parse as it compiled).
pub fn requirements_of<'a>(
    sources: impl IntoIterator<Item = NamespaceSource<'a>>,
) -> Option<Vec<Requirement>> {
    let mut requirements = Vec::new();
    for namespace in sources {
        let asts: Vec<AST> = namespace.texts.iter().map(|t| AST::from(*t)).collect();
        let parsed: HashSet<&str> = asts
            .iter()
            .flat_map(|ast| ast.rules().map(|r| r.identifier.name))
            .collect();
        match namespace.compiled {
            None if asts.iter().any(|ast| !ast.errors().is_empty()) => return None,
            Some(compiled) if !compiled.iter().all(|c| parsed.contains(c.as_str())) => return None,
            _ => {}
        }
        for rule in asts.iter().flat_map(|ast| ast.rules()) {
            // A private rule yields no finding; a public rule that uses it names
            // it in its condition, which the analysis does not see through.
            if rule.flags.contains(ast::RuleFlags::Private)
                || namespace
                    .compiled
                    .is_some_and(|c| !c.contains(rule.identifier.name))
            {
                continue;
            }
            requirements.push(rule_requirement(rule)?);
        }
    }
    Some(requirements)
}

/// What must appear in a file for the rule to match.
fn rule_requirement(rule: &ast::Rule) -> Option<Requirement> {
    let patterns: Vec<(&str, Option<Literals>)> = rule
        .patterns
        .iter()
        .flatten()
        .map(|p| (p.identifier().name, pattern_literals(p)))
        .collect();
    required(&rule.condition, &patterns)
}

/// The groups of literals an expression needs, when it can only be true with them: an
/// `and` needs what each of its parts needs; an `or` or an `of` one literal among its
/// alternatives' (each alternative contributing its most selective group).
fn required(expr: &Expr, patterns: &[(&str, Option<Literals>)]) -> Option<Requirement> {
    // `$a`, `#a`, `@a` and `!a` all name the pattern `$a`.
    let by_name = |name: &str| {
        patterns
            .iter()
            .find(|(n, _)| n.get(1..) == name.get(1..) && name.len() > 1)
            .and_then(|(_, l)| l.clone())
    };
    match expr {
        Expr::PatternMatch(m) => by_name(m.identifier.name).map(|l| vec![l]),
        Expr::And(and) => {
            let groups: Requirement = and
                .operands()
                .filter_map(|e| required(e, patterns))
                .flatten()
                .collect();
            (!groups.is_empty()).then_some(groups)
        }
        Expr::Or(or) => {
            union(or.operands().map(|e| best_group(required(e, patterns)))).map(|l| vec![l])
        }
        // `#a > k` (k >= 0), `#a >= k` and `#a == k` (k >= 1) need a match of `$a`.
        Expr::Gt(cmp) | Expr::Ge(cmp) | Expr::Eq(cmp) => {
            let Expr::PatternCount(count) = &cmp.lhs else {
                return None;
            };
            let Expr::LiteralInteger(k) = &cmp.rhs else {
                return None;
            };
            let least = if matches!(expr, Expr::Gt(_)) { 0 } else { 1 };
            (k.value >= least)
                .then(|| by_name(count.identifier.name))
                .flatten()
                .map(|l| vec![l])
        }
        Expr::Of(of) => {
            let at_least_one = match &of.quantifier {
                Quantifier::Any { .. } | Quantifier::All { .. } => true,
                Quantifier::Expr(Expr::LiteralInteger(k))
                | Quantifier::Percentage(Expr::LiteralInteger(k)) => k.value >= 1,
                _ => false,
            };
            if !at_least_one {
                return None;
            }
            let group = match &of.items {
                ast::OfItems::PatternSet(set) => union(
                    patterns
                        .iter()
                        .filter(|(name, _)| match set {
                            ast::PatternSet::Them { .. } => true,
                            ast::PatternSet::Set(items) => {
                                items.iter().any(|i| i.matches(&ast::Ident::new(name)))
                            }
                        })
                        .map(|(_, l)| l.clone()),
                ),
                ast::OfItems::BoolExprTuple(exprs) => {
                    union(exprs.iter().map(|e| best_group(required(e, patterns))))
                }
            };
            group.map(|l| vec![l])
        }
        _ => None,
    }
}

/// Every alternative's literals, or `None` when one alternative needs none.
fn union(alternatives: impl Iterator<Item = Option<Literals>>) -> Option<Literals> {
    let mut all = Literals::new();
    for literals in alternatives {
        all.extend(literals?);
    }
    (!all.is_empty()).then_some(all)
}

/// A literal cut before its first whitespace once it has four bytes: `\s` in a regular
/// expression expands into one literal per space character (`eval\t`, `eval\n`,
/// `eval `...), which the word before it screens almost as well. Cutting only widens.
fn widened(mut literal: Vec<u8>) -> Vec<u8> {
    if let Some(cut) = literal
        .iter()
        .skip(4)
        .position(|b| b.is_ascii_whitespace() || *b == 0x0b)
    {
        literal.truncate(cut + 4);
    }
    literal
}

/// The literals without those that hold another of them (`eval(` goes where `eval`
/// is): the same files pass, and the search stays one the SIMD searcher takes.
fn fewest(mut literals: Literals) -> Literals {
    literals.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    literals.dedup();
    let mut kept: Literals = Vec::new();
    for literal in literals {
        if !kept
            .iter()
            .any(|k| memchr::memmem::find(&literal, k).is_some())
        {
            kept.push(literal);
        }
    }
    kept
}

/// The one group of a requirement that screens best, for an alternative of an `or`.
fn best_group(requirement: Option<Requirement>) -> Option<Literals> {
    requirement?.into_iter().max_by_key(selectivity)
}

/// How well a set of literals screens files: long literals, and few of them.
fn selectivity(literals: &Literals) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = literals.iter().map(Vec::len).min().unwrap_or(0);
    (shortest.min(8), std::cmp::Reverse(literals.len()))
}

/// The literals one of which any match of the pattern holds.
fn pattern_literals(pattern: &Pattern) -> Option<Literals> {
    let modifiers = pattern.modifiers();
    if modifiers.xor().is_some() || modifiers.base64().is_some() || modifiers.base64wide().is_some()
    {
        return None;
    }
    let plain: Literals = match pattern {
        Pattern::Text(text) => vec![text.text.value.to_vec()],
        Pattern::Hex(hex) => vec![longest_fixed_run(&hex.sub_patterns)?],
        Pattern::Regexp(re) => regexp_prefixes(&re.regexp)?,
    };
    if plain.iter().any(Vec::is_empty) {
        return None;
    }
    let wide = modifiers.wide().is_some();
    let ascii = modifiers.ascii().is_some() || !wide;
    let mut literals = Literals::new();
    for literal in plain {
        if wide {
            literals.push(literal.iter().flat_map(|&b| [b, 0]).collect());
        }
        if ascii {
            literals.push(literal);
        }
    }
    Some(literals)
}

/// The longest run of fully given bytes in a hex pattern.
fn longest_fixed_run(tokens: &ast::HexSubPattern) -> Option<Vec<u8>> {
    let mut best = Vec::new();
    let mut run = Vec::new();
    for token in tokens.iter() {
        match token {
            HexToken::Byte(b) if b.mask == 0xff => run.push(b.value),
            _ => run.clear(),
        }
        if run.len() > best.len() {
            best.clone_from(&run);
        }
    }
    (best.len() >= 2).then_some(best)
}

/// The literal prefixes of a regular expression: every match starts with one. When
/// they share a start of four bytes or more, that alone: `eval\s*\(` gives `eval\t`,
/// `eval\n`, `eval (`..., which `eval` screens as well, in one literal.
fn regexp_prefixes(re: &ast::Regexp) -> Option<Literals> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .case_insensitive(re.case_insensitive)
        .dot_matches_new_line(re.dot_matches_new_line)
        .build()
        .parse(re.src)
        .ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let mut prefixes: Literals = seq
        .literals()?
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    prefixes.sort();
    prefixes.dedup();
    let common = prefixes
        .iter()
        .skip(1)
        .fold(prefixes.first()?.len(), |len, p| {
            len.min(
                p.iter()
                    .zip(&prefixes[0])
                    .take_while(|(a, b)| a == b)
                    .count(),
            )
        });
    if prefixes.len() > 1 && common >= 4 {
        prefixes = vec![prefixes[0][..common].to_vec()];
    }
    Some(prefixes)
}

#[cfg(test)]
mod tests {

    use super::*;

    /// A rule's requirement, each group as its sorted literals joined by `|`.
    fn literals(source: &str) -> Option<Vec<String>> {
        let ast = AST::from(source.as_bytes());
        assert!(ast.errors().is_empty(), "{:?}", ast.errors());
        let mut out: Vec<String> = rule_requirement(ast.rules().next().unwrap())?
            .into_iter()
            .map(|group| {
                let mut group: Vec<String> = group
                    .into_iter()
                    .map(|mut l| {
                        l.make_ascii_lowercase();
                        String::from_utf8_lossy(&l).replace('\0', "_")
                    })
                    .collect();
                group.sort();
                group.dedup();
                group.join("|")
            })
            .collect();
        out.sort();
        Some(out)
    }

    #[test]
    fn conditions_reduce_to_the_literals_a_match_needs() {
        let rule = |strings: &str, condition: &str| {
            literals(&format!(
                "rule r {{ strings: {strings} condition: {condition} }}"
            ))
        };
        let two = r#"$a = "alpha" $b = "bravo""#;
        assert_eq!(
            rule(two, "$a and filesize < 10"),
            Some(vec!["alpha".into()])
        );
        assert_eq!(rule(two, "$a or $b"), Some(vec!["alpha|bravo".into()]));
        assert_eq!(rule(two, "any of them"), Some(vec!["alpha|bravo".into()]));
        assert_eq!(rule(two, "2 of ($a, $b)"), Some(vec!["alpha|bravo".into()]));
        // Every part of an `and` is required, not just its most selective one.
        assert_eq!(
            rule(two, "$a and $b"),
            Some(vec!["alpha".into(), "bravo".into()])
        );
        assert_eq!(
            rule(two, "($a and $b) or #a > 3"),
            Some(vec!["alpha|bravo".into()])
        );
        assert_eq!(rule(two, "#a > 2"), Some(vec!["alpha".into()]));
        assert_eq!(rule(two, "$a or filesize < 10"), None);
        assert_eq!(rule(two, "not $a"), None);
        assert_eq!(rule(two, "#a == 0"), None);
        assert_eq!(rule(two, "none of them"), None);
        assert_eq!(rule(two, "filesize < 10"), None);
        assert_eq!(
            rule(r#"$a = "Key" wide ascii nocase"#, "$a"),
            Some(vec!["k_e_y_|key".into()])
        );
        assert_eq!(rule(r#"$a = "key" xor"#, "$a"), None);
        assert_eq!(
            rule(r"$a = { 4D 5A ?? 00 01 02 03 }", "$a"),
            Some(vec!["_\u{1}\u{2}\u{3}".into()])
        );
        assert_eq!(
            rule(r"$a = /eval\s*\(/ nocase", "$a"),
            Some(vec!["eval".into()])
        );
        assert_eq!(rule(r"$a = /.*x/", "$a"), None);
    }

    #[test]
    fn files_without_any_literal_are_passed_over() {
        let prefilter = Prefilter::from_sources([all(
            br#"rule r { strings: $a = "NeedleText" wide ascii condition: $a }"#,
        )])
        .expect("constrained");
        let mut scratch = Vec::new();
        let mut data = vec![b'x'; 3 * PIECE];
        assert!(!prefilter.may_match(&data, &mut scratch));
        // Across a piece boundary, in another case.
        data[PIECE - 4..PIECE + 6].copy_from_slice(b"NEEDLEtext");
        assert!(prefilter.may_match(&data, &mut scratch));
        let wide: Vec<u8> = "needletext".bytes().flat_map(|b| [b, 0]).collect();
        assert!(prefilter.may_match(&wide, &mut scratch));
        assert!(Prefilter::from_sources([all(b"rule r { condition: filesize < 10 }")]).is_none());
    }

    #[test]
    fn gate_literals_are_long_enough_not_to_open_on_random_bytes() {
        let sources = crate::BUILTIN_RULES
            .iter()
            .map(|(_, text)| NamespaceSource {
                texts: vec![text.as_bytes()],
                compiled: None,
            });
        let prefilter = Prefilter::from_sources(sources).expect("the built-in rules have one");
        let short: Vec<String> = prefilter
            .gate
            .iter()
            .filter(|l| l.len() < 4)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert!(short.is_empty(), "short gate literals: {short:?}");
        // Few enough searchers that the gate stays a few SIMD passes.
        assert!(
            prefilter.gate_searchers.len() <= 3,
            "{} gate literals",
            prefilter.gate.len()
        );
    }

    #[test]
    fn a_rule_is_woken_only_when_every_part_it_needs_is_there() {
        let prefilter = Prefilter::from_sources([all(
            br#"rule r { strings: $a = "request" $b = "eval" $c = "execute" condition: $a and ($b or $c) }"#,
        )])
        .expect("constrained");
        let mut scratch = Vec::new();
        assert!(!prefilter.may_match(b"Request.Form only", &mut scratch));
        assert!(!prefilter.may_match(b"eval alone", &mut scratch));
        assert!(prefilter.may_match(b"EXECUTE the Request", &mut scratch));
        // The parts may sit in different pieces of a large file.
        let mut data = vec![b'x'; 3 * PIECE];
        data[10..17].copy_from_slice(b"request");
        data[2 * PIECE + 5..2 * PIECE + 9].copy_from_slice(b"eval");
        assert!(prefilter.may_match(&data, &mut scratch));
    }

    fn all(text: &[u8]) -> NamespaceSource<'_> {
        NamespaceSource {
            texts: vec![text],
            compiled: None,
        }
    }

    #[test]
    fn rules_that_did_not_compile_are_left_out_and_damage_is_safe() {
        let text = br#"rule good { strings: $a = "hello" condition: $a } rule bad { condition: filesize < 10 and nope }"#;
        let good: HashSet<String> = ["good".to_string()].into();
        let prefilter = Prefilter::from_sources([NamespaceSource {
            texts: vec![text],
            compiled: Some(&good),
        }])
        .expect("the rule that compiled needs a literal");
        let mut scratch = Vec::new();
        assert!(prefilter.may_match(b"say hello", &mut scratch));
        assert!(!prefilter.may_match(b"goodbye", &mut scratch));
        // A compiled rule the source does not show (a damaged file): no prefilter.
        let ghost: HashSet<String> = ["elsewhere".to_string()].into();
        assert!(Prefilter::from_sources([NamespaceSource {
            texts: vec![b"rule good { condition: }"],
            compiled: Some(&ghost),
        }])
        .is_none());
    }
}
