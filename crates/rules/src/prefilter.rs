//! A literal prefilter for the YARA rule set. From the rules' source it derives
//! literals of which at least one must appear in a file (compared ASCII-case-
//! insensitively) for any rule to match; a file holding none of them skips the YARA-X
//! scan. One SIMD search over lower-cased bytes costs a fraction of YARA-X's pattern
//! search, and most files on a server hold none of the literals.
//!
//! The analysis only ever widens the set of files scanned: a rule that could match
//! without any of its patterns (a condition on `filesize`, a module, `not`, `#a == 0`,
//! another rule), or through a pattern not reducible to literals (`xor`, `base64`, a
//! regular expression without a literal prefix), switches the prefilter off.

use aho_corasick::{AhoCorasick, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use std::collections::HashSet;
use yara_x_parser::ast::{self, Expr, HexToken, Pattern, Quantifier, AST};

/// Literals, lower case; a file must hold one of them.
type Literals = Vec<Vec<u8>>;

/// The size of the pieces a file is lowered and searched in: small enough for the cache.
const PIECE: usize = 64 << 10;

pub struct Prefilter {
    matcher: AhoCorasick,
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
    /// The prefilter of a rule set compiled from `sources`, or `None` when some rule
    /// may match a file holding none of the literals. Rules that did not compile
    /// cannot match and are left out; a compiled rule the analysis cannot find in the
    /// source (a damaged file) switches the prefilter off.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = NamespaceSource<'a>>,
    ) -> Option<Prefilter> {
        let mut literals = Literals::new();
        for namespace in sources {
            let asts: Vec<AST> = namespace.texts.iter().map(|t| AST::from(*t)).collect();
            let parsed: HashSet<&str> = asts
                .iter()
                .flat_map(|ast| ast.rules().map(|r| r.identifier.name))
                .collect();
            match namespace.compiled {
                None if asts.iter().any(|ast| !ast.errors().is_empty()) => return None,
                Some(compiled) if !compiled.iter().all(|c| parsed.contains(c.as_str())) => {
                    return None
                }
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
                literals.extend(rule_literals(rule)?);
            }
        }
        for literal in &mut literals {
            literal.make_ascii_lowercase();
        }
        literals.sort();
        literals.dedup();
        if literals.iter().any(Vec::is_empty) {
            return None;
        }
        let overlap = literals.iter().map(Vec::len).max().unwrap_or(1) - 1;
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&literals)
            .ok()?;
        Some(Prefilter { matcher, overlap })
    }

    /// Whether some rule may match `data`. `scratch` is a reusable buffer.
    pub fn may_match(&self, data: &[u8], scratch: &mut Vec<u8>) -> bool {
        let mut start = 0;
        loop {
            let end = (start + PIECE + self.overlap).min(data.len());
            scratch.clear();
            scratch.extend(data[start..end].iter().map(u8::to_ascii_lowercase));
            if self.matcher.is_match(scratch.as_slice()) {
                return true;
            }
            if end == data.len() {
                return false;
            }
            start += PIECE;
        }
    }
}

/// What must appear in a file for the rule to match.
fn rule_literals(rule: &ast::Rule) -> Option<Literals> {
    let patterns: Vec<(&str, Option<Literals>)> = rule
        .patterns
        .iter()
        .flatten()
        .map(|p| (p.identifier().name, pattern_literals(p)))
        .collect();
    required(&rule.condition, &patterns)
}

/// The literals an expression needs, when it can only be true with one of them.
fn required(expr: &Expr, patterns: &[(&str, Option<Literals>)]) -> Option<Literals> {
    // `$a`, `#a`, `@a` and `!a` all name the pattern `$a`.
    let by_name = |name: &str| {
        patterns
            .iter()
            .find(|(n, _)| n.get(1..) == name.get(1..) && name.len() > 1)
            .and_then(|(_, l)| l.clone())
    };
    match expr {
        Expr::PatternMatch(m) => by_name(m.identifier.name),
        Expr::And(and) => and
            .operands()
            .filter_map(|e| required(e, patterns))
            .max_by_key(selectivity),
        Expr::Or(or) => union(or.operands().map(|e| required(e, patterns))),
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
            match &of.items {
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
                    union(exprs.iter().map(|e| required(e, patterns)))
                }
            }
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

/// The literal prefixes of a regular expression: every match starts with one.
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
    // `eval\s*\(` gives `eval\t`, `eval\n`, `eval (`...: their common prefix screens
    // as well, with one literal instead of seven.
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
    if prefixes.len() > 1 && common >= 3 {
        prefixes = vec![prefixes[0][..common].to_vec()];
    }
    Some(prefixes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(source: &str) -> Option<Vec<String>> {
        let ast = AST::from(source.as_bytes());
        assert!(ast.errors().is_empty(), "{:?}", ast.errors());
        let mut out: Vec<String> = rule_literals(ast.rules().next().unwrap())?
            .into_iter()
            .map(|mut l| {
                l.make_ascii_lowercase();
                String::from_utf8_lossy(&l).replace('\0', "_")
            })
            .collect();
        out.sort();
        out.dedup();
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
        assert_eq!(
            rule(two, "$a or $b"),
            Some(vec!["alpha".into(), "bravo".into()])
        );
        assert_eq!(
            rule(two, "any of them"),
            Some(vec!["alpha".into(), "bravo".into()])
        );
        assert_eq!(
            rule(two, "2 of ($a, $b)"),
            Some(vec!["alpha".into(), "bravo".into()])
        );
        assert_eq!(rule(two, "#a > 2"), Some(vec!["alpha".into()]));
        assert_eq!(rule(two, "$a or filesize < 10"), None);
        assert_eq!(rule(two, "not $a"), None);
        assert_eq!(rule(two, "#a == 0"), None);
        assert_eq!(rule(two, "none of them"), None);
        assert_eq!(rule(two, "filesize < 10"), None);
        assert_eq!(
            rule(r#"$a = "Key" wide ascii nocase"#, "$a"),
            Some(vec!["k_e_y_".into(), "key".into()])
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
