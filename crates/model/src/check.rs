//! What a check is and what it reports. Built-in checks are statics whose text is
//! borrowed; a rule pack or a Sigma rule builds its own [`Check`] with owned text, so
//! every finding carries its own ID, title, references and level whoever wrote it.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Text that is a `&'static str` for built-in checks and owned for loaded rules.
pub type Text = Cow<'static, str>;

/// How bad a finding is. Ordered, so `--fail-level` is a simple comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The default 0-100 score for a severity, used when a check has no finer score.
    pub fn default_score(self) -> u8 {
        match self {
            Severity::Info => 10,
            Severity::Low => 30,
            Severity::Medium => 50,
            Severity::High => 75,
            Severity::Critical => 100,
        }
    }

    /// Maps a Loki/THOR-style score (0-100+) to a severity, as those tools do:
    /// below 40 a notice, below 75 a warning, from 75 an alert.
    pub fn from_score(score: i64) -> Severity {
        match score {
            i64::MIN..=39 => Severity::Low,
            40..=74 => Severity::Medium,
            75..=99 => Severity::High,
            _ => Severity::Critical,
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad` honours width and alignment, so tables line up.
        f.pad(self.as_str())
    }
}

/// What a finding says about the server, which decides its part in the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// The server was compromised: a web shell, a dump, successful exploitation.
    Compromise,
    /// Someone tried: probes, refused or failed exploits.
    Attempt,
    /// Worth a look, not proof on its own: indicator names, archives, user agents.
    Suspicious,
    /// The server is open: missing updates or mitigations (what the exposure checks report).
    Exposure,
}

impl Class {
    pub const ALL: [Class; 4] = [
        Class::Compromise,
        Class::Attempt,
        Class::Suspicious,
        Class::Exposure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Compromise => "compromise",
            Class::Attempt => "attempt",
            Class::Suspicious => "suspicious",
            Class::Exposure => "exposure",
        }
    }
}

/// A reference that explains or sources a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Reference {
    Cve(Text),
    Attack(Text),
    Url(Text),
    /// Author of a third-party rule or feed, shown with its matches (licence terms
    /// of rule packs such as signature-base ask for it).
    Author(Text),
}

impl Reference {
    pub const fn cve(id: &'static str) -> Reference {
        Reference::Cve(Cow::Borrowed(id))
    }
    pub const fn attack(id: &'static str) -> Reference {
        Reference::Attack(Cow::Borrowed(id))
    }
    pub const fn url(url: &'static str) -> Reference {
        Reference::Url(Cow::Borrowed(url))
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Cve(id) => write!(f, "{id}"),
            Reference::Attack(id) => write!(f, "ATT&CK {id}"),
            Reference::Url(url) => write!(f, "{url}"),
            Reference::Author(who) => write!(f, "author: {who}"),
        }
    }
}

/// A check: what it looks for and what a hit means. Findings copy it, so every
/// finding is explained.
#[derive(Clone, Debug)]
pub struct Check {
    /// Stable: `EXS-FILE-001`; a loaded rule keeps the ID of the check that runs it.
    pub id: Text,
    pub title: Text,
    /// The severity of a hit unless the check says otherwise for one hit.
    pub severity: Severity,
    /// The class of a hit unless the check says otherwise (an attempt, not a success).
    pub class: Class,
    /// A finer kind for filters: `webshell`, `credential-access`, `exploitation` ...
    pub category: Text,
    pub references: Cow<'static, [Reference]>,
    /// Why a hit matters, for the console and `exsweep checks`.
    pub why: Text,
    pub action: Text,
}

impl Check {
    /// A hit of this check with its default severity and class.
    pub fn hit(&self, detail: String) -> Hit {
        Hit {
            check: self.clone(),
            severity: self.severity,
            class: self.class,
            detail,
            score: None,
            rule: None,
            matches: Vec::new(),
            known_good_sha256: Vec::new(),
            names_file: None,
        }
    }

    /// A hit at another severity than the default (a less dangerous variant).
    pub fn hit_at(&self, severity: Severity, detail: String) -> Hit {
        Hit {
            severity,
            ..self.hit(detail)
        }
    }

    /// A hit that shows an attempt rather than a success, at `severity`.
    pub fn attempt(&self, severity: Severity, detail: String) -> Hit {
        Hit {
            class: Class::Attempt,
            ..self.hit_at(severity, detail)
        }
    }
}

/// What a check reports about one subject, before the driver that ran it says where
/// (the [`Evidence`](crate::Evidence)) and turns it into a [`Finding`](crate::Finding).
#[derive(Clone, Debug)]
pub struct Hit {
    pub check: Check,
    pub severity: Severity,
    pub class: Class,
    /// What exactly was seen, in a sentence or two.
    pub detail: String,
    /// A score the hit brings itself (a rule's `score` meta) and why; else the severity's.
    pub score: Option<(u8, Text)>,
    /// For rule matches: the rule.
    pub rule: Option<crate::RuleInfo>,
    pub matches: Vec<crate::MatchedString>,
    /// For a modified Exchange file: the SHA-256 values its baseline ships, which a
    /// replacement must have.
    pub known_good_sha256: Vec<String>,
    /// A file the subject names, for the finding's entities when the driver knows none:
    /// the page an OAB generator line wrote.
    pub names_file: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!(Severity::parse("MEDIUM"), Some(Severity::Medium));
        assert_eq!(Severity::parse("nope"), None);
        assert_eq!(Severity::from_score(80), Severity::High);
        assert_eq!(Severity::from_score(20), Severity::Low);
    }
}
