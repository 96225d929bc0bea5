//! File checks that need no rule engine: indicators, Exchange allow-lists, dumps,
//! mailbox-export shells and staged archives. They all look at one [`FileSubject`]:
//! the file's path, zone and the bytes the sweep read once.

use super::{
    HASH_INDICATOR, LSASS_DUMP, MAILBOX_EXPORT_SHELL, MEMORY_DUMP_IN_STAGING, PATH_INDICATOR,
    SCRIPT_IN_STATIC_FOLDER, STAGING_ARCHIVE, UNEXPECTED_AUTH_FILE,
};
use crate::inventory::Zone;
use exsweep_evidence::winpath;
use exsweep_indicators::IndicatorSet;
use exsweep_model::{Hit, Severity};
use std::borrow::Cow;
use std::cell::OnceCell;

/// Extensions of files a web server may execute or that carry server code,
/// matched case-insensitively.
pub const WEB_SCRIPT_EXTENSIONS: [&str; 15] = [
    "aspx", "ashx", "asmx", "ascx", "asax", "asp", "svc", "soap", "config", "cshtml", "cs", "js",
    "jsp", "php", "master",
];

/// The subset IIS runs on request: a file of these types in a static folder is a page.
pub const SERVER_EXECUTED: [&str; 12] = [
    "aspx", "ashx", "asmx", "ascx", "asax", "asp", "svc", "soap", "cshtml", "jsp", "php", "config",
];

/// The pages a clean front-end `owa\auth` holds (2016/2019, plus 2013's SvmFeedback).
pub const OWA_AUTH_PAGES: [&str; 10] = [
    "errorfe.aspx",
    "expiredpassword.aspx",
    "frowny.aspx",
    "getidtoken.htm",
    "logoff.aspx",
    "logon.aspx",
    "outlookcn.aspx",
    "redirsuiteserviceproxy.aspx",
    "signout.aspx",
    "svmfeedback.aspx",
];
pub const ECP_AUTH_PAGES: [&str; 1] = ["timeoutlogout.aspx"];

const ARCHIVE_EXTENSIONS: [&str; 3] = ["zip", "7z", "rar"];

/// True when the first bytes look like a server-side page, whatever the extension.
pub fn starts_like_server_script(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..head.len().min(start + 512)];
    let lower = head.to_ascii_lowercase();
    lower.starts_with(b"<%")
        || lower.starts_with(b"<?php")
        || (lower.starts_with(b"<script") && memchr::memmem::find(&lower, b"runat").is_some())
}

/// Lazily computed hashes of a completely read file.
#[derive(Default)]
pub struct Hashes {
    md5: OnceCell<String>,
    sha1: OnceCell<String>,
    sha256: OnceCell<String>,
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

impl Hashes {
    pub fn md5(&self, data: &[u8]) -> &str {
        use md5::Digest;
        self.md5.get_or_init(|| hex(&md5::Md5::digest(data)))
    }
    pub fn sha1(&self, data: &[u8]) -> &str {
        use sha1::Digest;
        self.sha1.get_or_init(|| hex(&sha1::Sha1::digest(data)))
    }
    pub fn sha256(&self, data: &[u8]) -> &str {
        use sha2::Digest;
        self.sha256.get_or_init(|| hex(&sha2::Sha256::digest(data)))
    }
}

/// Extensions of the text scripts among published attacker tools.
const TOOL_SCRIPT_EXTENSIONS: [&str; 5] = ["ps1", "bat", "cmd", "vbs", "hta"];
/// Magic numbers of the binary kinds published samples are: PE files and archives.
const SAMPLE_MAGICS: [&[u8]; 4] = [b"MZ", b"PK\x03\x04", b"7z\xBC\xAF\x27\x1C", b"Rar!\x1A\x07"];

/// One file as the checks see it.
pub struct FileSubject<'a> {
    pub windows_path: &'a str,
    pub zone: Zone,
    /// The bytes read: the whole file when `complete`, else only its head.
    pub data: &'a [u8],
    pub complete: bool,
    pub hashes: Hashes,
    /// Lower-case extension, without the dot.
    extension: String,
    looks_like_script: bool,
}

impl<'a> FileSubject<'a> {
    pub fn new(
        windows_path: &'a str,
        zone: Zone,
        data: &'a [u8],
        complete: bool,
    ) -> FileSubject<'a> {
        FileSubject {
            windows_path,
            zone,
            data,
            complete,
            hashes: Hashes::default(),
            extension: winpath::extension(winpath::file_name(windows_path)),
            looks_like_script: starts_like_server_script(data),
        }
    }

    fn name(&self) -> &str {
        winpath::file_name(self.windows_path)
    }

    pub fn extension(&self) -> &str {
        &self.extension
    }

    fn is_web_script(&self) -> bool {
        WEB_SCRIPT_EXTENSIONS.contains(&self.extension()) || self.looks_like_script
    }

    pub fn is_server_executed(&self) -> bool {
        SERVER_EXECUTED.contains(&self.extension()) || self.looks_like_script
    }

    /// A file of a kind published samples are, judged by content for binaries (a
    /// `.dll` that is not a PE file cannot be a published PE sample): a web or tool
    /// script, a PE file, an archive.
    fn is_sample_like(&self) -> bool {
        self.is_web_script()
            || TOOL_SCRIPT_EXTENSIONS.contains(&self.extension())
            || SAMPLE_MAGICS.iter().any(|m| self.data.starts_with(m))
    }
}

/// Runs every non-rule file check on one file.
pub fn check_file(
    subject: &FileSubject,
    indicators: &IndicatorSet,
    exchange_root: Option<&str>,
) -> Vec<Hit> {
    let mut out = Vec::new();
    indicator_checks(subject, indicators, exchange_root, &mut out);
    allow_list_checks(subject, &mut out);
    dump_checks(subject, &mut out);
    export_shell_check(subject, &mut out);
    archive_check(subject, &mut out);
    out
}

fn indicator_checks(
    subject: &FileSubject,
    indicators: &IndicatorSet,
    exchange_root: Option<&str>,
    out: &mut Vec<Hit>,
) {
    if subject.complete && indicators.hashes_apply_to(subject.is_sample_like()) {
        let mut candidates = Vec::with_capacity(3);
        if indicators.wants_sha256() {
            candidates.push(subject.hashes.sha256(subject.data).to_string());
        }
        if indicators.wants_sha1() {
            candidates.push(subject.hashes.sha1(subject.data).to_string());
        }
        if indicators.wants_md5() {
            candidates.push(subject.hashes.md5(subject.data).to_string());
        }
        for hash in candidates {
            if let Some(hit) = indicators.hash_hit(&hash) {
                out.push(HASH_INDICATOR.hit(format!(
                    "The file's {} is listed by {} ({}).",
                    hit.what, hit.provenance.source, hit.provenance.comment
                )));
            }
        }
    }
    for hit in indicators.path_hits(subject.windows_path, exchange_root, subject.zone.is_web()) {
        let mut f = PATH_INDICATOR.hit(format!(
            "The file's {} is listed by {}{}.",
            hit.what,
            hit.provenance.source,
            if hit.provenance.comment.is_empty() {
                String::new()
            } else {
                format!(" ({})", hit.provenance.comment)
            }
        ));
        if let Some(score) = hit.score {
            f.severity = Severity::from_score(score);
            f.score = Some((
                score.clamp(0, 100) as u8,
                Cow::Borrowed("the indicator feed's score"),
            ));
        }
        out.push(f);
    }
}

fn allow_list_checks(subject: &FileSubject, out: &mut Vec<Hit>) {
    let name = subject.name().to_lowercase();
    let (allowed, folder): (&[&str], &str) = match subject.zone {
        Zone::FrontEndOwaAuth => (&OWA_AUTH_PAGES, r"owa\auth"),
        Zone::FrontEndEcpAuth => (&ECP_AUTH_PAGES, r"ecp\auth"),
        Zone::FrontEndOwaAuthStatic | Zone::AspnetClient => {
            if subject.is_server_executed() {
                out.push(SCRIPT_IN_STATIC_FOLDER.hit(format!(
                    "{} is a server-side page in a folder that holds only static files on a clean server.",
                    subject.name()
                )));
            }
            return;
        }
        _ => return,
    };
    if allowed.contains(&name.as_str()) {
        return;
    }
    let detail = format!(
        "{} is not one of the files a clean Exchange front end has in {folder} ({}).",
        subject.name(),
        allowed.join(", ")
    );
    let f = if subject.is_server_executed() {
        UNEXPECTED_AUTH_FILE.hit(detail)
    } else {
        UNEXPECTED_AUTH_FILE.hit_at(
            Severity::Medium,
            detail + " It is not a page IIS would run, so it is less likely a shell.",
        )
    };
    out.push(f);
}

fn dump_checks(subject: &FileSubject, out: &mut Vec<Hit>) {
    let name = subject.name().to_lowercase();
    let is_minidump = subject.data.starts_with(b"MDMP");
    // Wider than Test-ProxyLogon's `lsass.*dmp` (which needs the dot, and looks only in
    // C:\root and Windows\Temp): every name it matches is matched here, anywhere.
    if name.starts_with("lsass") && name.ends_with("dmp") {
        let folder = subject.windows_path.to_lowercase();
        let tpl = name.starts_with("lsass.")
            && [r"c:\root\", r"c:\windows\temp\"]
                .iter()
                .any(|dir| folder.starts_with(dir));
        out.push(LSASS_DUMP.hit(format!(
            "{}{} is named like an LSASS dump{}.",
            if tpl {
                "Test-ProxyLogon reports this file (lsass.*dmp): "
            } else {
                ""
            },
            subject.name(),
            if is_minidump {
                " and has the minidump signature (MDMP)"
            } else {
                ""
            }
        )));
        return;
    }
    if !is_minidump {
        return;
    }
    let ext = subject.extension();
    let disguised = !matches!(ext, "dmp" | "mdmp" | "hdmp");
    let key = winpath::key(subject.windows_path);
    let error_reporting = key.contains(r"\microsoft\windows\wer\") || key.contains(r"\crashdumps\");
    let staging =
        matches!(subject.zone, Zone::Staging | Zone::ProgramData) || subject.zone.is_web();
    if disguised || (staging && !error_reporting) {
        out.push(MEMORY_DUMP_IN_STAGING.hit(format!(
            "{} is a Windows minidump (MDMP){}.",
            subject.name(),
            if disguised {
                " under a name that hides it"
            } else {
                " outside Windows Error Reporting's folders"
            }
        )));
    }
}

fn export_shell_check(subject: &FileSubject, out: &mut Vec<Hit>) {
    let ext = subject.extension();
    if !WEB_SCRIPT_EXTENSIONS.contains(&ext) {
        return;
    }
    let what = if subject.data.starts_with(b"!BDN") {
        "an Outlook PST file (magic !BDN), as written by New-MailboxExportRequest"
    } else if subject.data.starts_with(&[0x30, 0x82]) {
        "a DER-encoded blob (starts 30 82), as written by a certificate export"
    } else {
        return;
    };
    out.push(MAILBOX_EXPORT_SHELL.hit(format!(
        "{} has a .{ext} name but is {what}: ProxyShell's way of planting a web shell.",
        subject.name()
    )));
}

fn archive_check(subject: &FileSubject, out: &mut Vec<Hit>) {
    if subject.zone != Zone::ProgramData {
        return;
    }
    let ext = subject.extension();
    let magic = SAMPLE_MAGICS[1..]
        .iter()
        .any(|m| subject.data.starts_with(m));
    if ARCHIVE_EXTENSIONS.contains(&ext) || (magic && !subject.is_web_script()) {
        out.push(STAGING_ARCHIVE.hit(format!(
            "{} is an archive in ProgramData, where stolen data was staged for exfiltration.",
            subject.name()
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject<'a>(path: &'a str, zone: Zone, data: &'a [u8]) -> FileSubject<'a> {
        FileSubject::new(path, zone, data, true)
    }

    fn ids(hits: &[Hit]) -> Vec<&'static str> {
        hits.iter().map(super::super::builtin_id).collect()
    }

    #[test]
    fn clean_owa_auth_pages_pass_and_extras_do_not() {
        let set = IndicatorSet::default();
        let ok = subject(
            r"C:\x\owa\auth\LOGON.ASPX",
            Zone::FrontEndOwaAuth,
            b"<%@ Page %>",
        );
        assert!(check_file(&ok, &set, None).is_empty());
        let extra = subject(
            r"C:\x\owa\auth\new.aspx",
            Zone::FrontEndOwaAuth,
            b"<%@ Page %>",
        );
        let f = check_file(&extra, &set, None);
        assert_eq!(ids(&f), vec!["EXS-FILE-003"]);
        assert_eq!(f[0].severity, Severity::High);
        let txt = subject(r"C:\x\owa\auth\notes.txt", Zone::FrontEndOwaAuth, b"hello");
        assert_eq!(check_file(&txt, &set, None)[0].severity, Severity::Medium);
    }

    #[test]
    fn scripts_in_static_folders_by_extension_or_content() {
        let set = IndicatorSet::default();
        let css = subject(
            r"C:\x\owa\auth\Current\themes\a.css",
            Zone::FrontEndOwaAuthStatic,
            b"body{}",
        );
        assert!(check_file(&css, &set, None).is_empty());
        let page = subject(
            r"C:\x\owa\auth\Current\a.AsHx",
            Zone::FrontEndOwaAuthStatic,
            b"x",
        );
        assert_eq!(ids(&check_file(&page, &set, None)), vec!["EXS-FILE-004"]);
        let sniffed = subject(
            r"C:\i\aspnet_client\google.log",
            Zone::AspnetClient,
            b"\xEF\xBB\xBF <%@ Page Language=\"C#\"%>",
        );
        assert_eq!(ids(&check_file(&sniffed, &set, None)), vec!["EXS-FILE-004"]);
    }

    #[test]
    fn dumps_by_name_and_magic() {
        let set = IndicatorSet::default();
        let lsass = subject(r"C:\root\lsass.dmp", Zone::Staging, b"MDMP\x93\xa7");
        assert_eq!(ids(&check_file(&lsass, &set, None)), vec!["EXS-FILE-005"]);
        let wer = subject(
            r"C:\ProgramData\Microsoft\Windows\WER\ReportQueue\x\a.dmp",
            Zone::ProgramData,
            b"MDMP",
        );
        assert!(check_file(&wer, &set, None).is_empty());
        let hidden = subject(r"C:\Windows\Temp\report.txt", Zone::Staging, b"MDMP");
        assert_eq!(ids(&check_file(&hidden, &set, None)), vec!["EXS-FILE-006"]);
        let app_dump = subject(r"D:\apps\crash.dmp", Zone::Other, b"MDMP");
        assert!(check_file(&app_dump, &set, None).is_empty());
    }

    #[test]
    fn pst_and_der_named_as_pages() {
        let set = IndicatorSet::default();
        let pst = subject(r"C:\i\aspnet_client\x.aspx", Zone::Other, b"!BDN\x00\x00");
        assert_eq!(ids(&check_file(&pst, &set, None)), vec!["EXS-FILE-007"]);
        let der = subject(r"C:\Other\y.ASHX", Zone::Other, &[0x30, 0x82, 0x01]);
        assert_eq!(ids(&check_file(&der, &set, None)), vec!["EXS-FILE-007"]);
        let real_pst = subject(r"C:\Users\a\mail.pst", Zone::Other, b"!BDN");
        assert!(check_file(&real_pst, &set, None).is_empty());
    }

    #[test]
    fn archives_only_in_programdata_and_low() {
        let set = IndicatorSet::default();
        let zip = subject(
            r"C:\ProgramData\VMware\logs.zip",
            Zone::ProgramData,
            b"PK\x03\x04",
        );
        let f = check_file(&zip, &set, None);
        assert_eq!(ids(&f), vec!["EXS-FILE-008"]);
        assert_eq!(f[0].severity, Severity::Low);
        let renamed = subject(
            r"C:\ProgramData\x.dat",
            Zone::ProgramData,
            b"7z\xBC\xAF\x27\x1C",
        );
        assert_eq!(ids(&check_file(&renamed, &set, None)), vec!["EXS-FILE-008"]);
        let elsewhere = subject(r"C:\Users\a\x.zip", Zone::Other, b"PK\x03\x04");
        assert!(check_file(&elsewhere, &set, None).is_empty());
    }

    #[test]
    fn hash_indicator_on_complete_files_only() {
        let set = IndicatorSet::builtin();
        let mut s = subject(r"C:\a\b.txt", Zone::Other, b"");
        // sha256 of the empty input is not an indicator.
        assert!(check_file(&s, &set, None).is_empty());
        s.complete = false;
        assert!(check_file(&s, &set, None).is_empty());
    }
}
