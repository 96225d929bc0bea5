//! Compiled rule sets cached on disk, so that a second scan with the same packs does not
//! compile signature-base again (about 3 s) but loads it (well under one). An entry is
//! named by a hash of everything its compilation read: the engine's version, the
//! externals, exsweep's own rules and every user file with its includes, their paths
//! and how they were split. Any change makes another name; an entry that does not
//! read back (damaged, another engine) is compiled again and overwritten. The cache
//! lives in the user's cache folder, never beside the evidence.

use crate::prefilter::Requirement;
use sha2::Digest;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The yara-x version the compiled form belongs to; a test holds it to `Cargo.lock`.
pub const YARA_X_VERSION: &str = "1.22.1";
/// This file's own format.
const FORMAT: &[u8] = b"exsweep-rule-cache 3\n";
/// How many entries are kept: one per set of packs in use.
const KEEP: usize = 8;

/// Where entries go: `EXSWEEP_CACHE_DIR`, else the platform's cache folder.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("EXSWEEP_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if cfg!(windows) {
        return std::env::var_os("LOCALAPPDATA")
            .map(|d| PathBuf::from(d).join("exsweep").join("cache"));
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("exsweep"))
}

/// Builds an entry's name from what the compilation reads, part by part.
pub struct Key(sha2::Sha256);

impl Key {
    pub fn new() -> Key {
        let mut hasher = sha2::Sha256::new();
        hasher.update(FORMAT);
        hasher.update(YARA_X_VERSION.as_bytes());
        // exsweep's own version: how it splits and prefilters the rules may change.
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        Key(hasher)
    }

    pub fn add(&mut self, part: &[u8]) {
        self.0.update((part.len() as u64).to_le_bytes());
        self.0.update(part);
    }

    fn file_name(self) -> String {
        let digest = self.0.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("rules-{hex}.bin")
    }
}

/// A compiled rule set: the rules that need literals, those that do not (and those
/// with the ones only a Windows executable can match), the compile
/// errors by namespace, and what the prefilter needs of the gated rules (`None`: off),
/// so that a cached load parses no rule source.
pub struct Entry {
    pub gated: yara_x::Rules,
    pub always: Option<yara_x::Rules>,
    pub always_for_pe: Option<yara_x::Rules>,
    pub errors: HashMap<String, String>,
    pub requirements: Option<Vec<Requirement>>,
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

fn take_count(bytes: &mut &[u8]) -> Option<usize> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    *bytes = &bytes[8..];
    // No count can exceed the bytes left: a damaged entry stops here.
    (n <= bytes.len()).then_some(n)
}

fn put_requirements(out: &mut Vec<u8>, requirements: &Option<Vec<Requirement>>) {
    let Some(rules) = requirements else {
        out.push(0);
        return;
    };
    out.push(1);
    put_count(out, rules.len());
    for groups in rules {
        put_count(out, groups.len());
        for literals in groups {
            put_count(out, literals.len());
            for literal in literals {
                put_part(out, literal);
            }
        }
    }
}

fn take_requirements(bytes: &mut &[u8]) -> Option<Option<Vec<Requirement>>> {
    let (&flag, rest) = bytes.split_first()?;
    *bytes = rest;
    if flag == 0 {
        return Some(None);
    }
    let mut rules = Vec::with_capacity(take_count(bytes)?);
    for _ in 0..rules.capacity() {
        let mut groups = Vec::with_capacity(take_count(bytes)?);
        for _ in 0..groups.capacity() {
            let mut literals = Vec::with_capacity(take_count(bytes)?);
            for _ in 0..literals.capacity() {
                literals.push(take_part(bytes)?.to_vec());
            }
            groups.push(literals);
        }
        rules.push(groups);
    }
    Some(Some(rules))
}

fn put_part(out: &mut Vec<u8>, part: &[u8]) {
    out.extend_from_slice(&(part.len() as u64).to_le_bytes());
    out.extend_from_slice(part);
}

fn take_part<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let part = bytes.get(8..8 + len)?;
    *bytes = &bytes[8 + len..];
    Some(part)
}

/// A part of the rule set that may be absent (written empty).
fn put_rules_part(out: &mut Vec<u8>, rules: &Option<yara_x::Rules>) -> Result<(), String> {
    let serialized = match rules {
        Some(rules) => rules.serialize().map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    put_part(out, &serialized);
    Ok(())
}

/// `Some(None)` for an absent part, `None` for a damaged one.
fn take_rules_part(bytes: &mut &[u8]) -> Option<Option<yara_x::Rules>> {
    match take_part(bytes)? {
        [] => Some(None),
        part => Some(Some(yara_x::Rules::deserialize(part).ok()?)),
    }
}

/// The entry named by `key`, when it is there and reads back.
pub fn load(dir: &Path, key: Key) -> (Option<Entry>, PathBuf) {
    let path = dir.join(key.file_name());
    let entry = std::fs::read(&path).ok().and_then(|bytes| {
        let mut rest = bytes.strip_prefix(FORMAT)?;
        let gated = yara_x::Rules::deserialize(take_part(&mut rest)?).ok()?;
        let always = take_rules_part(&mut rest)?;
        let always_for_pe = take_rules_part(&mut rest)?;
        let errors_text = std::str::from_utf8(take_part(&mut rest)?).ok()?;
        let errors = errors_text
            .split('\0')
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split_once('\x1f'))
            .map(|(ns, e)| (ns.to_string(), e.to_string()))
            .collect();
        let requirements = take_requirements(&mut rest)?;
        Some(Entry {
            gated,
            always,
            always_for_pe,
            errors,
            requirements,
        })
    });
    (entry, path)
}

/// Writes an entry (to a temporary name first, so a reader never sees half of one)
/// and keeps only the newest [`KEEP`]. A cache that cannot be written is no error.
pub fn store(path: &Path, entry: &Entry) -> Result<(), String> {
    let dir = path.parent().ok_or("no cache folder")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut bytes = FORMAT.to_vec();
    put_part(
        &mut bytes,
        &entry.gated.serialize().map_err(|e| e.to_string())?,
    );
    put_rules_part(&mut bytes, &entry.always)?;
    put_rules_part(&mut bytes, &entry.always_for_pe)?;
    let mut errors: Vec<String> = entry
        .errors
        .iter()
        .map(|(ns, e)| format!("{ns}\x1f{e}"))
        .collect();
    errors.sort();
    put_part(&mut bytes, errors.join("\0").as_bytes());
    put_requirements(&mut bytes, &entry.requirements);
    // A name of this writer's own: two threads or processes may store one entry at once.
    static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let writer = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = path.with_extension(format!("{}-{writer}.partial", std::process::id()));
    std::fs::write(&partial, &bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&partial, path).map_err(|e| e.to_string())?;
    prune(dir);
    Ok(())
}

fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("rules-") && name.ends_with(".bin")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    found.sort();
    let excess = found.len().saturating_sub(KEEP);
    for (_, path) in found.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(source: &str) -> yara_x::Rules {
        let mut compiler = yara_x::Compiler::new();
        compiler.add_source(source).unwrap();
        compiler.build()
    }

    #[test]
    fn the_engine_version_is_the_locked_one() {
        let lock =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
                .unwrap();
        let locked = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"yara-x\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
            .unwrap()
            .trim_matches('"');
        assert_eq!(
            locked, YARA_X_VERSION,
            "update YARA_X_VERSION with the yara-x upgrade"
        );
    }

    #[test]
    fn entries_read_back_and_damage_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let key = || {
            let mut k = Key::new();
            k.add(b"rule a { condition: true }");
            k
        };
        let (missing, path) = load(dir.path(), key());
        assert!(missing.is_none());
        let entry = Entry {
            gated: compiled("rule a { strings: $a = \"abc\" condition: $a }"),
            always: Some(compiled("rule b { condition: filesize < 10 }")),
            always_for_pe: Some(compiled("rule p { condition: uint16(0) == 0x5a4d }")),
            errors: HashMap::from([("user:0:x".to_string(), "rule c: error".to_string())]),
            requirements: Some(vec![vec![
                vec![b"abc".to_vec()],
                vec![b"de".to_vec(), b"fg".to_vec()],
            ]]),
        };
        store(&path, &entry).unwrap();
        let (back, _) = load(dir.path(), key());
        let back = back.unwrap();
        assert_eq!(back.gated.iter().count(), 1);
        assert_eq!(
            back.always.unwrap().iter().next().unwrap().identifier(),
            "b"
        );
        assert_eq!(back.always_for_pe.unwrap().iter().count(), 1);
        assert_eq!(back.errors["user:0:x"], "rule c: error");
        assert_eq!(back.requirements, entry.requirements);
        let mut other = Key::new();
        other.add(b"rule a { condition: false }");
        assert!(
            load(dir.path(), other).0.is_none(),
            "another source is another entry"
        );
        std::fs::write(&path, b"exsweep-rule-cache 3\ngarbage").unwrap();
        assert!(load(dir.path(), key()).0.is_none());
    }
}
