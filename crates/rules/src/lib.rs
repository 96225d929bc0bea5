//! YARA-X rules: exsweep's own rules (compiled in from `rules/`) plus user packs
//! (`--rules DIR`), compiled once into one rule set that every worker thread shares,
//! each thread with its own reused scanner. A match comes out as a [`RuleHit`] with the
//! rule's own metadata; what it means as a finding is the engine's business. This is
//! the only crate that links yara-x.
//!
//! The externals `filename`, `filepath`, `extension`, `filetype`, `owner` and `md5`
//! are defined as THOR defines them, so signature-base rules compile, their path
//! conditions see the Windows path, not this machine's, and `filetype` names the
//! content's type (`filetype.rs`).

mod cache;
mod decode;
mod filetype;
mod header;
mod prefilter;

#[cfg(feature = "test-encoder")]
pub use decode::encode_script;
pub use decode::{script_encoder_intact, text_view};

use exsweep_evidence::winpath;
use exsweep_model::{printable, MatchedString, Reference, Severity};
use prefilter::{NamespaceSource, Prefilter};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use yara_x::MetaValue;

/// The namespace of exsweep's own rules.
const BUILTIN_NAMESPACE: &str = "exsweep";

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
        "defacement.yar",
        include_str!("../../../rules/defacement.yar"),
    ),
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
    /// the rest of the process (see [`RuleSet::with_scanner`]). The rules whose files
    /// need literals (all of exsweep's own), behind the prefilter.
    rules: &'static yara_x::Rules,
    /// The rules of user files with a rule that needs no literal, scanned on every file.
    always: Option<&'static yara_x::Rules>,
    /// The same with the user files that hold only rules for Windows executables
    /// ([`header::only_pe_files`]): scanned instead of `always` on a file that starts
    /// with `MZ`, so that every other file skips those rules and an executable is
    /// still read once.
    always_for_pe: Option<&'static yara_x::Rules>,
    /// Skips the scan of files none of the rules can match, when the rules allow.
    prefilter: Option<&'static Prefilter>,
    pub rule_count: usize,
    /// How many of them are scanned on every file.
    pub always_rule_count: usize,
    /// How many of them are scanned on every file that starts with `MZ`, and only there.
    pub pe_only_rule_count: usize,
    /// Where the compiled rules came from or went, when the cache was used.
    pub cache_note: Option<String>,
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

impl UserFile {
    /// Its source and those of the files it includes.
    fn texts(&self) -> Vec<&[u8]> {
        std::iter::once(self.source.as_slice())
            .chain(self.included.iter().map(|(_, s)| s.as_slice()))
            .collect()
    }
}

/// The names a rule source's `include "name"` statements give, found in its text
/// without parsing it (an include in a comment counts too, which only adds a file to
/// the cache key and to what the prefilter reads).
fn included_names(source: &[u8]) -> Vec<String> {
    source
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let rest = line.trim_ascii_start().strip_prefix(b"include")?;
            let rest = rest.trim_ascii_start().strip_prefix(b"\"")?;
            let end = memchr::memchr(b'"', rest)?;
            Some(String::from_utf8_lossy(&rest[..end]).into_owned())
        })
        .collect()
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
    for name in included_names(source) {
        let beside = file.parent().map(|dir| dir.join(&name));
        let found = beside
            .into_iter()
            .chain(include_dirs.iter().map(|d| d.join(&name)))
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

/// The user files below `user_paths` (folders or single files), each with the files it
/// includes; a file another one includes is left to it.
fn user_files(user_paths: &[PathBuf], warnings: &mut Vec<String>) -> (Vec<UserFile>, Vec<PathBuf>) {
    let mut paths = Vec::new();
    for path in user_paths {
        if path.is_file() {
            paths.push(path.clone());
        } else {
            rule_files(path, &mut paths, warnings);
        }
    }
    paths.sort();
    let mut include_dirs: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    include_dirs.dedup();
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
    (files, include_dirs)
}

/// Compiles exsweep's own rules (when `builtin`) and `files`, one namespace each;
/// returns the rules and, by namespace, the first error of a file that did not
/// compile whole.
fn compile(
    builtin: bool,
    files: &[&UserFile],
    include_dirs: &[PathBuf],
) -> (yara_x::Rules, HashMap<String, String>) {
    let mut compiler = yara_x::Compiler::new();
    for name in EXTERNALS {
        compiler
            .define_global(name, "")
            .expect("externals are defined once");
    }
    if builtin {
        compiler.new_namespace(BUILTIN_NAMESPACE);
        for (name, source) in BUILTIN_RULES {
            if let Err(e) =
                compiler.add_source(yara_x::SourceCode::from(*source).with_origin(*name))
            {
                panic!("built-in rule file {name} does not compile: {e}");
            }
        }
    }
    for dir in include_dirs {
        compiler.add_include_dir(dir);
    }
    let mut errors = HashMap::new();
    for file in files {
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
    (compiler.build(), errors)
}

/// Whether a rule source compares the `md5` external (`md5 == "..."`), which costs a
/// hash of every file; an `md5 = "..."` meta or `hash.md5(...)` does not.
fn tests_md5_external(source: &[u8]) -> bool {
    const OPERATORS: [&[u8]; 10] = [
        b"==",
        b"!=",
        b"contains",
        b"icontains",
        b"matches",
        b"iequals",
        b"startswith",
        b"istartswith",
        b"endswith",
        b"iendswith",
    ];
    memchr::memmem::find_iter(source, b"md5").any(|at| {
        let before = at.checked_sub(1).map(|i| source[i]);
        let standalone = before
            .is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$'));
        let rest = source[at + 3..].trim_ascii_start();
        standalone && OPERATORS.iter().any(|op| rest.starts_with(op))
    })
}

/// No rule of a namespace compiled.
static EMPTY: std::sync::LazyLock<HashSet<String>> = std::sync::LazyLock::new(HashSet::new);

/// Rule identifiers by namespace, of every part of a rule set.
fn compiled_names<'r>(
    parts: impl IntoIterator<Item = &'r yara_x::Rules>,
) -> HashMap<&'r str, HashSet<String>> {
    let mut compiled: HashMap<&str, HashSet<String>> = HashMap::new();
    for rule in parts.into_iter().flat_map(|rules| rules.iter()) {
        compiled
            .entry(rule.namespace())
            .or_default()
            .insert(rule.identifier().to_string());
    }
    compiled
}

/// Compiles the rule set: user files with a rule that needs no literal apart (all user
/// files, when their literals would not make a selective gate), the rest with
/// exsweep's own behind the prefilter, whose requirements are worked out here from the
/// rules that compiled.
/// The sources the prefilter reads: exsweep's own rules and `files`, with the rules
/// of each that compiled when `compiled` is known.
fn namespace_sources<'a>(
    files: &[&'a UserFile],
    compiled: Option<&'a HashMap<&str, HashSet<String>>>,
) -> Vec<NamespaceSource<'a>> {
    let builtin = BUILTIN_RULES.iter().map(|(_, source)| NamespaceSource {
        texts: vec![source.as_bytes()],
        compiled: None,
    });
    let user = files.iter().map(|f| NamespaceSource {
        texts: f.texts(),
        compiled: compiled.map(|c| c.get(f.namespace.as_str()).unwrap_or(&EMPTY)),
    });
    builtin.chain(user).collect()
}

fn compile_entry(files: &[UserFile], include_dirs: &[PathBuf]) -> cache::Entry {
    let (gated_files, always_files): (Vec<&UserFile>, Vec<&UserFile>) = files
        .iter()
        .partition(|f| prefilter::needs_literals(&f.texts()));
    // A gate as wide as a broad pack needs filters nothing: then the pack's rules are
    // all scanned on every file, as YARA-X alone would, and only exsweep's own stay
    // behind the prefilter (their regular expressions would cost much on every file).
    let candidate = prefilter::requirements_of(namespace_sources(&gated_files, None));
    let selective = candidate
        .as_ref()
        .is_some_and(|r| prefilter::is_selective(r));
    let (gated_files, always_files) = if selective {
        (gated_files, always_files)
    } else {
        (Vec::new(), files.iter().collect())
    };
    let (gated, mut errors) = compile(true, &gated_files, include_dirs);
    let (pe_files, always_files): (Vec<&UserFile>, Vec<&UserFile>) = always_files
        .into_iter()
        .partition(|f| header::only_pe_files(&f.texts()));
    let mut compile_part = |files: &[&UserFile]| {
        (!files.is_empty()).then(|| {
            let (rules, part_errors) = compile(false, files, include_dirs);
            errors.extend(part_errors);
            rules
        })
    };
    let always = compile_part(&always_files);
    let always_for_pe = if pe_files.is_empty() {
        None
    } else {
        compile_part(&[always_files, pe_files].concat())
    };
    // When every gated file compiled whole, the requirements already worked out are
    // those of the rules that compiled; otherwise they are worked out again without
    // the rules left out (or for exsweep's own rules alone, when the pack is not gated).
    let compiled_whole = gated_files
        .iter()
        .all(|f| !errors.contains_key(&f.namespace));
    let requirements = if selective && compiled_whole {
        candidate
    } else {
        let compiled = compiled_names([&gated]);
        prefilter::requirements_of(namespace_sources(&gated_files, Some(&compiled)))
    };
    cache::Entry {
        gated,
        always,
        always_for_pe,
        errors,
        requirements,
    }
}

/// The cache key of a compilation: everything [`compile`] reads.
fn cache_key(files: &[UserFile], include_dirs: &[PathBuf]) -> cache::Key {
    let mut key = cache::Key::new();
    for name in EXTERNALS {
        key.add(name.as_bytes());
    }
    for (name, source) in BUILTIN_RULES {
        key.add(name.as_bytes());
        key.add(source.as_bytes());
    }
    for dir in include_dirs {
        key.add(dir.as_os_str().as_encoded_bytes());
    }
    for file in files {
        key.add(file.namespace.as_bytes());
        key.add(file.path.as_os_str().as_encoded_bytes());
        key.add(&file.source);
        for (path, source) in &file.included {
            key.add(path.as_os_str().as_encoded_bytes());
            key.add(source);
        }
    }
    key
}

impl RuleSet {
    /// Compiles the built-in rules and every `.yar`/`.yara` file below `user_paths`
    /// (folders or single files), or loads them compiled from the cache
    /// ([`cache::default_dir`]) when user packs are given. `include` statements are
    /// followed (beside the including file, else in the folders of the files given),
    /// and a file another one includes is compiled there only. A rule that does not
    /// compile is left out with a warning naming its file, rule and error; the file's
    /// other rules load. Files with a rule that needs no literal are compiled apart
    /// and scanned on every file, so the prefilter stays on for all the others.
    pub fn build(user_paths: &[PathBuf]) -> RuleSet {
        let cache_dir = (!user_paths.is_empty()).then(cache::default_dir).flatten();
        RuleSet::build_with_cache(user_paths, cache_dir.as_deref())
    }

    /// [`RuleSet::build`] with the cache in `cache_dir` (`None`: no cache).
    pub fn build_with_cache(user_paths: &[PathBuf], cache_dir: Option<&Path>) -> RuleSet {
        let mut warnings = Vec::new();
        let (files, include_dirs) = user_files(user_paths, &mut warnings);
        let cached = cache_dir.map(|dir| cache::load(dir, cache_key(&files, &include_dirs)));
        let (entry, cache_note) = match cached {
            Some((Some(entry), path)) => (
                entry,
                Some(format!("loaded compiled from {}", path.display())),
            ),
            other => {
                let entry = compile_entry(&files, &include_dirs);
                let note = match other {
                    Some((None, path)) => Some(match cache::store(&path, &entry) {
                        Ok(()) => format!("compiled and cached in {}", path.display()),
                        Err(e) => format!("compiled; not cached in {}: {e}", path.display()),
                    }),
                    _ => None,
                };
                (entry, note)
            }
        };
        let rules: &'static yara_x::Rules = Box::leak(Box::new(entry.gated));
        let leak = |part: Option<yara_x::Rules>| part.map(|r| &*Box::leak(Box::new(r)));
        let always: Option<&'static yara_x::Rules> = leak(entry.always);
        let always_for_pe: Option<&'static yara_x::Rules> = leak(entry.always_for_pe);
        let compiled = compiled_names(std::iter::once(rules).chain(always).chain(always_for_pe));
        let none = HashSet::new();
        let mut wants_md5 = false;
        for file in &files {
            let loaded = compiled.get(file.namespace.as_str()).unwrap_or(&none);
            wants_md5 |= !loaded.is_empty() && file.texts().iter().any(|s| tests_md5_external(s));
            if let Some(error) = entry.errors.get(&file.namespace) {
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
        let prefilter = entry
            .requirements
            .and_then(Prefilter::from_requirements)
            .map(|p| &*Box::leak(Box::new(p)));
        let count = |part: Option<&yara_x::Rules>| part.map_or(0, |p| p.iter().count());
        let always_rule_count = count(always);
        let pe_only_rule_count = count(always_for_pe).saturating_sub(always_rule_count);
        RuleSet {
            rules,
            always,
            always_for_pe,
            prefilter,
            rule_count: rules.iter().count() + always_rule_count + pe_only_rule_count,
            always_rule_count,
            pe_only_rule_count,
            builtin_rule_count: compiled.get("exsweep").map_or(0, HashSet::len),
            warnings,
            cache_note,
            wants_md5,
            has_user_rules: !files.is_empty(),
        }
    }

    /// Whether files holding none of the gated rules' literals skip their scan (off
    /// when a rule the analysis cannot reduce to literals is among them).
    pub fn is_prefiltered(&self) -> bool {
        self.prefilter.is_some()
    }

    pub fn scanner(&self, timeout: Duration) -> RuleScanner<'static> {
        let new_scanner = |rules: &'static yara_x::Rules| {
            let mut scanner = yara_x::Scanner::new(rules);
            scanner.set_timeout(timeout);
            scanner.max_matches_per_pattern(1000);
            scanner
        };
        RuleScanner {
            scanner: new_scanner(self.rules),
            always: self.always.map(new_scanner),
            always_for_pe: self.always_for_pe.map(new_scanner),
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
    /// The scanner of the rules scanned on every file.
    always: Option<yara_x::Scanner<'r>>,
    /// The scanner of those rules and the ones for executables alone, for a file that
    /// starts with `MZ`.
    always_for_pe: Option<yara_x::Scanner<'r>>,
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
    /// The rule's `id` meta (`EXR-...` for exsweep's own rules).
    pub meta_id: Option<String>,
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
    /// Gives the externals THOR-style values from the Windows path and the content.
    /// `owner` stays empty: no evidence exsweep reads records a Windows file's owner
    /// (live Windows would need its security API).
    fn set_externals(&mut self, windows_path: &str, data: &[u8], md5: impl FnOnce() -> String) {
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
            ("filetype", filetype::filetype_of(data).to_string()),
        ];
        let scanners = std::iter::once(&mut self.scanner)
            .chain(self.always.as_mut())
            .chain(self.always_for_pe.as_mut());
        for scanner in scanners {
            for (k, v) in &globals {
                scanner
                    .set_global(k, v.as_str())
                    .expect("externals are defined as strings");
            }
        }
    }

    /// Scans a file's content and, when its bytes are not its text (UTF-16, UTF-7,
    /// Script Encoder), its [`text_view`]. `md5` is called only when a loaded rule may
    /// need it.
    pub fn scan(
        &mut self,
        windows_path: &str,
        data: &[u8],
        md5: impl FnOnce() -> String,
    ) -> Result<Vec<RuleHit>, ScanError> {
        let view = text_view(data);
        self.scan_with_view(windows_path, data, view.as_deref(), md5)
    }

    /// [`RuleScanner::scan`] with the file's [`text_view`] already made (the sweep
    /// makes it once for the rules and the heuristics).
    pub fn scan_with_view(
        &mut self,
        windows_path: &str,
        data: &[u8],
        decoded: Option<&[u8]>,
        md5: impl FnOnce() -> String,
    ) -> Result<Vec<RuleHit>, ScanError> {
        let may_match = |scratch: &mut Vec<u8>, bytes: &[u8]| {
            self.prefilter
                .is_none_or(|prefilter| prefilter.may_match(bytes, scratch))
        };
        let scan_data = may_match(&mut self.scratch, data);
        let scan_decoded = decoded.is_some_and(|text| may_match(&mut self.scratch, text));
        let is_pe = |bytes: &[u8]| bytes.starts_with(header::PE_MAGIC);
        let pe_rules_may_match =
            self.always_for_pe.is_some() && (is_pe(data) || decoded.is_some_and(is_pe));
        if !scan_data && !scan_decoded && self.always.is_none() && !pe_rules_may_match {
            return Ok(Vec::new());
        }
        if self.sets_externals {
            self.set_externals(windows_path, data, md5);
        }
        let mut hits = Vec::new();
        let mut views: Vec<(&[u8], bool, &str)> = vec![(data, scan_data, "")];
        if let Some(text) = decoded {
            views.push((text, scan_decoded, " (in the decoded text)"));
        }
        for (bytes, gated_may_match, label) in views {
            let mut found = Vec::new();
            if gated_may_match {
                found.extend(scan_bytes(&mut self.scanner, bytes)?);
            }
            let for_pe = self.always_for_pe.as_mut().filter(|_| is_pe(bytes));
            if let Some(always) = for_pe.or(self.always.as_mut()) {
                found.extend(scan_bytes(always, bytes)?);
            }
            for mut hit in found {
                if hits.iter().all(|h: &RuleHit| h.rule != hit.rule) {
                    for m in &mut hit.matches {
                        m.identifier.push_str(label);
                    }
                    hits.push(hit);
                }
            }
        }
        Ok(hits)
    }
}

fn scan_bytes(scanner: &mut yara_x::Scanner, data: &[u8]) -> Result<Vec<RuleHit>, ScanError> {
    let results = scanner.scan(data).map_err(|e| match e {
        yara_x::ScanError::Timeout => ScanError::Timeout,
        other => ScanError::Failed(other.to_string()),
    })?;
    Ok(results
        .matching_rules()
        .map(|rule| rule_hit(&rule))
        .collect())
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

impl RuleHit {
    /// Whether the rule is one of exsweep's own (`rules/`), not a user pack's.
    pub fn is_builtin(&self) -> bool {
        self.rule
            .strip_prefix(BUILTIN_NAMESPACE)
            .is_some_and(|name| name.starts_with(':'))
    }
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
        meta_id: meta_str(&meta, "id").map(Cow::into_owned),
        description: meta_str(&meta, "description").map(Cow::into_owned),
        severity: rule_severity(&meta),
        references,
        matches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_comparison_of_the_md5_external_costs_a_hash() {
        assert!(tests_md5_external(b"condition: md5 == \"ab\" or $a"));
        assert!(tests_md5_external(b"condition:\n  md5 icontains \"ab\""));
        assert!(!tests_md5_external(b"meta: md5 = \"ab\" condition: $a"));
        assert!(!tests_md5_external(
            b"condition: hash.md5(0, filesize) == \"ab\""
        ));
        assert!(!tests_md5_external(
            b"strings: $md5 = \"x\" condition: $md5"
        ));
    }

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
        let cache = tempfile::tempdir().unwrap();
        let set = RuleSet::build_with_cache(std::slice::from_ref(&dir), Some(cache.path()));
        assert!(set.rule_count > 5000, "only {} rules", set.rule_count);
        // Its literals are too many for a selective gate: its rules are scanned on
        // every file, and exsweep's own stay behind the prefilter.
        assert!(set.prefilter.is_some());
        assert_eq!(
            set.always_rule_count + set.pe_only_rule_count,
            set.rule_count - set.builtin_rule_count
        );
        // A third of it is written for Windows executables alone.
        assert!(set.pe_only_rule_count > 1000, "{}", set.pe_only_rule_count);
        assert!(set.warnings.len() < 10, "{:#?}", set.warnings);
        assert!(set
            .cache_note
            .as_deref()
            .unwrap()
            .starts_with("compiled and cached"));
        let again = RuleSet::build_with_cache(&[dir], Some(cache.path()));
        assert!(again
            .cache_note
            .as_deref()
            .unwrap()
            .starts_with("loaded compiled"));
        assert_eq!(
            (
                again.rule_count,
                again.always_rule_count,
                again.pe_only_rule_count,
                &again.warnings
            ),
            (
                set.rule_count,
                set.always_rule_count,
                set.pe_only_rule_count,
                &set.warnings
            )
        );
    }

    #[test]
    fn the_filetype_external_names_the_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cloaked.yar"),
            "rule cloaked { condition: extension == \".jpg\" and filetype == \"PHP\" }",
        )
        .unwrap();
        let set = RuleSet::build_with_cache(&[dir.path().to_path_buf()], None);
        let mut scanner = set.scanner(Duration::from_secs(5));
        let hits = |path: &str, data: &[u8], scanner: &mut RuleScanner| {
            scanner.scan(path, data, String::new).unwrap().len()
        };
        assert_eq!(hits(r"C:\inetpub\a.jpg", b"<?php echo 1;", &mut scanner), 1);
        assert_eq!(
            hits(r"C:\inetpub\a.jpg", b"\xFF\xD8\xFF\xE0", &mut scanner),
            0
        );
        assert_eq!(hits(r"C:\inetpub\a.php", b"<?php echo 1;", &mut scanner), 0);
    }

    /// The rule set of a user pack of these files, and a scanner of it.
    fn user_pack(files: &[(&str, &str)]) -> (RuleSet, RuleScanner<'static>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, source) in files {
            std::fs::write(dir.path().join(name), source).unwrap();
        }
        let set = RuleSet::build_with_cache(&[dir.path().to_path_buf()], None);
        let scanner = set.scanner(Duration::from_secs(5));
        (set, scanner)
    }

    /// The rules that match `data`.
    fn matching(scanner: &mut RuleScanner, data: &[u8]) -> Vec<String> {
        let hits = scanner.scan(r"C:\x.dll", data, String::new).unwrap();
        hits.into_iter().map(|h| h.identifier).collect()
    }

    #[test]
    fn a_rule_without_literals_is_scanned_apart_and_the_prefilter_stays_on() {
        let (set, mut scanner) = user_pack(&[
            ("small.yar", "rule tiny_file { condition: filesize < 4 }"),
            (
                "needle.yar",
                "rule needle { strings: $a = \"HaystackNeedle\" condition: $a }",
            ),
        ]);
        assert!(set.is_prefiltered());
        assert_eq!(set.always_rule_count, 1);
        assert_eq!(matching(&mut scanner, b"abc"), ["tiny_file"]);
        assert_eq!(matching(&mut scanner, b"a HaystackNeedle here"), ["needle"]);
        assert!(matching(&mut scanner, b"nothing to see here").is_empty());
    }

    #[test]
    fn a_hit_knows_whether_its_rule_is_exsweep_s_own() {
        // A user file named like exsweep's namespace is still a user file.
        let (_set, mut scanner) = user_pack(&[(
            "exsweep.yar",
            "rule exsweep_lookalike { strings: $a = \"VBScript.Encode\" condition: $a }",
        )]);
        let mut page = b"<%@ Language=VBScript.Encode %><%".to_vec();
        page.extend(decode::encode_script(b"Response.Write Now()"));
        page.extend_from_slice(b"%>");
        let hits = scanner
            .scan(r"C:\inetpub\wwwroot\a.asp", &page, String::new)
            .unwrap();
        let own: Vec<(&str, bool)> = hits
            .iter()
            .map(|h| (h.identifier.as_str(), h.is_builtin()))
            .collect();
        assert!(own.contains(&("exsweep_lookalike", false)), "{own:?}");
        assert!(
            own.contains(&("exsweep_asp_script_encoded", true)),
            "{own:?}"
        );
    }

    #[test]
    fn rules_for_executables_alone_are_scanned_on_files_that_start_with_mz() {
        let (set, mut scanner) = user_pack(&[
            (
                "implant.yar",
                "rule pe_implant { condition: uint16(0) == 0x5a4d and filesize < 16 }",
            ),
            ("small.yar", "rule tiny_file { condition: filesize < 4 }"),
        ]);
        assert_eq!((set.always_rule_count, set.pe_only_rule_count), (1, 1));
        assert_eq!(matching(&mut scanner, b"MZ\x90\0 x"), ["pe_implant"]);
        assert!(matching(&mut scanner, b"ZM\x90\0 x").is_empty());
        assert_eq!(matching(&mut scanner, b"ZM"), ["tiny_file"]);
        assert_eq!(matching(&mut scanner, b"MZ"), ["pe_implant", "tiny_file"]);
    }
}
