//! Loading Sigma rules: every `.yml` / `.yaml` below the folders given is parsed,
//! its rules routed (does any log exsweep reads give their logsource?) and compiled.
//! Each rule ends up loaded or in the [`LoadReport`] with its reason; nothing is
//! dropped silently.

use crate::correlate::Correlations;
use crate::routing::{LogSource, Routing};
use crate::SigmaRules;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A loaded rule as findings name it (the Detection Rule License asks for the author).
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub title: String,
    pub id: Option<String>,
    /// `informational`, `low`, `medium`, `high`, `critical`.
    pub level: Option<String>,
    pub author: Option<String>,
    pub description: Option<String>,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    /// The file it came from.
    pub file: String,
    pub logsource: LogSource,
}

impl RuleInfo {
    /// The ATT&CK technique IDs its tags name (`attack.t1505.003` → `T1505.003`).
    pub fn techniques(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix("attack.t"))
            .map(|t| format!("T{}", t.to_uppercase()))
            .collect()
    }

    /// The CVEs its tags name (`cve.2021-26855` → `CVE-2021-26855`).
    pub fn cves(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix("cve."))
            .map(|t| format!("CVE-{}", t.to_uppercase()))
            .collect()
    }
}

/// Why a rule or file was not loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkippedKind {
    /// The file or a document in it is not a Sigma rule the parser reads.
    ParseError,
    /// It parses but uses what the engine cannot run.
    Unsupported,
    /// None of the logs exsweep reads gives its logsource (`product: linux` ...).
    NoSource,
}

impl SkippedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SkippedKind::ParseError => "parse error",
            SkippedKind::Unsupported => "unsupported",
            SkippedKind::NoSource => "no source",
        }
    }
}

/// A rule (or a whole file) not loaded, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub file: String,
    /// The rule's title, when the parser got that far.
    pub rule: Option<String>,
    pub kind: SkippedKind,
    pub reason: String,
}

/// What loading read and what it left out.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub files: usize,
    pub loaded: usize,
    pub correlations_loaded: usize,
    pub filters_applied: usize,
    pub skipped: Vec<Skipped>,
}

/// The rule files below `path` (or `path` itself), sorted; links are not followed.
fn rule_files(path: &Path, report: &mut LoadReport) -> Vec<PathBuf> {
    let is_rule = |p: &Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
    };
    let mut files = Vec::new();
    let mut folders = Vec::new();
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => folders.push(path.to_path_buf()),
        Ok(_) => files.push(path.to_path_buf()),
        Err(e) => report.skipped.push(Skipped {
            file: path.display().to_string(),
            rule: None,
            kind: SkippedKind::ParseError,
            reason: format!("cannot read: {e}"),
        }),
    }
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            report.skipped.push(Skipped {
                file: folder.display().to_string(),
                rule: None,
                kind: SkippedKind::ParseError,
                reason: "cannot list the folder".into(),
            });
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => folders.push(entry.path()),
                Ok(t) if t.is_file() && is_rule(&entry.path()) => files.push(entry.path()),
                _ => {}
            }
        }
    }
    files.sort();
    files
}

pub(crate) fn level_text(level: Option<&rsigma_parser::Level>) -> Option<String> {
    level.map(|l| format!("{l:?}").to_lowercase())
}

fn logsource(ls: &rsigma_parser::LogSource) -> LogSource {
    LogSource {
        product: ls.product.clone(),
        service: ls.service.clone(),
        category: ls.category.clone(),
    }
}

/// Field-less items with only `|all` (`keywords: {'|all': [a, b]}`) are keywords: each
/// value is searched for within the event's values, as the spec has keywords and as
/// SigmaHQ's MSExchange Management rules are written. rsigma compiles them as field
/// values matched whole, so such a rule could never fire; each plain value is given
/// `*` on both sides instead.
fn keywords_as_substrings(detection: &mut rsigma_parser::Detection) {
    use rsigma_parser::{Detection, Modifier, SigmaValue, SpecialChar, StringPart};
    match detection {
        Detection::AllOf(items) => {
            for item in items {
                let keyword = item.field.name.is_none()
                    && item.field.modifiers.iter().all(|m| *m == Modifier::All);
                if !keyword {
                    continue;
                }
                for value in &mut item.values {
                    // A number among keywords (a status, `200`) is text in a message.
                    if let SigmaValue::Integer(n) = value {
                        *value =
                            SigmaValue::String(rsigma_parser::SigmaString::new(&n.to_string()));
                    }
                    if let SigmaValue::String(text) = value {
                        let star = StringPart::Special(SpecialChar::WildcardMulti);
                        if text.parts.first() != Some(&star) {
                            text.parts.insert(0, star.clone());
                        }
                        if text.parts.last() != Some(&star) {
                            text.parts.push(star);
                        }
                    }
                }
            }
        }
        Detection::AnyOf(detections) => detections.iter_mut().for_each(keywords_as_substrings),
        _ => {}
    }
}

/// A rule whose logsource some log gives, waiting to be compiled.
struct Routed {
    file: String,
    rule: rsigma_parser::SigmaRule,
    /// Whether it names `cs-uri-stem` (then it sees IIS's query alone).
    uses_stem: bool,
}

impl SigmaRules {
    /// Loads every rule below `paths` with `routing`.
    pub fn load(paths: &[PathBuf], routing: Routing) -> SigmaRules {
        let mut report = LoadReport::default();
        let sources = routing.all_logsources();
        let mut routed = Vec::new();
        let mut filters = Vec::new();
        let mut correlations = Vec::new();
        let files: Vec<PathBuf> = paths
            .iter()
            .flat_map(|p| rule_files(p, &mut report))
            .collect();
        for file in files {
            report.files += 1;
            let name = file.display().to_string();
            let collection = match rsigma_parser::parse_sigma_file(&file) {
                Ok(c) => c,
                Err(e) => {
                    report.skipped.push(Skipped {
                        file: name,
                        rule: None,
                        kind: SkippedKind::ParseError,
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            for error in &collection.errors {
                report.skipped.push(Skipped {
                    file: name.clone(),
                    rule: None,
                    kind: SkippedKind::ParseError,
                    reason: error.clone(),
                });
            }
            correlations.extend(
                collection
                    .correlations
                    .iter()
                    .map(|c| (name.clone(), c.clone())),
            );
            filters.extend(collection.filters.iter().map(|f| (name.clone(), f.clone())));
            let fields = rsigma_eval::RuleFieldSet::collect(&collection, &[], false);
            let stem_rules = fields
                .origin("cs-uri-stem")
                .map(|o| o.rule_titles.clone())
                .unwrap_or_default();
            for mut rule in collection.rules {
                rule.detection
                    .named
                    .values_mut()
                    .for_each(keywords_as_substrings);
                let wanted = logsource(&rule.logsource);
                if !sources.iter().any(|s| s.satisfies(&wanted)) {
                    report.skipped.push(Skipped {
                        file: name.clone(),
                        rule: Some(rule.title.clone()),
                        kind: SkippedKind::NoSource,
                        reason: format!("no log exsweep reads is {}", wanted.describe()),
                    });
                    continue;
                }
                routed.push(Routed {
                    file: name.clone(),
                    uses_stem: stem_rules.contains(&rule.title),
                    rule,
                });
            }
        }
        // One batch: the engine rebuilds its candidate index once, not per rule.
        let mut engine = rsigma_eval::Engine::new();
        let failed: HashMap<usize, String> = engine
            .add_rules(routed.iter().map(|r| &r.rule))
            .into_iter()
            .map(|(i, e)| (i, e.to_string()))
            .collect();
        let mut rules = HashMap::new();
        let mut uses_stem = std::collections::HashSet::new();
        let mut compiled = Vec::new();
        for (i, routed) in routed.iter().enumerate() {
            let rule = &routed.rule;
            if let Some(reason) = failed.get(&i) {
                report.skipped.push(Skipped {
                    file: routed.file.clone(),
                    rule: Some(rule.title.clone()),
                    kind: SkippedKind::Unsupported,
                    reason: reason.clone(),
                });
                continue;
            }
            report.loaded += 1;
            let key = rule.id.clone().unwrap_or_else(|| rule.title.clone());
            if routed.uses_stem {
                uses_stem.insert(key.clone());
            }
            rules.insert(
                key,
                RuleInfo {
                    title: rule.title.clone(),
                    id: rule.id.clone(),
                    level: level_text(rule.level.as_ref()),
                    author: rule.author.clone(),
                    description: rule.description.clone(),
                    references: rule.references.clone(),
                    tags: rule.tags.clone(),
                    file: routed.file.clone(),
                    logsource: logsource(&rule.logsource),
                },
            );
            compiled.push(rule);
        }
        for (file, filter) in filters {
            match engine.apply_filter(&filter) {
                Ok(()) => report.filters_applied += 1,
                Err(e) => report.skipped.push(Skipped {
                    file,
                    rule: Some(filter.title.clone()),
                    kind: SkippedKind::Unsupported,
                    reason: format!("filter not applied: {e}"),
                }),
            }
        }
        let correlations = Correlations::build(&compiled, correlations, &mut report.skipped);
        report.correlations_loaded = correlations.len();
        let line_needs = crate::needles::text_needs(&engine, &rules, &uses_stem, &routing);
        SigmaRules {
            line_needs,
            engine,
            rules,
            uses_stem,
            correlations,
            routing,
            report,
        }
    }
}
