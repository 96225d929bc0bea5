//! The HTML report against hostile evidence: file names, file content and log lines
//! that carry markup and script are scanned, the report is written with `--html`,
//! and the page must hold them only as text: no element from the evidence, one
//! script (exsweep's own, allowed by its hash in the Content-Security-Policy). In
//! headless Chromium (Debian's `chromium`, which `.ci/run` installs) the injected
//! script must not run while exsweep's does, and the demo's report is screenshotted.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What an injected script would do if it ran: retitle the page.
const PAYLOAD: &str = "<script>document.title='PWNED'</script>";
const IMG: &str = "<img src=x onerror=document.title='PWNED'>";

fn put(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// A server whose shell's name, content and request carry markup.
fn hostile_server(root: &Path) {
    let mut shell = exsweep_testkit::samples::china_chopper();
    shell.extend_from_slice(PAYLOAD.as_bytes());
    put(
        root,
        &format!("inetpub/wwwroot/aspnet_client/{IMG}.aspx"),
        &shell,
    );
    put(
        root,
        "inetpub/wwwroot/aspnet_client/discover.aspx",
        &exsweep_testkit::samples::china_chopper(),
    );
    put(
        root,
        "inetpub/logs/LogFiles/W3SVC1/u_ex210303.log",
        format!(
            "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2021-03-03 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n2021-03-03 10:00:00 10.0.0.5 POST /aspnet_client/discover.aspx q={PAYLOAD} 443 - 203.0.113.9 {IMG} - 200 0 0 15\n"
        )
        .as_bytes(),
    );
}

fn html_report(evidence: &Path, out: &Path) -> String {
    let run = Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(["scan", "-q", "--format", "jsonl", "-o"])
        .arg(out.with_extension("jsonl"))
        .arg("--html")
        .arg(out)
        .arg(evidence)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        fs::metadata(out.with_extension("jsonl")).unwrap().len() > 0,
        "both outputs in one run"
    );
    fs::read_to_string(out).unwrap()
}

#[test]
fn hostile_names_content_and_log_lines_are_text_and_the_policy_allows_only_our_script() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    hostile_server(&evidence);
    let out = dir.path().join("report.html");
    let html = html_report(&evidence, &out);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for raw in [PAYLOAD, IMG, "<img"] {
        assert!(!html.contains(raw), "{raw} reached the page as markup");
    }
    // No tag carries an event handler: every `on...=` is in text.
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        let handler = tag
            .split_whitespace()
            .skip(1)
            .any(|a| a.to_ascii_lowercase().starts_with("on") && a.contains('='));
        assert!(!handler, "a tag with a handler: <{tag}>");
    }
    // The findings travel as JSON whose markup characters are escapes.
    assert!(html.contains("\\u003cimg src=x onerror=document.title='PWNED'\\u003e.aspx"));
    assert!(html.contains("\\u003cscript\\u003edocument.title='PWNED'\\u003c/script\\u003e"));
    assert_eq!(
        html.matches("<script").count(),
        2,
        "exsweep's script and its data"
    );
    assert_eq!(html.matches("<script>").count(), 1, "one executable script");
    assert_eq!(
        html.matches("<script id=\"findings-data\" type=\"application/json\">")
            .count(),
        1
    );
    for remote in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(remote), "a remote load: {remote}");
    }
    // The policy: the inline script and style by hash, nothing else.
    let script = html
        .split("<script>")
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
    let csp = html
        .split("http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("http"),
        "{csp}"
    );
    // The page's sections.
    for id in ["incidents", "findings", "exposure", "coverage", "checklist"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    if let Some(chromium) = chromium() {
        let dom = headless(&chromium, &out, &["--dump-dom"], dir.path());
        assert!(!dom.contains("PWNED</title>"), "an injected script ran");
        assert!(
            dom.contains(" in all ("),
            "exsweep's own script ran under the policy"
        );
        // The script put the hostile name in the table as text, not as an element.
        assert!(dom.contains("&lt;img src=x onerror=document.title='PWNED'&gt;.aspx"));
        assert!(!dom.contains("<img"), "an element from the evidence");
    }
}

#[test]
fn the_demo_report_renders_in_chromium_and_is_screenshotted() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    exsweep_testkit::build(&evidence).unwrap();
    let out = dir.path().join("demo.html");
    let html = html_report(&evidence, &out);
    assert!(html.contains("INC-"), "the incidents are in the page");
    let Some(chromium) = chromium() else { return };
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-report.png");
    let _ = fs::remove_file(&shot);
    headless(
        &chromium,
        &out,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,2200",
        ],
        dir.path(),
    );
    let png = fs::read(&shot).expect("Chromium wrote the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    eprintln!("demo report screenshot: {}", shot.display());
}

#[test]
fn the_overview_of_hostile_hosts_holds_their_names_and_evidence_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    hostile_server(&evidence);
    let mut saved = Vec::new();
    for (i, host) in [PAYLOAD, IMG].iter().enumerate() {
        let out = dir.path().join(format!("{i}.jsonl"));
        let run = Command::new(env!("CARGO_BIN_EXE_exsweep"))
            .args(["scan", "-q", "--host", host, "--format", "jsonl", "-o"])
            .arg(&out)
            .arg(&evidence)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1), "{run:?}");
        saved.push(out);
    }
    let page = dir.path().join("overview.html");
    let run = Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(["report", "-q", "--html"])
        .arg(&page)
        .args(&saved)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let console = String::from_utf8_lossy(&run.stdout);
    assert!(console.contains("203.0.113.9  2 hosts"), "{console}");
    let html = fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "markup from the evidence"
    );
    assert!(html.contains("&lt;img src=x onerror=document.title='PWNED'&gt;"));
    assert!(html.contains("script-src 'none'"));
    if let Some(chromium) = chromium() {
        let dom = headless(&chromium, &page, &["--dump-dom"], dir.path());
        assert!(!dom.contains("PWNED</title>"), "an injected script ran");
        assert!(
            dom.contains("Hosts, most serious first"),
            "the page rendered"
        );
        assert!(!dom.contains("<img"), "an element from the evidence");
    }
}

/// Debian's Chromium, if installed. Without it the browser half of these tests is
/// skipped, loudly; `.ci/run` installs it and sets `EXSWEEP_REQUIRE_CHROMIUM`, so CI
/// never skips.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("EXSWEEP_REQUIRE_CHROMIUM").is_none(),
            "EXSWEEP_REQUIRE_CHROMIUM is set but Chromium is not installed"
        );
        eprintln!("SKIPPED the browser checks: install Debian's chromium to run them");
    }
    found
}

fn headless(chromium: &Path, page: &Path, args: &[&str], scratch: &Path) -> String {
    let profile = scratch.join("chromium-profile");
    let run = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    String::from_utf8_lossy(&run.stdout).into_owned()
}
