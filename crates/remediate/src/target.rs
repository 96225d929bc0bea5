//! The server remediation acts on, and the checks that stand between a plan and a
//! write: evidence copies (KAPE, Velociraptor) and read-only mounts are refused, every
//! file is found by its Windows path inside the evidence root, never through a link,
//! and the vault may not sit where a web server would serve it.

use exsweep_evidence::{winpath, Evidence, Layout};
use std::fs;
use std::path::{Path, PathBuf};

/// A live root or a writable mounted disk of the server.
pub struct Target {
    evidence: Evidence,
    /// The local folders of the evidence's drives, canonical: every file acted on
    /// must be inside one.
    drive_roots: Vec<(char, PathBuf)>,
}

/// Why a collection cannot be remediated, and what to do instead.
fn refuse_copy(kind: &str, root: &Path) -> String {
    format!(
        "{} is a {kind}: a copy of the server's files, which is evidence and is never changed. \
         Write a plan from it (exsweep scan {} --plan plan.json), take plan.json to the server \
         and run `exsweep quarantine --plan plan.json --vault <DIR> --apply` there: only files \
         whose hashes still match are moved",
        root.display(),
        root.display()
    )
}

impl Target {
    pub fn open(root: &Path, layout: Option<Layout>) -> Result<Target, String> {
        let evidence = Evidence::open(root, layout, &[])?;
        match evidence.layout() {
            Layout::Kape => return Err(refuse_copy("KAPE collection", root)),
            Layout::Velociraptor => return Err(refuse_copy("Velociraptor collection", root)),
            Layout::Loose => {
                return Err(format!(
                "{} holds no server's folders (loose logs); there is nothing to quarantine in it",
                root.display()
            ))
            }
            Layout::Image | Layout::Live => {}
        }
        if read_only(root) {
            return Err(format!(
                "{} is on a read-only file system: remount the server's disk read-write (or run on the server) to quarantine; nothing was changed",
                root.display()
            ));
        }
        let drive_roots = evidence
            .drives()
            .into_iter()
            .flat_map(|letter| {
                evidence
                    .local_dirs(&format!("{letter}:\\"))
                    .into_iter()
                    .filter_map(move |d| fs::canonicalize(d).ok().map(|d| (letter, d)))
            })
            .collect();
        Ok(Target {
            evidence,
            drive_roots,
        })
    }

    /// The local file at `windows_path`, checked: inside the evidence, a regular file,
    /// not reached through a link. The name is matched without regard to case, as
    /// Windows does.
    pub fn locate(&self, windows_path: &str) -> Result<PathBuf, String> {
        let (parent, _) = windows_path
            .rsplit_once('\\')
            .ok_or_else(|| format!("{windows_path} is not a Windows path"))?;
        if windows_path.split('\\').any(|part| part == "..") {
            return Err(format!("{windows_path} climbs out of its folder (`..`)"));
        }
        let want = winpath::key(windows_path);
        let name_key = winpath::key(winpath::file_name(windows_path));
        for dir in self.evidence.local_dirs(parent) {
            let Ok(listing) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in listing.flatten() {
                let name = entry.file_name();
                if winpath::key(&name.to_string_lossy()) != name_key {
                    continue;
                }
                let path = entry.path();
                self.check_inside(&path, windows_path)?;
                let meta = fs::symlink_metadata(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                if meta.file_type().is_symlink() {
                    return Err(format!(
                        "{windows_path} is a symbolic link or junction; exsweep does not act through links (it could point anywhere): look at it by hand"
                    ));
                }
                if !meta.is_file() {
                    return Err(format!("{windows_path} is not a regular file"));
                }
                debug_assert_eq!(winpath::key(windows_path), want);
                return Ok(path);
            }
        }
        Err(match self.link_on_the_way(windows_path) {
            Some(link) => format!(
                "{windows_path} is reached through {}, a link or junction: exsweep does not act through links (it could point anywhere), nothing behind it is touched",
                link.display()
            ),
            None => format!("{windows_path} is no longer there"),
        })
    }

    /// The first folder on the way to `windows_path` that is a link: the evidence's
    /// listing does not follow links, so a file behind one is not found at all.
    fn link_on_the_way(&self, windows_path: &str) -> Option<PathBuf> {
        let parts: Vec<&str> = windows_path.split('\\').collect();
        (1..parts.len().saturating_sub(1)).rev().find_map(|n| {
            let ancestor = parts[..n].join("\\");
            let ancestor = if n == 1 {
                format!("{ancestor}\\")
            } else {
                ancestor
            };
            let next = winpath::key(parts[n]);
            self.evidence
                .local_dirs(&ancestor)
                .into_iter()
                .find_map(|dir| {
                    fs::read_dir(dir).ok()?.flatten().find_map(|e| {
                        let is_link = e.file_type().is_ok_and(|t| t.is_symlink());
                        (is_link && winpath::key(&e.file_name().to_string_lossy()) == next)
                            .then(|| e.path())
                    })
                })
        })
    }

    /// Refuses a file whose folder, links resolved, lies outside the evidence's drives.
    fn check_inside(&self, path: &Path, windows_path: &str) -> Result<(), String> {
        let parent = path.parent().unwrap_or(path);
        let real = fs::canonicalize(parent)
            .map_err(|e| format!("cannot resolve {}: {e}", parent.display()))?;
        if self
            .drive_roots
            .iter()
            .any(|(_, root)| real.starts_with(root))
        {
            Ok(())
        } else {
            Err(format!(
                "{windows_path} resolves to {}, outside the evidence root (a link or junction points elsewhere); nothing there is touched",
                real.display()
            ))
        }
    }

    /// The Windows path a local path has on this server, when it is on one of its
    /// drives.
    pub fn windows_path_of(&self, local: &Path) -> Option<String> {
        let real = canonical_lenient(local);
        self.drive_roots.iter().find_map(|(letter, root)| {
            let rest = real.strip_prefix(root).ok()?;
            let parts: Vec<String> = rest
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            Some(format!("{letter}:\\{}", parts.join("\\")))
        })
    }
}

/// `path` made absolute with links resolved, for a path that may not exist yet: the
/// longest existing ancestor is resolved and the rest appended.
pub fn canonical_lenient(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = fs::canonicalize(&existing) {
            return rest.iter().rev().fold(real, |p: PathBuf, c| p.join(c));
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// Folders a web server serves or runs code from: a vault there would hand the
/// quarantined shells back to whoever knows the URL.
pub fn is_web_folder(windows_path: &str) -> bool {
    let key = winpath::key(windows_path);
    [
        "\\inetpub\\",
        "\\frontend\\httpproxy\\",
        "\\clientaccess\\",
        "\\aspnet_client\\",
    ]
    .iter()
    .any(|web| key.contains(web))
}

#[cfg(unix)]
fn read_only(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a NUL-terminated path and a zeroed statvfs for the call to fill.
    unsafe {
        let mut stats: libc::statvfs = std::mem::zeroed();
        libc::statvfs(c_path.as_ptr(), &mut stats) == 0 && stats.f_flag & libc::ST_RDONLY != 0
    }
}

#[cfg(not(unix))]
fn read_only(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.permissions().readonly())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let web = dir.path().join("inetpub/wwwroot/aspnet_client");
        fs::create_dir_all(&web).unwrap();
        fs::create_dir_all(dir.path().join("Windows/System32/config")).unwrap();
        fs::write(web.join("Shell.aspx"), b"x").unwrap();
        dir
    }

    #[test]
    fn a_file_is_found_whatever_the_case_of_its_windows_path() {
        let dir = image();
        let target = Target::open(dir.path(), Some(Layout::Image)).unwrap();
        let found = target
            .locate(r"C:\INETPUB\wwwroot\aspnet_client\shell.ASPX")
            .unwrap();
        assert!(found.ends_with("inetpub/wwwroot/aspnet_client/Shell.aspx"));
        assert!(target
            .locate(r"C:\inetpub\wwwroot\aspnet_client\gone.aspx")
            .unwrap_err()
            .contains("no longer there"));
        assert_eq!(
            target.windows_path_of(&found).unwrap(),
            r"C:\inetpub\wwwroot\aspnet_client\Shell.aspx"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_and_paths_out_of_the_evidence_are_refused() {
        let dir = image();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("victim.aspx"), b"keep").unwrap();
        let web = dir.path().join("inetpub/wwwroot/aspnet_client");
        std::os::unix::fs::symlink(outside.path().join("victim.aspx"), web.join("link.aspx"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), web.join("elsewhere")).unwrap();
        let target = Target::open(dir.path(), Some(Layout::Image)).unwrap();
        let err = target
            .locate(r"C:\inetpub\wwwroot\aspnet_client\link.aspx")
            .unwrap_err();
        assert!(err.contains("symbolic link"), "{err}");
        let err = target
            .locate(r"C:\inetpub\wwwroot\aspnet_client\elsewhere\victim.aspx")
            .unwrap_err();
        assert!(err.contains("reached through"), "{err}");
        let err = target.locate(r"C:\inetpub\..\..\etc\passwd").unwrap_err();
        assert!(err.contains("climbs out"), "{err}");
    }

    #[test]
    fn web_folders_are_told_apart() {
        assert!(is_web_folder(r"C:\inetpub\wwwroot\vault\x"));
        assert!(is_web_folder(
            r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\vault"
        ));
        assert!(!is_web_folder(r"C:\ProgramData\exsweep\vault"));
    }
}
