//! Which rule files can match only a Windows executable: every rule whose match is
//! reported (private rules aside) tests `uint16(0) == 0x5A4D`, the `MZ` a PE file
//! starts with, as a part of its condition that must hold. signature-base writes a
//! third of its rules so, in files of their own (malware families, hack tools); a
//! file that does not start with `MZ` cannot satisfy them, so it is scanned without
//! them, and YARA-X does not search their patterns in every page, log and archive
//! (a file that does is scanned once, with them). Nothing a rule could match is
//! skipped: a rule that could match
//! another file (an `or` with some other branch, a header tested through a private
//! rule or at another offset) keeps its file in the set scanned on every file.

use yara_x_parser::ast::{Expr, RuleFlags, AST};

/// The first two bytes of every PE file.
pub const PE_MAGIC: &[u8; 2] = b"MZ";

/// True when the sources (a rule file and what it includes) parse and every rule
/// they report can hold only for a file starting with [`PE_MAGIC`].
pub fn only_pe_files(texts: &[&[u8]]) -> bool {
    let mut reported = 0;
    for text in texts {
        let ast = AST::from(*text);
        if !ast.errors().is_empty() {
            return false;
        }
        for rule in ast.rules() {
            if rule.flags.contains(RuleFlags::Private) {
                continue;
            }
            if !needs_pe_magic(&rule.condition) {
                return false;
            }
            reported += 1;
        }
    }
    reported > 0
}

/// Whether `expr` can be true only for a file whose first two bytes are `MZ`.
fn needs_pe_magic(expr: &Expr) -> bool {
    match expr {
        Expr::And(and) => and.operands().any(needs_pe_magic),
        Expr::Or(or) => or.operands().all(needs_pe_magic),
        Expr::Eq(eq) => {
            [(&eq.lhs, &eq.rhs), (&eq.rhs, &eq.lhs)]
                .into_iter()
                .any(|(call, value)| {
                    reads_first_word(call, value, "uint16", 0x5A4D)
                        || reads_first_word(call, value, "uint16be", 0x4D5A)
                })
        }
        _ => false,
    }
}

/// True when `call` is `function(0)` and `value` the literal `magic`.
fn reads_first_word(call: &Expr, value: &Expr, function: &str, magic: i64) -> bool {
    let reads = matches!(call, Expr::FuncCall(f)
        if f.object.is_none()
            && f.identifier.name == function
            && matches!(f.args.as_slice(), [Expr::LiteralInteger(at)] if at.value == 0));
    reads && matches!(value, Expr::LiteralInteger(v) if v.value == magic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pe_only(source: &str) -> bool {
        only_pe_files(&[source.as_bytes()])
    }

    #[test]
    fn a_file_of_rules_that_need_mz_is_pe_only() {
        assert!(pe_only(
            "rule a { strings: $a = \"x\" condition: uint16(0) == 0x5a4d and filesize < 1MB and $a }
             rule b { strings: $b = \"y\" condition: (uint16(0) == 0x5A4D or uint16be(0) == 0x4d5a) and $b }
             rule c { condition: 0x5a4d == uint16(0) }
             private rule helper { condition: filesize < 10 }"
        ));
    }

    #[test]
    fn a_rule_that_could_match_another_file_keeps_the_file_general() {
        for other in [
            "rule d { strings: $a = \"x\" condition: $a }",
            "rule d { strings: $a = \"x\" condition: uint16(0) == 0x5a4d or $a }",
            "rule d { condition: uint16(2) == 0x5a4d }",
            "rule d { condition: uint16(0) == 0x457f }",
            "rule d { condition: not uint16(0) == 0x5a4d }",
        ] {
            let source = format!("rule a {{ condition: uint16(0) == 0x5a4d }} {other}");
            assert!(!pe_only(&source), "{other}");
        }
        assert!(!pe_only(
            "private rule p { condition: uint16(0) == 0x5a4d }"
        ));
        assert!(!pe_only("rule broken { condition: uint16(0) == "));
    }
}
