//! Known-good baselines: per Exchange build, the SHA-256 of every file Microsoft ships in
//! its web folders, in Microsoft's own format (`SHA256,build,relative path`, one file per
//! line, the path below the install root with the build's folder written `version`,
//! optionally gzipped), the format of CSS-Exchange's published baselines and of
//! `exsweep baseline create`.
//!
//! A file is judged against the baseline of the evidence's build: not listed (a new
//! file in Exchange's web folders), listed with another hash (a modified, perhaps
//! trojanised, page), or a listed hash under another path (a renamed legitimate file).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read, Write};
use std::path::Path;

/// The baseline lines of one build, by the file's key ([`relative_key`]).
#[derive(Debug, Default)]
pub struct BuildBaseline {
    hashes_by_path: HashMap<String, Vec<String>>,
}

impl BuildBaseline {
    /// The hashes listed for a path (by key), when the path is listed.
    pub fn hashes_of(&self, key: &str) -> Option<&[String]> {
        self.hashes_by_path.get(key).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.hashes_by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes_by_path.is_empty()
    }
}

/// Every loaded baseline: the builds, and every listed hash with the paths it is
/// listed under (in any build).
#[derive(Debug, Default)]
pub struct Baselines {
    builds: BTreeMap<String, BuildBaseline>,
    paths_by_hash: HashMap<String, HashSet<String>>,
    /// The files loaded, for the coverage.
    pub sources: Vec<String>,
}

/// True for a folder name that is a build (`15.2.858.5`) or OWA's `Current`, both of
/// which the baselines write `version`.
fn is_build_folder(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    name.eq_ignore_ascii_case("current")
        || name.eq_ignore_ascii_case("version")
        || (parts.len() == 4
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

/// The key a path below the install root is looked up by: lower case, `\`-separated,
/// a leading `\`, and build folders written `version`.
pub fn relative_key(relative: &str) -> String {
    let mut key = String::with_capacity(relative.len() + 1);
    for part in relative.split(['\\', '/']).filter(|p| !p.is_empty()) {
        key.push('\\');
        if is_build_folder(part) {
            key.push_str("version");
        } else {
            key.push_str(&part.to_lowercase());
        }
    }
    key
}

/// A path below the install root as a baseline writes it: build folders written
/// `version`, the rest as it is.
pub fn baseline_path(relative: &str) -> String {
    let mut out = String::with_capacity(relative.len() + 1);
    for part in relative.split(['\\', '/']).filter(|p| !p.is_empty()) {
        out.push('\\');
        out.push_str(if is_build_folder(part) {
            "version"
        } else {
            part
        });
    }
    out
}

/// True for a version string `a.b.c.d`.
pub fn is_build(text: &str) -> bool {
    is_build_folder(text) && text.contains('.')
}

impl Baselines {
    /// Loads a baseline file (gzipped when it starts with gzip's magic). Lines that are
    /// not `SHA256,build,path` are counted and named in the error only when no line is
    /// good: a damaged line is skipped.
    pub fn load(&mut self, path: &Path) -> Result<(), String> {
        let describe = |e: io::Error| format!("cannot read baseline {}: {e}", path.display());
        let mut raw = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut raw))
            .map_err(describe)?;
        let text = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .map_err(describe)?;
            out
        } else {
            raw
        };
        let (good, bad) = self.add_lines(&text);
        if good == 0 {
            return Err(format!(
                "{} holds no baseline line (`SHA256,build,relative path`){}",
                path.display(),
                if bad > 0 {
                    format!("; {bad} line(s) of another shape")
                } else {
                    String::new()
                }
            ));
        }
        self.sources
            .push(format!("{} ({good} files)", path.display()));
        Ok(())
    }

    /// Adds the lines of a baseline; returns how many were taken and how many were not
    /// baseline lines.
    fn add_lines(&mut self, text: &[u8]) -> (usize, usize) {
        let (mut good, mut bad) = (0, 0);
        for line in text.split(|b| *b == b'\n') {
            let line = String::from_utf8_lossy(line);
            let line = line.trim_start_matches('\u{feff}').trim();
            if line.is_empty() {
                continue;
            }
            let mut fields = line.splitn(3, ',');
            let (Some(hash), Some(build), Some(path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                bad += 1;
                continue;
            };
            let hash = hash.trim().to_ascii_lowercase();
            if hash.len() != 64
                || !hash.bytes().all(|b| b.is_ascii_hexdigit())
                || !is_build(build.trim())
            {
                bad += 1;
                continue;
            }
            let key = relative_key(path.trim());
            self.paths_by_hash
                .entry(hash.clone())
                .or_default()
                .insert(key.clone());
            self.builds
                .entry(build.trim().to_string())
                .or_default()
                .hashes_by_path
                .entry(key)
                .or_default()
                .push(hash);
            good += 1;
        }
        (good, bad)
    }

    pub fn is_empty(&self) -> bool {
        self.builds.is_empty()
    }

    /// The builds loaded, in order.
    pub fn builds(&self) -> impl Iterator<Item = &str> {
        self.builds.keys().map(String::as_str)
    }

    pub fn for_build(&self, build: &str) -> Option<&BuildBaseline> {
        self.builds.get(build)
    }

    /// The keys of every path a hash (lower-case hex) is listed under, in any build.
    pub fn paths_of_hash(&self, sha256: &str) -> Option<&HashSet<String>> {
        self.paths_by_hash.get(sha256)
    }
}

/// One line of a baseline being written.
pub struct BaselineLine<'a> {
    pub sha256: &'a str,
    pub relative_path: &'a str,
}

/// Writes baseline lines for `build` in Microsoft's format, sorted by path, gzipped
/// when `gzip`.
pub fn write_baseline(
    build: &str,
    lines: &mut [BaselineLine],
    gzip: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    lines.sort_by(|a, b| a.relative_path.cmp(b.relative_path));
    let mut text = Vec::new();
    for line in lines.iter() {
        writeln!(
            text,
            "{},{build},{}",
            line.sha256.to_ascii_uppercase(),
            baseline_path(line.relative_path)
        )?;
    }
    if gzip {
        let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        encoder.write_all(&text)?;
        encoder.finish()?;
        Ok(())
    } else {
        out.write_all(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "04BE76217500275335E82EB4C2C1588478F7A171EFD7A0D9BDC6BBE83E315589";

    #[test]
    fn keys_fold_case_and_build_folders() {
        assert_eq!(
            relative_key(r"\FrontEnd\HttpProxy\owa\auth\15.2.858.5\themes\x.gif"),
            r"\frontend\httpproxy\owa\auth\version\themes\x.gif"
        );
        assert_eq!(
            relative_key(r"FrontEnd/HttpProxy/owa/auth/Current/x.gif"),
            relative_key(r"\FrontEnd\HttpProxy\owa\auth\version\x.gif")
        );
        assert_eq!(
            baseline_path(r"\ClientAccess\owa\15.2.858.5\Sub"),
            r"\ClientAccess\owa\version\Sub"
        );
        assert!(!is_build("15.2.858"));
    }

    #[test]
    fn lines_load_and_damaged_ones_are_skipped() {
        let mut b = Baselines::default();
        let text = format!(
            "\u{feff}{HASH},15.2.858.5,\\FrontEnd\\HttpProxy\\owa\\auth\\errorFE.aspx\r\nnot a line\n{HASH},15.2.858.5,\\ClientAccess\\owa\\auth\\errorFE.aspx\n"
        );
        assert_eq!(b.add_lines(text.as_bytes()), (2, 1));
        let build = b.for_build("15.2.858.5").unwrap();
        assert_eq!(build.len(), 2);
        assert_eq!(
            build
                .hashes_of(r"\frontend\httpproxy\owa\auth\errorfe.aspx")
                .unwrap(),
            [HASH.to_ascii_lowercase()]
        );
        assert_eq!(
            b.paths_of_hash(&HASH.to_ascii_lowercase()).unwrap().len(),
            2
        );
    }

    #[test]
    fn written_baselines_load_back_gzipped_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let lower = HASH.to_ascii_lowercase();
        for gzip in [false, true] {
            let mut lines = vec![
                BaselineLine {
                    sha256: &lower,
                    relative_path: r"\FrontEnd\HttpProxy\owa\auth\logon.aspx",
                },
                BaselineLine {
                    sha256: &lower,
                    relative_path: r"\FrontEnd\HttpProxy\owa\auth\15.2.1544.4\a.js",
                },
            ];
            let path = dir.path().join(format!("b{gzip}.csv"));
            let mut file = std::fs::File::create(&path).unwrap();
            write_baseline("15.2.1544.4", &mut lines, gzip, &mut file).unwrap();
            drop(file);
            let mut b = Baselines::default();
            b.load(&path).unwrap();
            assert_eq!(b.builds().collect::<Vec<_>>(), ["15.2.1544.4"]);
            assert!(b
                .for_build("15.2.1544.4")
                .unwrap()
                .hashes_of(r"\frontend\httpproxy\owa\auth\version\a.js")
                .is_some());
        }
        let plain = std::fs::read_to_string(dir.path().join("bfalse.csv")).unwrap();
        assert_eq!(
            plain.lines().next().unwrap(),
            format!(r"{HASH},15.2.1544.4,\FrontEnd\HttpProxy\owa\auth\version\a.js")
        );
    }

    #[test]
    fn a_file_without_baseline_lines_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "hello\nworld\n").unwrap();
        let err = Baselines::default().load(&path).unwrap_err();
        assert!(err.contains("2 line(s) of another shape"), "{err}");
    }

    #[test]
    fn microsoft_baselines_load_when_present() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/baselines/baseline_15.2.858.5.csv.gz");
        if !path.exists() {
            return;
        }
        let mut b = Baselines::default();
        b.load(&path).unwrap();
        let build = b.for_build("15.2.858.5").unwrap();
        assert!(build.len() > 17_000, "{}", build.len());
        assert!(build
            .hashes_of(r"\frontend\httpproxy\owa\auth\version\themes\resources\errorfe.css")
            .is_some());
    }
}
