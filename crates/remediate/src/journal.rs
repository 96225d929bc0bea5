//! The vault's journal: an append-only record of every step of every quarantine and
//! restore, flushed to disk before the step it announces is taken (or after, for the
//! steps that confirm one). It is the vault's truth; the manifest is rebuilt from it.
//!
//! Each line is `<checksum> <json>`, the checksum being the first 16 hex digits of the
//! JSON's SHA-256. A crash can tear only the last line: that one is dropped (and cut
//! off before the next append) with a warning. A bad line anywhere else means the
//! journal was damaged or edited, and the vault refuses to act until a person looks.

use crate::durable::{append_synced, open_append, sha256_hex};
use crate::vault::Item;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// One step, as the journal records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// A quarantine starts: everything the manifest will say about the file.
    Begin { item: Box<Item> },
    /// The vault copy is on disk and its digest was checked against the original's.
    Stored { id: String },
    /// The original was removed (the file is now only in the vault).
    Removed { id: String },
    /// A known-good copy of the file was put where the original was.
    Replaced { id: String },
    /// The quarantine was undone before the original was removed.
    RolledBack { id: String, why: String },
    /// A restore starts.
    RestoreBegin { id: String },
    /// The file is back, its digest checked.
    Restored { id: String },
    /// A restore was undone before it replaced anything; the file stays in the vault.
    RestoreAbandoned { id: String, why: String },
}

impl Step {
    pub fn id(&self) -> &str {
        match self {
            Step::Begin { item } => &item.id,
            Step::Stored { id }
            | Step::Removed { id }
            | Step::Replaced { id }
            | Step::RolledBack { id, .. }
            | Step::RestoreBegin { id }
            | Step::Restored { id }
            | Step::RestoreAbandoned { id, .. } => id,
        }
    }
}

pub struct Journal {
    file: File,
}

fn checksum(json: &str) -> String {
    sha256_hex(json.as_bytes())[..16].to_string()
}

fn parse_line(line: &str) -> Option<Step> {
    let (sum, json) = line.split_once(' ')?;
    (checksum(json) == sum)
        .then(|| serde_json::from_str(json).ok())
        .flatten()
}

/// The steps of a journal's text, and the length of its good part when the last line
/// is torn. A bad line before the last is an error naming it.
fn parse(text: &str) -> Result<(Vec<Step>, Option<usize>), String> {
    let mut steps = Vec::new();
    let mut good_len = 0;
    let mut rest = text;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let (line, next, complete) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..], true),
            None => (rest, "", false),
        };
        match parse_line(line) {
            Some(step) if complete => steps.push(step),
            // Only the last line can be torn by a crash mid-append.
            _ if next.is_empty() => return Ok((steps, Some(good_len))),
            _ => {
                return Err(format!(
                    "line {number} fails its checksum or does not parse: the journal was damaged or edited"
                ))
            }
        }
        good_len += line.len() + 1;
        rest = next;
    }
    Ok((steps, None))
}

impl Journal {
    /// Opens (or creates) the journal at `path`, returning it with the steps it holds
    /// and a warning when a torn last line was dropped.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Step>, Option<String>), String> {
        let shown = path.display();
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("cannot read the vault journal {shown}: {e}")),
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            format!("the vault journal {shown} is not text: it was damaged or replaced; nothing was changed")
        })?;
        let (steps, torn) = parse(&text)
            .map_err(|e| format!("the vault journal {shown}: {e}; nothing was changed"))?;
        let warning = match torn {
            Some(good_len) => {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| format!("cannot repair the vault journal {shown}: {e}"))?;
                file.set_len(good_len as u64)
                    .and_then(|_| file.sync_all())
                    .map_err(|e| format!("cannot repair the vault journal {shown}: {e}"))?;
                Some(
                    "the vault journal's last line was cut short (an interrupted run); it was dropped and that step is checked on disk instead"
                        .to_string(),
                )
            }
            None => None,
        };
        let file =
            open_append(path).map_err(|e| format!("cannot open the vault journal {shown}: {e}"))?;
        Ok((Journal { file }, steps, warning))
    }

    /// Records a step, on disk before this returns.
    pub fn record(&mut self, step: &Step) -> io::Result<()> {
        let json = serde_json::to_string(step).map_err(io::Error::other)?;
        let line = format!("{} {json}\n", checksum(&json));
        append_synced(&mut self.file, line.as_bytes())
    }
}

/// Where a vault keeps its journal.
pub fn path_in(vault: &Path) -> PathBuf {
    vault.join("journal.log")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str) -> Step {
        Step::Stored { id: id.into() }
    }

    #[test]
    fn steps_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let (mut journal, steps, warning) = Journal::open(&path).unwrap();
        assert!(steps.is_empty() && warning.is_none());
        journal.record(&stored("a")).unwrap();
        journal.record(&stored("b")).unwrap();
        drop(journal);
        let (_, steps, warning) = Journal::open(&path).unwrap();
        let ids: Vec<&str> = steps.iter().map(Step::id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(warning.is_none());
    }

    #[test]
    fn a_torn_last_line_is_dropped_with_a_warning_and_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let (mut journal, _, _) = Journal::open(&path).unwrap();
        journal.record(&stored("a")).unwrap();
        drop(journal);
        let good = fs::read(&path).unwrap();
        let mut torn = good.clone();
        torn.extend_from_slice(b"0123456789abcdef {\"op\":\"sto");
        fs::write(&path, &torn).unwrap();
        let (mut journal, steps, warning) = Journal::open(&path).unwrap();
        assert_eq!(steps.len(), 1);
        assert!(warning.unwrap().contains("cut short"));
        journal.record(&stored("b")).unwrap();
        drop(journal);
        let (_, steps, warning) = Journal::open(&path).unwrap();
        assert_eq!(steps.len(), 2, "the append starts on a clean line");
        assert!(warning.is_none());
    }

    #[test]
    fn an_edited_line_before_the_last_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let (mut journal, _, _) = Journal::open(&path).unwrap();
        journal.record(&stored("a")).unwrap();
        journal.record(&stored("b")).unwrap();
        drop(journal);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replacen("\"a\"", "\"x\"", 1);
        fs::write(&path, text).unwrap();
        let err = Journal::open(&path).err().unwrap();
        assert!(
            err.contains("line 1") && err.contains("nothing was changed"),
            "{err}"
        );
    }
}
