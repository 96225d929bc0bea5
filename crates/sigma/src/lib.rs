//! exsweep's boundary around a Sigma engine: the rest of exsweep sees a rule set
//! ([`SigmaRules`]), its load report ([`LoadReport`]: every rule loaded or why not)
//! and hits ([`SigmaHit`]). The engine behind it is rsigma (`rsigma-parser` and
//! `rsigma-eval`, pinned); nothing of its types crosses this crate's API, so it can
//! be replaced.
//!
//! - [`routing`]: which logsource each EVTX record and text-log line stands for, from
//!   a data file, and the field renames that go with it.
//! - [`load`]: rule files read, parsed, routed and compiled, each outcome recorded.
//! - [`record`]: an EVTX record or a log line as the event the rules see.
//! - `needles`: the literals a text-log line must hold for a rule to match it, so the
//!   hunt selects lines for the rules as it does for its own checks, and builds the
//!   events of only those a rule may match.
//! - [`correlate`]: correlation rules over what the detection rules matched, after
//!   the scan, in time order.

pub mod correlate;
pub mod load;
mod needles;
pub mod record;
pub mod routing;

pub use correlate::{CorrelationHit, CorrelationInput};
pub use load::{LoadReport, RuleInfo, Skipped, SkippedKind};
pub use needles::LinePasses;
pub use record::{Evaluation, EvtxRecord, SigmaHit};
pub use routing::{LogSource, Routing};

/// Loaded rules, ready to run over records.
pub struct SigmaRules {
    engine: rsigma_eval::Engine,
    /// The loaded rules' metadata, by the engine's key (id, else title).
    rules: std::collections::HashMap<String, RuleInfo>,
    /// The keys of the rules that name `cs-uri-stem` (they see IIS's query alone).
    uses_stem: std::collections::HashSet<String>,
    correlations: correlate::Correlations,
    routing: Routing,
    /// Per text source (as the routing names it): what its lines must hold for a rule
    /// to match; looked up for every line, so a short list compared without allocating.
    line_needs: Vec<(String, Option<needles::LineNeeds>)>,
    pub report: LoadReport,
}

impl SigmaRules {
    /// Whether any loaded rule takes lines of the text log exsweep names `source`:
    /// then every line of it is read, not only those the built-in checks select.
    pub fn reads_text(&self, source: &str) -> bool {
        self.routing.text(source).is_some_and(|route| {
            self.rules
                .values()
                .any(|r| route.logsource.satisfies(&r.logsource))
        })
    }

    /// The needles (lower case, matched ASCII-case-insensitively) one of which every
    /// line of the text log exsweep names `source` holds that a loaded rule can match;
    /// `None` when some rule taking that log has no literal to rely on, and every line
    /// must be evaluated.
    pub fn line_needles(&self, source: &str) -> Option<&[String]> {
        self.needs(source).map(|n| n.selecting.as_slice())
    }

    /// Which of the events of `line` of the text log `source` a loaded rule may match
    /// (see [`SigmaRules::evaluate_text`]): neither when every rule taking it needs
    /// some literal the line lacks. Finer than [`SigmaRules::line_needles`], which asks
    /// one literal of a rule; this asks all it knows.
    pub fn line_passes(&self, source: &str, line: &str) -> LinePasses {
        self.needs(source)
            .map_or(LinePasses::BOTH, |n| n.passes(line))
    }

    fn needs(&self, source: &str) -> Option<&needles::LineNeeds> {
        self.line_needs
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(source))
            .and_then(|(_, needs)| needs.as_ref())
    }
}
