//! YARA-X rules: exsweep's own rules (compiled in from `rules/`) plus user packs
//! (`--rules DIR`), compiled once into one rule set that every worker thread shares,
//! each thread with its own reused scanner. A match comes out as a [`RuleHit`] with the
//! rule's own metadata; what it means as a finding is the engine's business. This is
//! the only crate that links yara-x.
//!
//! The externals `filename`, `filepath`, `extension`, `filetype`, `owner` and `md5`
//! are defined as THOR defines them, so signature-base rules compile and their
//! path conditions see the Windows path, not this machine's.

mod decode;
mod prefilter;

#[cfg(feature = "test-encoder")]
pub use decode::encode_script;
pub use decode::text_view;

use exsweep_evidence::winpath;
use exsweep_model::{printable, MatchedString, Reference, Severity};
use prefilter::{NamespaceSource, Prefilter};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use yara_x::MetaValue;

/// exsweep's own rules (`rules/`, one file per family), by file name.
const BUILTIN_RULES: &[(&str, &str)] = &[
    (
        "china_chopper.yar",
        include_str!("../../../rules/china_chopper.yar"),
    ),
    (
        "classic_asp.yar",
        include_str!("../../../rules/classic_asp.yar"),
    ),
    (
        "command_runners.yar",
        include_str!("../../../rules/command_runners.yar"),
    ),
    (
        "compiled_remnants.yar",
        include_str!("../../../rules/compiled_remnants.yar"),
    ),
    (
        "credential_dumps.yar",
        include_str!("../../../rules/credential_dumps.yar"),
    ),
    ("droppers.yar", include_str!("../../../rules/droppers.yar")),
    (
        "dynamic_code.yar",
        include_str!("../../../rules/dynamic_code.yar"),
    ),
    (
        "encrypted_loaders.yar",
        include_str!("../../../rules/encrypted_loaders.yar"),
    ),
    (
        "exchange_payloads.yar",
        include_str!("../../../rules/exchange_payloads.yar"),
    ),
    (
        "file_managers.yar",
        include_str!("../../../rules/file_managers.yar"),
    ),
    ("jsp_php.yar", include_str!("../../../rules/jsp_php.yar")),
    (
        "memory_shells.yar",
        include_str!("../../../rules/memory_shells.yar"),
    ),
    (
        "powershell_implants.yar",
        include_str!("../../../rules/powershell_implants.yar"),
    ),
    ("tunnels.yar", include_str!("../../../rules/tunnels.yar")),
];

const EXTERNALS: [&str; 6] = [
    "filename",
    "filepath",
    "extension",
    "filetype",
    "owner",
    "md5",
];

/// At most this many matched strings are kept per rule hit.
const MAX_MATCHES_SHOWN: usize = 8;
/// Matched data longer than this is cut in the evidence.
const MAX_MATCH_BYTES: usize = 80;

pub struct RuleSet {
    /// Leaked once per rule set: each worker thread keeps a scanner borrowing it for
    /// the rest of the process (see [`RuleSet::with_scanner`]).
    rules: &'static yara_x::Rules,
    /// Skips the scan of files none of the rules can match, when the rules allow.
    prefilter: Option<&'static Prefilter>,
    pub rule_count: usize,
    /// How many of them are exsweep's own.
    pub builtin_rule_count: usize,
    /// User rule files that did not compile, and other notes.
    pub warnings: Vec<String>,
    /// User rules may test the `md5` external, which costs a hash per file.
    wants_md5: bool,
    /// Only user rules read the externals; without them, setting them is skipped.
    has_user_rules: bool,
}

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>, warnings: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            warnings.push(format!("cannot read rule folder {}: {e}", dir.display()));
            return;
        }
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            rule_files(&path, out, warnings);
        } else if matches!(
            winpath::extension(&entry.file_name().to_string_lossy()).as_str(),
            "yar" | "yara"
        ) {
            out.push(path);
        }
    }
}

/// How deep `include`s are followed for the prefilter (a cycle stops there too).
const MAX_INCLUDE_DEPTH: usize = 16;

/// A user rule file to compile: its source and, for the prefilter, those of the
/// files it includes.
struct UserFile {
    path: PathBuf,
    namespace: String,
    source: Vec<u8>,
    included: Vec<(PathBuf, Vec<u8>)>,
}

/// The files a rule source includes, recursively, as YARA-X finds them: beside the
/// including file, else in the include folders.
fn includes_of(
    file: &Path,
    source: &[u8],
    include_dirs: &[PathBuf],
    depth: usize,
    out: &mut Vec<(PathBuf, Vec<u8>)>,
) {
    if depth > MAX_INCLUDE_DEPTH {
        return;
    }
    let ast = yara_x_parser::ast::AST::from(source);
    for item in ast.items() {
        let yara_x_parser::ast::Item::Include(include) = item else {
            continue;
        };
        let beside = file.parent().map(|dir| dir.join(include.file_name));
        let found = beside
            .into_iter()
            .chain(include_dirs.iter().map(|d| d.join(include.file_name)))
            .find_map(|p| Some((p.canonicalize().ok()?, std::fs::read(&p).ok()?)));
        if let Some((path, text)) = found {
            if out.iter().all(|(seen, _)| *seen != path) {
                out.push((path.clone(), text.clone()));
                includes_of(&path, &text, include_dirs, depth + 1, out);
            }
        }
    }
}

/// The name of the rule whose text holds byte `offset` of a rule file: the last
/// `rule NAME` before it (a compile error's place, turned into the rule to fix).
fn rule_at(source: &[u8], offset: usize) -> Option<String> {
    let before = String::from_utf8_lossy(&source[..offset.min(source.len())]);
    let mut name = None;
    let mut words = before.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    while let Some(word) = words.next() {
        if word == "rule" {
            if let Some(next) = words.find(|w| !w.is_empty()) {
                name = Some(next.to_string());
            }
        }
    }
    name
}

impl RuleSet {
    /// Compiles the built-in rules and every `.yar`/`.yara` file below `user_paths`
    /// (folders or single files). `include` statements are followed (beside the
    /// including file, else in the folders of the files given), and a file another
    /// one includes is compiled there only. A rule that does not compile is left out
    /// with a warning naming its file, rule and error; the file's other rules load.
    pub fn build(user_paths: &[PathBuf]) -> RuleSet {
        let mut compiler = yara_x::Compiler::new();
        for name in EXTERNALS {
            compiler
                .define_global(name, "")
                .expect("externals are defined once");
        }
        compiler.new_namespace("exsweep");
        for (name, source) in BUILTIN_RULES {
            if let Err(e) =
                compiler.add_source(yara_x::SourceCode::from(*source).with_origin(*name))
            {
                panic!("built-in rule file {name} does not compile: {e}");
            }
        }
        let mut warnings = Vec::new();
        let mut paths = Vec::new();
        for path in user_paths {
            if path.is_file() {
                paths.push(path.clone());
            } else {
                rule_files(path, &mut paths, &mut warnings);
            }
        }
        paths.sort();
        let mut include_dirs: Vec<PathBuf> = paths
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        include_dirs.dedup();
        for dir in &include_dirs {
            compiler.add_include_dir(dir);
        }
        let mut files: Vec<UserFile> = Vec::new();
        for path in &paths {
            let source = match std::fs::read(path) {
                Ok(s) => s,
                Err(e) => {
                    warnings.push(format!("cannot read rule file {}: {e}", path.display()));
                    continue;
                }
            };
            let mut included = Vec::new();
            includes_of(path, &source, &include_dirs, 0, &mut included);
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push(UserFile {
                path: path.clone(),
                // Files of one name in two folders get namespaces of their own.
                namespace: format!("user:{}:{stem}", files.len()),
                source,
                included,
            });
        }
        let included_elsewhere: HashSet<PathBuf> = files
            .iter()
            .flat_map(|f| f.included.iter().map(|(p, _)| p.clone()))
            .collect();
        files.retain(|f| {
            f.path
                .canonicalize()
                .map_or(true, |p| !included_elsewhere.contains(&p))
        });
        let mut errors: HashMap<String, String> = HashMap::new();
        for file in &files {
            compiler.new_namespace(&file.namespace);
            let origin = file.path.display().to_string();
            if let Err(e) = compiler
                .add_source(yara_x::SourceCode::from(file.source.as_slice()).with_origin(origin))
            {
                let first_line = e.to_string().lines().next().unwrap_or("").to_string();
                let rule = e
                    .labels()
                    .next()
                    .and_then(|label| rule_at(&file.source, label.span().start()));
                errors.insert(
                    file.namespace.clone(),
                    match rule {
                        Some(rule) => format!("rule {rule}: {first_line}"),
                        None => first_line,
                    },
                );
            }
        }
        let rules: &'static yara_x::Rules = Box::leak(Box::new(compiler.build()));
        let mut compiled: HashMap<&str, HashSet<String>> = HashMap::new();
        for rule in rules.iter() {
            compiled
                .entry(rule.namespace())
                .or_default()
                .insert(rule.identifier().to_string());
        }
        let none = HashSet::new();
        let mut wants_md5 = false;
        for file in &files {
            let loaded = compiled.get(file.namespace.as_str()).unwrap_or(&none);
            wants_md5 |= !loaded.is_empty()
                && std::iter::once(&file.source)
                    .chain(file.included.iter().map(|(_, s)| s))
                    .any(|s| memchr::memmem::find(s, b"md5").is_some());
            if let Some(error) = errors.get(&file.namespace) {
                warnings.push(if loaded.is_empty() {
                    format!("rule file {} not loaded: {error}", file.path.display())
                } else {
                    format!(
                        "rule file {}: rules that did not compile were left out, its {} other rule(s) loaded: {error}",
                        file.path.display(),
                        loaded.len()
                    )
                });
            }
        }
        let namespaces = BUILTIN_RULES
            .iter()
            .map(|(_, source)| NamespaceSource {
                texts: vec![source.as_bytes()],
                compiled: None,
            })
            .chain(files.iter().map(|f| {
                NamespaceSource {
                    texts: std::iter::once(f.source.as_slice())
                        .chain(f.included.iter().map(|(_, s)| s.as_slice()))
                        .collect(),
                    compiled: Some(compiled.get(f.namespace.as_str()).unwrap_or(&none)),
                }
            }));
        let prefilter = Prefilter::from_sources(namespaces).map(|p| &*Box::leak(Box::new(p)));
        let rule_count = rules.iter().count();
        RuleSet {
            rules,
            prefilter,
            rule_count,
            builtin_rule_count: compiled.get("exsweep").map_or(0, HashSet::len),
            warnings,
            wants_md5,
            has_user_rules: !files.is_empty(),
        }
    }

    /// Whether files holding none of the rules' literals skip the scan (off when some
    /// loaded rule needs no literal).
    pub fn is_prefiltered(&self) -> bool {
        self.prefilter.is_some()
    }

    pub fn scanner(&self, timeout: Duration) -> RuleScanner<'static> {
        let mut scanner = yara_x::Scanner::new(self.rules);
        scanner.set_timeout(timeout);
        scanner.max_matches_per_pattern(1000);
        RuleScanner {
            scanner,
            prefilter: self.prefilter,
            scratch: Vec::new(),
            wants_md5: self.wants_md5,
            sets_externals: self.has_user_rules,
        }
    }
}

thread_local! {
    /// This thread's scanner and the rule set it belongs to: building a scanner costs
    /// about as much as scanning a small file, so each worker builds one and keeps it.
    static THREAD_SCANNER: RefCell<Option<(usize, RuleScanner<'static>)>> = const { RefCell::new(None) };
}

impl RuleSet {
    /// Runs `scan` with this thread's scanner for this rule set, building it on first use.
    pub fn with_scanner<T>(
        &self,
        timeout: Duration,
        scan: impl FnOnce(&mut RuleScanner<'static>) -> T,
    ) -> T {
        let id = self.rules as *const yara_x::Rules as usize;
        THREAD_SCANNER.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().is_none_or(|(owner, _)| *owner != id) {
                *slot = Some((id, self.scanner(timeout)));
            }
            let (_, scanner) = slot.as_mut().expect("filled above");
            scan(scanner)
        })
    }
}

/// One thread's scanner, reused for every file that thread reads.
pub struct RuleScanner<'r> {
    scanner: yara_x::Scanner<'r>,
    prefilter: Option<&'r Prefilter>,
    scratch: Vec<u8>,
    wants_md5: bool,
    sets_externals: bool,
}

fn meta_str<'a>(meta: &[(&'a str, MetaValue<'a>)], key: &str) -> Option<Cow<'a, str>> {
    meta.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| match v {
            MetaValue::String(s) => Some(Cow::Borrowed(*s)),
            MetaValue::Bytes(b) => Some(Cow::Owned(printable(b))),
            MetaValue::Integer(i) => Some(Cow::Owned(i.to_string())),
            _ => None,
        })
}

/// Severity and score of a rule: our `severity` meta, or a THOR/Loki `score`.
fn rule_severity(meta: &[(&str, MetaValue)]) -> Option<(Severity, u8)> {
    if let Some(sev) = meta_str(meta, "severity").and_then(|s| Severity::parse(&s)) {
        return Some((sev, sev.default_score()));
    }
    meta_str(meta, "score")
        .and_then(|s| s.parse::<i64>().ok())
        .map(|score| (Severity::from_score(score), score.clamp(0, 100) as u8))
}

/// One of exsweep's own rules, as its metadata describes it (`rules/README.md`).
#[derive(Clone, Debug)]
pub struct BuiltinRule {
    /// The stable `id` meta, `EXR-<family>-<n>`.
    pub id: String,
    pub identifier: String,
    pub description: String,
    pub severity: Severity,
    pub family: String,
    /// From the `cve`, `attack`, `reference` and `author` meta.
    pub references: Vec<Reference>,
}

/// exsweep's own rules, in the order of their files, for `exsweep checks` and the
/// tests that hold every rule to its metadata. A rule missing a meta gets it empty.
pub fn builtin_rules() -> Vec<BuiltinRule> {
    let mut compiler = yara_x::Compiler::new();
    for (name, source) in BUILTIN_RULES {
        compiler
            .add_source(yara_x::SourceCode::from(*source).with_origin(*name))
            .expect("built-in rules compile");
    }
    let rules = compiler.build();
    rules
        .iter()
        .map(|rule| {
            let meta: Vec<(&str, MetaValue)> = rule.metadata().collect();
            let text = |key: &str| {
                meta_str(&meta, key)
                    .map(Cow::into_owned)
                    .unwrap_or_default()
            };
            BuiltinRule {
                id: text("id"),
                identifier: rule.identifier().to_string(),
                description: text("description"),
                severity: rule_severity(&meta).map_or(Severity::Info, |(severity, _)| severity),
                family: text("family"),
                references: references_of(&meta),
            }
        })
        .collect()
}

/// One rule that matched one file, with what the rule says about itself.
#[derive(Clone, Debug)]
pub struct RuleHit {
    /// `namespace:identifier` (`exsweep:` for built-in rules, `user:<file>` for packs).
    pub rule: String,
    pub identifier: String,
    pub description: Option<String>,
    /// From the rule's `severity` or `score` meta; `None` when it has neither.
    pub severity: Option<(Severity, u8)>,
    /// From the `cve`, `attack`, `reference` and `author` meta.
    pub references: Vec<Reference>,
    pub matches: Vec<MatchedString>,
}

/// Why a file's rule scan did not finish.
#[derive(Debug)]
pub enum ScanError {
    Timeout,
    Failed(String),
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Timeout => write!(f, "timed out"),
            ScanError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl RuleScanner<'_> {
    /// Gives the externals THOR-style values from the Windows path.
    fn set_externals(&mut self, windows_path: &str, md5: impl FnOnce() -> String) {
        let name = winpath::file_name(windows_path);
        let dir = windows_path
            .strip_suffix(name)
            .unwrap_or("")
            .trim_end_matches('\\');
        let ext = winpath::extension(name);
        let globals = [
            ("filename", name.to_string()),
            ("filepath", dir.to_string()),
            (
                "extension",
                if ext.is_empty() {
                    String::new()
                } else {
                    format!(".{ext}")
                },
            ),
            ("md5", if self.wants_md5 { md5() } else { String::new() }),
        ];
        for (k, v) in globals {
            self.scanner
                .set_global(k, v.as_str())
                .expect("externals are defined as strings");
        }
    }

    /// Scans a file's content and, when its bytes are not its text (UTF-16, Script
    /// Encoder), its [`text_view`]. `md5` is called only when a loaded rule may need it.
    pub fn scan(
        &mut self,
        windows_path: &str,
        data: &[u8],
        md5: impl FnOnce() -> String,
    ) -> Result<Vec<RuleHit>, ScanError> {
        let decoded = text_view(data);
        let may_match = |scratch: &mut Vec<u8>, bytes: &[u8]| {
            self.prefilter
                .is_none_or(|prefilter| prefilter.may_match(bytes, scratch))
        };
        let scan_data = may_match(&mut self.scratch, data);
        let scan_decoded = decoded
            .as_deref()
            .is_some_and(|text| may_match(&mut self.scratch, text));
        if !scan_data && !scan_decoded {
            return Ok(Vec::new());
        }
        if self.sets_externals {
            self.set_externals(windows_path, md5);
        }
        let mut hits = if scan_data {
            self.scan_bytes(data)?
        } else {
            Vec::new()
        };
        if let Some(text) = decoded.filter(|_| scan_decoded) {
            for mut hit in self.scan_bytes(&text)? {
                if hits.iter().all(|h| h.rule != hit.rule) {
                    for m in &mut hit.matches {
                        m.identifier.push_str(" (in the decoded text)");
                    }
                    hits.push(hit);
                }
            }
        }
        Ok(hits)
    }

    fn scan_bytes(&mut self, data: &[u8]) -> Result<Vec<RuleHit>, ScanError> {
        let results = self.scanner.scan(data).map_err(|e| match e {
            yara_x::ScanError::Timeout => ScanError::Timeout,
            other => ScanError::Failed(other.to_string()),
        })?;
        Ok(results
            .matching_rules()
            .map(|rule| rule_hit(&rule))
            .collect())
    }
}

/// The references a rule's `cve`, `attack`, `reference` and `author` meta name.
fn references_of(meta: &[(&str, MetaValue)]) -> Vec<Reference> {
    let mut references = Vec::new();
    for (key, make) in [
        ("cve", Reference::Cve as fn(Cow<'static, str>) -> Reference),
        ("attack", Reference::Attack),
        ("reference", Reference::Url),
        ("author", Reference::Author),
    ] {
        if let Some(v) = meta_str(meta, key) {
            references.push(make(Cow::Owned(v.into_owned())));
        }
    }
    references
}

fn rule_hit(rule: &yara_x::Rule) -> RuleHit {
    let meta: Vec<(&str, MetaValue)> = rule.metadata().collect();
    let references = references_of(&meta);
    let mut matches = Vec::new();
    for pattern in rule.patterns() {
        for m in pattern.matches() {
            if matches.len() >= MAX_MATCHES_SHOWN {
                break;
            }
            let data = m.data();
            matches.push(MatchedString {
                identifier: pattern.identifier().to_string(),
                offset: m.range().start as u64,
                data: printable(&data[..data.len().min(MAX_MATCH_BYTES)]),
            });
        }
    }
    RuleHit {
        rule: format!("{}:{}", rule.namespace(), rule.identifier()),
        identifier: rule.identifier().to_string(),
        description: meta_str(&meta, "description").map(Cow::into_owned),
        severity: rule_severity(&meta),
        references,
        matches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file below `dir`, with its bytes.
    fn files_below(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                files_below(&path, out);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }

    /// The rules each content matches, as `namespace:identifier` lists.
    fn hits(set: &RuleSet, contents: &[(PathBuf, Vec<u8>)]) -> Vec<Vec<String>> {
        let mut scanner = set.scanner(Duration::from_secs(5));
        contents
            .iter()
            .map(|(path, data)| {
                let windows = format!(r"C:\{}", path.display()).replace('/', "\\");
                let mut rules: Vec<String> = scanner
                    .scan(&windows, data, String::new)
                    .unwrap()
                    .into_iter()
                    .map(|h| h.rule)
                    .collect();
                rules.sort();
                rules
            })
            .collect()
    }

    /// The prefilter may only skip files no rule can match: with it and without it,
    /// the same rules match the same files, over the demo server, mutations of every
    /// file in it (cut, upper-cased, spliced into noise) and random bytes.
    #[test]
    fn the_prefilter_changes_no_match() {
        let dir = tempfile::tempdir().unwrap();
        exsweep_testkit::build(dir.path()).unwrap();
        let mut contents = Vec::new();
        files_below(dir.path(), &mut contents);
        let mut noise = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    noise ^= noise << 13;
                    noise ^= noise >> 7;
                    noise ^= noise << 17;
                    noise as u8
                })
                .collect()
        };
        let mut variants = Vec::new();
        for (path, data) in &contents {
            let half = data.len() / 2;
            variants.push((path.clone(), data[..half].to_vec()));
            variants.push((path.clone(), data[half..].to_vec()));
            variants.push((path.clone(), data.to_ascii_uppercase()));
            let mut spliced = random(300);
            spliced.extend_from_slice(data);
            spliced.extend(random(300));
            variants.push((path.clone(), spliced));
        }
        for n in [0, 1, 64, 4096, 70_000] {
            variants.push((
                PathBuf::from("inetpub/wwwroot/aspnet_client/r.aspx"),
                random(n),
            ));
        }
        contents.extend(variants);
        let with = RuleSet::build(&[]);
        assert!(
            with.prefilter.is_some(),
            "the built-in rules have a prefilter"
        );
        let without = RuleSet {
            prefilter: None,
            ..RuleSet::build(&[])
        };
        let (a, b) = (hits(&with, &contents), hits(&without, &contents));
        let matched = b.iter().filter(|h| !h.is_empty()).count();
        assert!(matched >= 10, "only {matched} contents matched any rule");
        for ((path, _), (a, b)) in contents.iter().zip(a.iter().zip(&b)) {
            assert_eq!(a, b, "{}", path.display());
        }
    }

    /// A rule file added to `rules/` but not to [`BUILTIN_RULES`] would never run.
    #[test]
    fn every_file_in_the_rules_folder_is_built_in() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".yar") || name.ends_with(".yara"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = BUILTIN_RULES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }

    #[test]
    fn builtin_rules_compile() {
        let set = RuleSet::build(&[]);
        assert!(set.rule_count >= 5);
        assert!(set.warnings.is_empty());
        // Every built-in rule needs a literal, so files without one skip the scan.
        assert!(set.prefilter.is_some());
    }

    #[test]
    fn broken_user_rule_is_a_warning_and_good_ones_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.yar"),
            "rule broken { condition: nope }",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("good.yara"),
            "rule by_path { meta: score = 80 author = \"someone\" condition: filepath contains \"aspnet_client\" and extension == \".aspx\" }",
        )
        .unwrap();
        let set = RuleSet::build(&[dir.path().to_path_buf()]);
        assert_eq!(set.warnings.len(), 1, "{:?}", set.warnings);
        assert!(set.warnings[0].contains("bad.yar"));
        let mut scanner = set.scanner(Duration::from_secs(5));
        let hits = scanner
            .scan(
                r"C:\inetpub\wwwroot\aspnet_client\x.aspx",
                b"hello",
                String::new,
            )
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].severity, Some((Severity::High, 80)));
        assert!(hits[0]
            .references
            .contains(&Reference::Author("someone".into())));
        assert!(scanner
            .scan(r"C:\other\x.aspx", b"hello", String::new)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_failing_rule_leaves_its_file_s_other_rules_loaded_and_prefiltered() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mixed.yar"),
            "rule mixed_good { strings: $a = \"MixedNeedle\" condition: $a }\n\
             rule mixed_bad { condition: no_such_identifier }",
        )
        .unwrap();
        let set = RuleSet::build(&[dir.path().to_path_buf()]);
        assert_eq!(set.warnings.len(), 1, "{:?}", set.warnings);
        assert!(
            set.warnings[0].contains("mixed.yar")
                && set.warnings[0].contains("rule mixed_bad:")
                && set.warnings[0].contains("1 other rule(s) loaded"),
            "{}",
            set.warnings[0]
        );
        // The prefilter stays on and knows the rule that loaded.
        assert!(set.prefilter.is_some());
        let mut scanner = set.scanner(Duration::from_secs(5));
        let hits = scanner
            .scan(r"C:\x.txt", b"... MixedNeedle ...", String::new)
            .unwrap();
        let names: Vec<&str> = hits.iter().map(|h| h.identifier.as_str()).collect();
        assert_eq!(names, ["mixed_good"]);
    }

    #[test]
    fn includes_are_followed_and_included_files_compiled_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("parts")).unwrap();
        std::fs::write(
            dir.path().join("index.yar"),
            "include \"parts/one.yar\"\n\
             rule index_rule { strings: $a = \"IndexNeedle\" condition: $a }",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("parts/one.yar"),
            "rule included_rule { strings: $a = \"IncludedNeedle\" condition: $a }",
        )
        .unwrap();
        let set = RuleSet::build(&[dir.path().to_path_buf()]);
        assert!(set.warnings.is_empty(), "{:?}", set.warnings);
        assert!(set.prefilter.is_some());
        let mut scanner = set.scanner(Duration::from_secs(5));
        let hits = scanner
            .scan(r"C:\x.txt", b"IncludedNeedle", String::new)
            .unwrap();
        let names: Vec<&str> = hits.iter().map(|h| h.identifier.as_str()).collect();
        assert_eq!(names, ["included_rule"]);
    }

    #[test]
    fn signature_base_compiles_with_externals() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/signature-base/yara");
        if !dir.exists() {
            eprintln!("skipped: {} is absent", dir.display());
            return;
        }
        let set = RuleSet::build(&[dir]);
        assert!(set.rule_count > 5000, "only {} rules", set.rule_count);
        // Some of its rules match on file properties alone: everything is scanned.
        assert!(set.prefilter.is_none());
        assert!(set.warnings.len() < 10, "{:#?}", set.warnings);
    }
}
