//! Indicator sets: hashes, Windows paths, file names and Loki-style path regexes.
//! The built-in set is compiled in; user feeds add to it (`--iocs FILE`) in Loki's
//! hash and filename formats, plain lists, or STIX 2.1 bundles.

pub mod baseline;

use exsweep_evidence::winpath;
use regex::{Regex, RegexSet};
use std::collections::HashMap;
use std::path::Path;

const MSTIC_FEED: &str = include_str!("../../../data/iocs/mstic-exchange-march2021.csv");
const BUILTIN: &str = include_str!("../../../data/iocs/exsweep-builtin.txt");

/// Where an indicator came from and what it says, shown with every hit.
#[derive(Clone, Debug)]
pub struct Provenance {
    pub source: String,
    pub comment: String,
}

/// A Loki filename indicator: `REGEX;SCORE[;FALSE_POSITIVE_REGEX]`.
#[derive(Debug)]
struct PathRegex {
    fp: Option<Regex>,
    score: i64,
    provenance: Provenance,
}

/// A hit: what matched and how strongly.
#[derive(Debug)]
pub struct IndicatorHit<'a> {
    pub what: String,
    pub provenance: &'a Provenance,
    /// Loki score where the feed gives one.
    pub score: Option<i64>,
}

#[derive(Debug, Default)]
pub struct IndicatorSet {
    md5: HashMap<String, Provenance>,
    sha1: HashMap<String, Provenance>,
    sha256: HashMap<String, Provenance>,
    /// Exact Windows paths, by key.
    paths: HashMap<String, Provenance>,
    /// Paths given under Exchange's default install root, relative to it, so they
    /// also match an install elsewhere.
    install_relative: HashMap<String, Provenance>,
    /// File names suspicious anywhere (user feeds).
    names: HashMap<String, Provenance>,
    /// File names suspicious only inside web folders (built-in shell names).
    web_names: HashMap<String, Provenance>,
    /// The path regexes, matched together: one set, or several when together they are
    /// larger than a set may be; each with the index of its first pattern.
    regex_sets: Vec<(usize, RegexSet)>,
    regex_patterns: Vec<String>,
    regexes: Vec<PathRegex>,
    /// Notes on feed lines that could not be used.
    pub warnings: Vec<String>,
    /// A user feed added hashes: those may be of any file type.
    user_hashes: bool,
}

/// What loading one feed added.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    pub hashes: usize,
    pub paths: usize,
    pub names: usize,
    pub regexes: usize,
    pub unused: usize,
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl IndicatorSet {
    /// The built-in indicators (Microsoft's feed and exsweep's own list).
    pub fn builtin() -> IndicatorSet {
        let mut set = IndicatorSet::default();
        for line in MSTIC_FEED.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            if cols.len() < 4 {
                continue;
            }
            let prov = Provenance {
                source: "MSTIC Exchange feed (March 2021)".into(),
                comment: if cols[1].is_empty() {
                    format!("added {}", cols[0])
                } else {
                    format!("first seen {}", cols[1])
                },
            };
            match cols[3] {
                "sha256" => set.add_hash(cols[2], prov),
                "filepath" => set.add_path(cols[2], prov),
                _ => false,
            };
        }
        for line in BUILTIN
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let (kind, rest) = line
                .split_once(' ')
                .expect("built-in list: `kind value;comment`");
            let (value, comment) = rest.split_once(';').unwrap_or((rest, ""));
            let prov = Provenance {
                source: "exsweep built-in".into(),
                comment: comment.to_string(),
            };
            match kind {
                "sha256" => set.add_hash(value, prov),
                "path" => set.add_path(value, prov),
                "webname" => set.web_names.insert(value.to_lowercase(), prov).is_none(),
                other => panic!("built-in list: unknown kind {other}"),
            };
        }
        set
    }

    fn add_hash(&mut self, hash: &str, prov: Provenance) -> bool {
        let hash = hash.trim().to_lowercase();
        let map = match hash.len() {
            32 => &mut self.md5,
            40 => &mut self.sha1,
            64 => &mut self.sha256,
            _ => return false,
        };
        if !is_hex(&hash) {
            return false;
        }
        map.insert(hash, prov);
        true
    }

    fn add_path(&mut self, path: &str, prov: Provenance) -> bool {
        if winpath::split(path).is_none() {
            return false;
        }
        let key = winpath::key(path);
        let default_root = winpath::key(exsweep_evidence::known::DEFAULT_EXCHANGE_ROOT);
        if let Some(rest) = key.strip_prefix(&default_root) {
            self.install_relative.insert(rest.to_string(), prov.clone());
        }
        self.paths.insert(key, prov);
        true
    }

    pub fn len(&self) -> usize {
        self.md5.len()
            + self.sha1.len()
            + self.sha256.len()
            + self.paths.len()
            + self.names.len()
            + self.web_names.len()
            + self.regexes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn wants_md5(&self) -> bool {
        !self.md5.is_empty()
    }
    pub fn wants_sha1(&self) -> bool {
        !self.sha1.is_empty()
    }
    pub fn wants_sha256(&self) -> bool {
        !self.sha256.is_empty()
    }

    /// Whether a file's hashes are worth computing. The built-in hashes are all of
    /// web shells and attacker tools (scripts, PE files, archives), so other content
    /// is only hashed when a user feed brought hashes of its own.
    pub fn hashes_apply_to(&self, sample_like: bool) -> bool {
        sample_like || self.user_hashes
    }

    /// Looks a content hash up (any of MD5, SHA-1, SHA-256, lower-case hex).
    pub fn hash_hit(&self, hash: &str) -> Option<IndicatorHit<'_>> {
        let map = match hash.len() {
            32 => &self.md5,
            40 => &self.sha1,
            _ => &self.sha256,
        };
        map.get(hash).map(|p| IndicatorHit {
            what: format!("hash {hash}"),
            provenance: p,
            score: None,
        })
    }

    /// Path, name and regex indicators for a file. `exchange_root` is the install root
    /// found on the evidence; `in_web` says whether the file lies in a web folder.
    pub fn path_hits(
        &self,
        windows_path: &str,
        exchange_root: Option<&str>,
        in_web: bool,
    ) -> Vec<IndicatorHit<'_>> {
        let key = winpath::key(windows_path);
        let name = winpath::file_name(&key);
        let mut hits = Vec::new();
        let relative = exchange_root
            .and_then(|root| key.strip_prefix(&winpath::key(root)))
            .and_then(|rest| self.install_relative.get(rest));
        if let Some(p) = self.paths.get(&key).or(relative) {
            hits.push(IndicatorHit {
                what: "path".into(),
                provenance: p,
                score: None,
            });
        } else if let Some(p) = self
            .names
            .get(name)
            .or_else(|| in_web.then(|| self.web_names.get(name)).flatten())
        {
            hits.push(IndicatorHit {
                what: "file name".into(),
                provenance: p,
                score: None,
            });
        }
        for (first, set) in &self.regex_sets {
            for i in set.matches(windows_path).iter().map(|i| first + i) {
                let r = &self.regexes[i];
                if r.fp.as_ref().is_some_and(|fp| fp.is_match(windows_path)) {
                    continue;
                }
                hits.push(IndicatorHit {
                    what: format!("path regex {}", self.regex_patterns[i]),
                    provenance: &r.provenance,
                    score: Some(r.score),
                });
            }
        }
        hits
    }

    /// Loads a user feed. The format is recognised per file (STIX JSON) or per line
    /// (Loki hash line, Loki filename regex line, plain hash, path or name).
    pub fn load_feed(&mut self, path: &Path) -> Result<FeedStats, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let source = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.load_feed_bytes(&source, &bytes)
    }

    /// Loads a feed's content; `source` names it in the provenance of its hits.
    pub fn load_feed_bytes(&mut self, source: &str, bytes: &[u8]) -> Result<FeedStats, String> {
        let text = String::from_utf8_lossy(bytes);
        let stats = if text.trim_start().starts_with('{') {
            self.load_stix(&text, source)?
        } else {
            self.load_lines(&text, source)
        };
        self.rebuild_regex_set();
        Ok(stats)
    }

    fn load_lines(&mut self, text: &str, source: &str) -> FeedStats {
        let mut stats = FeedStats::default();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.splitn(3, ';').collect();
            let prov = |comment: &str| Provenance {
                source: source.to_string(),
                comment: comment.to_string(),
            };
            let first = fields[0].trim();
            if is_hex(first) && matches!(first.len(), 32 | 40 | 64) {
                self.add_hash(first, prov(fields.get(1).copied().unwrap_or("")));
                self.user_hashes = true;
                stats.hashes += 1;
            } else if let Some(score) = fields.get(1).and_then(|s| s.trim().parse::<i64>().ok()) {
                match self.add_regex(first, score, fields.get(2).copied(), prov("")) {
                    Ok(()) => stats.regexes += 1,
                    Err(e) => {
                        stats.unused += 1;
                        self.warnings
                            .push(format!("{source} line {}: regex not usable: {e}", n + 1));
                    }
                }
            } else if fields.len() == 1 && self.add_path(first, prov("")) {
                stats.paths += 1;
            } else if fields.len() == 1 && !first.contains(['\\', '/', ' ']) && first.contains('.')
            {
                self.names.insert(first.to_lowercase(), prov(""));
                stats.names += 1;
            } else {
                stats.unused += 1;
                self.warnings.push(format!(
                    "{source} line {}: not a hash, path, name or REGEX;SCORE line",
                    n + 1
                ));
            }
        }
        stats
    }

    fn add_regex(
        &mut self,
        pattern: &str,
        score: i64,
        fp: Option<&str>,
        prov: Provenance,
    ) -> Result<(), String> {
        Regex::new(pattern).map_err(|e| first_line(&e.to_string()))?;
        let fp = match fp.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(Regex::new(f).map_err(|e| first_line(&e.to_string()))?),
            None => None,
        };
        self.regex_patterns.push(pattern.to_string());
        self.regexes.push(PathRegex {
            fp,
            score,
            provenance: prov,
        });
        Ok(())
    }

    /// Builds the sets that match every path regex at once. Each pattern compiled on its
    /// own; together they may pass the regex crate's size limit, so the patterns are
    /// halved until each group fits (a group of one always does).
    fn rebuild_regex_set(&mut self) {
        self.regex_sets.clear();
        // Ranges of patterns still to be put in a set.
        let mut pending = Vec::new();
        pending.push(0..self.regex_patterns.len());
        while let Some(range) = pending.pop() {
            if range.is_empty() {
                continue;
            }
            match RegexSet::new(&self.regex_patterns[range.clone()]) {
                Ok(set) => self.regex_sets.push((range.start, set)),
                Err(_) if range.len() > 1 => {
                    let mid = range.start + range.len() / 2;
                    pending.push(mid..range.end);
                    pending.push(range.start..mid);
                }
                Err(e) => self.warnings.push(format!(
                    "path regex {} left out: {}",
                    self.regex_patterns[range.start],
                    first_line(&e.to_string())
                )),
            }
        }
        if self.regex_sets.len() > 1 {
            self.warnings.push(format!(
                "{} path regexes are too large to match in one pass: matched in {} groups, more slowly",
                self.regex_patterns.len(),
                self.regex_sets.len()
            ));
        }
    }

    fn load_stix(&mut self, text: &str, source: &str) -> Result<FeedStats, String> {
        let bundle: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("{source}: not valid JSON: {e}"))?;
        let objects = bundle
            .get("objects")
            .and_then(|o| o.as_array())
            .ok_or_else(|| format!("{source}: not a STIX bundle (no objects array)"))?;
        let comparison = Regex::new(
            r"(?i)file:(hashes\.'?(?:sha-?256|sha-?1|md5)'?|name)\s*=\s*'((?:[^'\\]|\\.)*)'",
        )
        .expect("static regex");
        let mut stats = FeedStats::default();
        for obj in objects {
            if obj.get("type").and_then(|t| t.as_str()) != Some("indicator") {
                continue;
            }
            let pattern = obj.get("pattern").and_then(|p| p.as_str()).unwrap_or("");
            let name = obj
                .get("name")
                .or_else(|| obj.get("description"))
                .and_then(|n| n.as_str())
                .unwrap_or("");
            let prov = Provenance {
                source: source.to_string(),
                comment: name.to_string(),
            };
            let mut used = false;
            for cap in comparison.captures_iter(pattern) {
                let value = cap[2].replace("\\\\", "\\").replace("\\'", "'");
                if cap[1].eq_ignore_ascii_case("name") {
                    self.names.insert(value.to_lowercase(), prov.clone());
                    stats.names += 1;
                    used = true;
                } else if self.add_hash(&value, prov.clone()) {
                    self.user_hashes = true;
                    stats.hashes += 1;
                    used = true;
                }
            }
            if !used {
                stats.unused += 1;
            }
        }
        if stats.unused > 0 {
            self.warnings.push(format!(
                "{source}: {} STIX indicators are of kinds the file sweep does not use (network, registry, ...)",
                stats.unused
            ));
        }
        Ok(stats)
    }
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_mstic_and_own_indicators() {
        let set = IndicatorSet::builtin();
        assert!(set
            .hash_hit("b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0")
            .is_some());
        let hits = set.path_hits(r"C:\INETPUB\wwwroot\aspnet_client\supp0rt.aspx", None, true);
        assert_eq!(hits.len(), 1);
        // A web-shell name outside web folders is not an indicator.
        assert!(set
            .path_hits(r"C:\Users\bob\help.aspx", None, false)
            .is_empty());
        assert_eq!(
            set.path_hits(r"C:\Users\bob\help.aspx", None, true).len(),
            1
        );
    }

    #[test]
    fn regexes_too_large_together_are_matched_in_groups() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("filename-iocs.txt");
        let lines: Vec<String> = (0..400)
            .map(|i| format!(r"(a|b|c|d|e|f|g|h){{1,1000}}{i}x{{1,500}};80"))
            .chain([r"\\aspnet_client\\[^\\]+\.aspx$;70".to_string()])
            .collect();
        std::fs::write(&feed, lines.join("\n")).unwrap();
        let mut set = IndicatorSet::default();
        let stats = set.load_feed(&feed).unwrap();
        assert_eq!(stats.regexes, 401);
        assert!(set.regex_sets.len() > 1);
        assert!(
            set.warnings.iter().any(|w| w.contains("matched in")),
            "{:?}",
            set.warnings
        );
        let hits = set.path_hits(r"C:\inetpub\wwwroot\aspnet_client\x.aspx", None, true);
        assert!(
            hits.iter().any(|h| h.score == Some(70)),
            "the last pattern still matches"
        );
        let hits = set.path_hits(
            &format!(r"C:\{}123{}", "a".repeat(5), "x".repeat(3)),
            None,
            true,
        );
        assert!(
            hits.iter().any(|h| h.score == Some(80)),
            "an early pattern still matches"
        );
    }

    #[test]
    fn install_relative_paths_follow_the_install() {
        let set = IndicatorSet::builtin();
        let path = r"D:\Exchange\FrontEnd\HttpProxy\owa\auth\shel90.aspx";
        assert!(set.path_hits(path, None, false).is_empty());
        assert_eq!(set.path_hits(path, Some(r"D:\Exchange"), false).len(), 1);
    }

    #[test]
    fn loki_lines_and_plain_lists() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed.txt");
        std::fs::write(
            &feed,
            "# comment\n\
             d41d8cd98f00b204e9800998ecf8427e;empty file\n\
             \\\\aspnet_client\\\\[a-z]{8}\\.aspx$;70;(?i)legit\n\
             (unclosed;80\n\
             C:\\Windows\\Temp\\x.exe\n\
             evil.ashx\n\
             this is not an indicator\n",
        )
        .unwrap();
        let mut set = IndicatorSet::default();
        let stats = set.load_feed(&feed).unwrap();
        assert_eq!(
            stats,
            FeedStats {
                hashes: 1,
                paths: 1,
                names: 1,
                regexes: 1,
                unused: 2
            }
        );
        assert_eq!(set.warnings.len(), 2);
        assert!(set.hash_hit("d41d8cd98f00b204e9800998ecf8427e").is_some());
        let hits = set.path_hits(
            r"C:\inetpub\wwwroot\aspnet_client\abcdefgh.aspx",
            None,
            true,
        );
        assert_eq!(hits[0].score, Some(70));
        assert!(set
            .path_hits(
                r"C:\inetpub\wwwroot\aspnet_client\LEGITxyz.aspx",
                None,
                true
            )
            .is_empty());
        assert_eq!(
            set.path_hits(r"c:\windows\temp\X.EXE", None, false).len(),
            1
        );
        assert_eq!(set.path_hits(r"C:\x\Evil.ashx", None, false).len(), 1);
    }

    #[test]
    fn stix_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("bundle.json");
        std::fs::write(
            &feed,
            r#"{"type":"bundle","objects":[
              {"type":"indicator","name":"shell","pattern":"[file:hashes.'SHA-256' = '65149e036fff06026d80ac9ad4d156332822dc93142cf1a122b1841ec8de34b5']"},
              {"type":"indicator","name":"named","pattern":"[file:name = 'xx.aspx' OR file:hashes.MD5 = '00000000000000000000000000000001']"},
              {"type":"indicator","name":"ip","pattern":"[ipv4-addr:value = '203.0.113.5']"},
              {"type":"malware","name":"not an indicator"}]}"#,
        )
        .unwrap();
        let mut set = IndicatorSet::default();
        let stats = set.load_feed(&feed).unwrap();
        assert_eq!((stats.hashes, stats.names, stats.unused), (2, 1, 1));
        assert!(set.hash_hit("00000000000000000000000000000001").is_some());
        assert_eq!(set.path_hits(r"C:\a\XX.aspx", None, false).len(), 1);
    }

    #[test]
    fn signature_base_iocs_load_with_warnings_not_errors() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/signature-base/iocs");
        if !dir.exists() {
            eprintln!("skipped: {} is absent", dir.display());
            return;
        }
        let mut set = IndicatorSet::default();
        let names = set.load_feed(&dir.join("filename-iocs.txt")).unwrap();
        let hashes = set.load_feed(&dir.join("hash-iocs.txt")).unwrap();
        assert!(names.regexes > 100, "{names:?}");
        assert!(hashes.hashes > 1000, "{hashes:?}");
    }
}
