//! Compiled copies of quarantined pages. ASP.NET compiles every page it serves into
//! `Temporary ASP.NET Files\<app>\<hash>\<hash>\`: an `App_Web_<random>.dll` holding
//! the page's code and a `<page>.<hash>.compiled` preservation file naming the page
//! (`virtualPath="/owa/auth/x.aspx"`) and the assembly (`assembly="App_Web_ab12cd34"`).
//! A shell's compiled copy runs on after the page is gone until the app recompiles,
//! and is evidence of its own; it goes into the vault with the page. Removing a
//! compiled copy is safe: ASP.NET compiles the page again from its source when the
//! preservation file or assembly is missing.

use crate::durable;
use crate::plan::PlanEntry;
use exsweep_evidence::{winpath, Evidence};

/// The folders ASP.NET compiles into, for each installed framework and bitness.
const TEMP_DIRS: [&str; 4] = [
    r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files",
    r"C:\Windows\Microsoft.NET\Framework\v4.0.30319\Temporary ASP.NET Files",
    r"C:\Windows\Microsoft.NET\Framework64\v2.0.50727\Temporary ASP.NET Files",
    r"C:\Windows\Microsoft.NET\Framework\v2.0.50727\Temporary ASP.NET Files",
];
/// Preservation files are a few hundred bytes; anything far larger is not one.
const MAX_COMPILED: u64 = 64 << 10;

/// The value of `name="..."` in a preservation file's XML.
fn attribute<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("{name}=\""))? + name.len() + 2;
    let len = xml[start..].find('"')?;
    Some(&xml[start..start + len])
}

/// Whether a virtual path (`/owa/auth/x.aspx`) names the page at `windows_path`: its
/// segments end the page's path. Sites and applications are not resolved, so a page
/// at a site's root matches on its name alone.
fn names_page(virtual_path: &str, windows_path: &str) -> bool {
    let virtual_parts: Vec<String> = virtual_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(winpath::key)
        .collect();
    let page_parts: Vec<String> = windows_path.split('\\').map(winpath::key).collect();
    !virtual_parts.is_empty() && page_parts.ends_with(&virtual_parts)
}

/// The compiled copies of `pages` found on the evidence, as plan entries.
pub fn companions(evidence: &Evidence, pages: &[PlanEntry]) -> Vec<PlanEntry> {
    let dirs: Vec<String> = TEMP_DIRS
        .iter()
        .filter(|d| evidence.dir_exists(d))
        .map(|d| d.to_string())
        .collect();
    if dirs.is_empty() || pages.is_empty() {
        return Vec::new();
    }
    let (files, _) = evidence.list_files(&dirs, &[]);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for file in &files {
        if !winpath::key(&file.windows_path).ends_with(".compiled") || file.size > MAX_COMPILED {
            continue;
        }
        if evidence.read(file, MAX_COMPILED, &mut buf).is_err() {
            continue;
        }
        let xml = String::from_utf8_lossy(&buf);
        let Some(virtual_path) = attribute(&xml, "virtualPath") else {
            continue;
        };
        let Some(page) = pages
            .iter()
            .find(|p| p.companion_of.is_none() && names_page(virtual_path, &p.windows_path))
        else {
            continue;
        };
        let folder = file.windows_path.rsplit_once('\\').map_or("", |(d, _)| d);
        let assembly = attribute(&xml, "assembly")
            .map(|a| winpath::key(&winpath::join(folder, &format!("{a}.dll"))));
        for companion in files.iter().filter(|f| {
            f.windows_path == file.windows_path
                || assembly.as_deref() == Some(winpath::key(&f.windows_path).as_str())
        }) {
            let Ok(sha256) = evidence
                .read(companion, u64::MAX, &mut buf)
                .map(|_| durable::sha256_hex(&buf))
            else {
                continue;
            };
            out.push(PlanEntry {
                windows_path: companion.windows_path.clone(),
                size: companion.size,
                sha256,
                reasons: page.reasons.clone(),
                companion_of: Some(page.windows_path.clone()),
                known_good_sha256: Vec::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preservation_file_names_its_page_and_assembly() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<preserve resultType="3" virtualPath="/owa/auth/Shell.aspx" hash="ffc1e6e8" filehash="1a2b" flags="110000" assembly="App_Web_shell.aspx.cdcab7d2" />"#;
        assert_eq!(attribute(xml, "virtualPath"), Some("/owa/auth/Shell.aspx"));
        assert_eq!(
            attribute(xml, "assembly"),
            Some("App_Web_shell.aspx.cdcab7d2")
        );
        let page = r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\shell.aspx";
        assert!(names_page("/owa/auth/Shell.aspx", page));
        assert!(!names_page("/ecp/auth/Shell.aspx", page));
        assert!(!names_page("/", page));
    }
}
