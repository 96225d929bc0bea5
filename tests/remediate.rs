//! Remediation end to end, through the binary: quarantine from a scan's findings and
//! from a plan carried to another root, restore, the kill test (SIGKILL at random
//! moments, the invariant checked after each), and every refusal the issue lists.

use exsweep_testkit as demo;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

fn exsweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The arguments of `quarantine --plan PLAN --target ROOT --vault VAULT --apply`.
fn plan_args<'a>(plan: &'a Path, root: &'a Path, vault: &'a Path) -> Vec<&'a str> {
    let args = [
        "quarantine",
        "--plan",
        s(plan),
        "--target",
        s(root),
        "--vault",
        s(vault),
        "--apply",
    ];
    args.to_vec()
}

/// `quarantine --plan PLAN --target ROOT --vault VAULT --apply`, and `extra`.
fn apply_plan(plan: &Path, root: &Path, vault: &Path, extra: &[&str]) -> Output {
    let mut args = plan_args(plan, root, vault);
    args.extend_from_slice(extra);
    exsweep(&args)
}

/// `quarantine --findings JSONL --vault VAULT`, with `--apply` when `apply`.
fn quarantine_findings(jsonl: &Path, vault: &Path, apply: bool) -> Output {
    let mut args = vec!["quarantine", "--findings", s(jsonl), "--vault", s(vault)];
    if apply {
        args.push("--apply");
    }
    exsweep(&args)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Content and modification time of every file below `root` (the vault excluded).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap().flatten() {
            let meta = fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, (fs::read(e.path()).unwrap(), meta.modified().unwrap()));
            }
        }
    }
    out
}

/// Scans `server` into `jsonl`.
fn scan_to_jsonl(server: &Path, jsonl: &Path) -> Output {
    exsweep(&["scan", s(server), "--format", "jsonl", "-o", s(jsonl), "-q"])
}

/// The demo server and the JSONL of its scan.
fn scanned_demo(dir: &Path) -> (PathBuf, PathBuf) {
    let server = dir.join("EXCH01");
    demo::build(&server).unwrap();
    let jsonl = dir.join("scan.jsonl");
    let out = scan_to_jsonl(&server, &jsonl);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    (server, jsonl)
}

/// A vault item's content, read with the customary password by the zip crate (not
/// by the code under test).
fn vault_content(vault: &Path, id: &str) -> Option<Vec<u8>> {
    let file = fs::File::open(vault.join("items").join(format!("{id}.zip"))).ok()?;
    let mut zip = zip::ZipArchive::new(file).ok()?;
    let mut member = zip.by_index_decrypt(0, b"infected").ok()?;
    let mut bytes = Vec::new();
    member.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

fn manifest(vault: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(vault.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn quarantine_from_findings_then_restore_gives_back_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (server, jsonl) = scanned_demo(dir.path());
    let vault = dir.path().join("vault");
    let before = snapshot(&server);

    // Without --apply nothing changes, and the plan says what would move.
    let dry = quarantine_findings(&jsonl, &vault, false);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    let shown = text(&dry);
    assert!(shown.contains(r"aspnet_client\discover.aspx"), "{shown}");
    assert!(
        shown.contains("EXS-TODO-005"),
        "the LSASS dump calls for credential resets: {shown}"
    );
    assert!(shown.contains("Nothing was changed"), "{shown}");
    assert_eq!(snapshot(&server), before);
    assert!(!vault.exists());

    let run = quarantine_findings(&jsonl, &vault, true);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let shell = server.join("inetpub/wwwroot/aspnet_client/discover.aspx");
    assert!(!shell.exists());
    let after = snapshot(&server);
    let logs_kept = before
        .keys()
        .filter(|p| p.to_string_lossy().to_lowercase().ends_with(".log"))
        .all(|p| after.contains_key(p));
    assert!(logs_kept, "logs are evidence and never move");

    // The manifest names every moved file with its digests and the finding behind it;
    // each vault copy opens with `infected` and has the recorded SHA-256.
    let m = manifest(&vault);
    let items = m["items"].as_array().unwrap();
    assert_eq!(items.len(), before.len() - after.len());
    for item in items {
        assert_eq!(item["state"], "quarantined");
        let content = vault_content(&vault, item["id"].as_str().unwrap()).unwrap();
        assert_eq!(sha256(&content), item["sha256"].as_str().unwrap());
        assert!(!item["reasons"].as_array().unwrap().is_empty());
        assert!(item["modified"].as_str().unwrap().contains('T'));
    }
    assert!(m["checksum"].as_str().unwrap().starts_with("sha256:"));

    let back = exsweep(&["restore", s(&vault), "--all"]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back));
    assert_eq!(
        snapshot(&server),
        before,
        "byte-identical, with the same modification times"
    );
}

/// Files of a plan written by the test: `count` pages below `aspnet_client`.
fn plan_tree(root: &Path, count: usize) -> (PathBuf, Vec<(PathBuf, String)>) {
    fs::create_dir_all(root.join("Windows/System32/config")).unwrap();
    let mut entries = Vec::new();
    let mut files = Vec::new();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_614_739_800);
    for i in 0..count {
        let rel = format!("inetpub/wwwroot/aspnet_client/d{}/p{i}.aspx", i % 7);
        let path = root.join(&rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let content = format!(
            "<%@ Page Language=\"C#\" %> page {i} {}",
            "x".repeat(i * 37 % 5000)
        );
        fs::write(&path, &content).unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(t0 + Duration::from_nanos(i as u64 * 1_000_000_007))
            .unwrap();
        let windows = format!(r"C:\{}", rel.replace('/', "\\"));
        let sha = sha256(content.as_bytes());
        entries.push(serde_json::json!({
            "windows_path": windows, "size": content.len(), "sha256": sha,
            "reasons": [{"finding_id": format!("f{i}"), "check_id": "EXS-FILE-009",
                         "severity": "critical", "title": "YARA rule match"}],
        }));
        files.push((path, sha));
    }
    let plan = serde_json::json!({
        "format": "exsweep-plan/1", "created": "2026-12-02T00:00:00Z", "host": "EXCH01",
        "evidence_root": s(root), "layout": "mounted disk image or system drive",
        "entries": entries,
    });
    let plan_path = root.parent().unwrap().join("plan.json");
    fs::write(&plan_path, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
    (plan_path, files)
}

fn item_id(windows_path: &str, sha: &str) -> String {
    let key = format!("{}\u{1f}{sha}", windows_path.to_lowercase());
    sha256(key.as_bytes())[..16].to_string()
}

#[cfg(unix)]
#[test]
fn killed_at_random_moments_every_file_is_in_place_or_verified_in_the_vault() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    let (plan, files) = plan_tree(&root, 500);
    let vault = dir.path().join("vault");
    let before = snapshot(&root);
    let windows_of = |p: &Path| {
        format!(
            r"C:\{}",
            p.strip_prefix(&root)
                .unwrap()
                .to_str()
                .unwrap()
                .replace('/', "\\")
        )
    };
    let mut args = plan_args(&plan, &root, &vault);
    args.extend(["--format", "jsonl"]);
    let restore_all = ["restore", s(&vault), "--all", "--format", "jsonl"];
    // A fixed-seed generator: the same kill moments on every run of the test.
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = |bound: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % bound
    };
    let mut kills = 0;
    let mut finished_early = 0;
    let mut restores = 0;
    for round in 0..200 {
        // Quarantine and restore in turns (every fourth run a restore), so that kills
        // land in both and the work never runs out.
        let restoring = round % 4 == 3;
        restores += usize::from(restoring);
        let run: &[&str] = if restoring { &restore_all } else { &args };
        let mut child = Command::new(env!("CARGO_BIN_EXE_exsweep"))
            .args(run)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(2_000 + next(60_000)));
        match child.try_wait().unwrap() {
            Some(_) => finished_early += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                kills += 1;
            }
        }
        child.wait().unwrap();
        for (path, sha) in &files {
            let in_place = fs::read(path).is_ok_and(|b| sha256(&b) == *sha);
            let in_vault = vault_content(&vault, &item_id(&windows_of(path), sha))
                .is_some_and(|b| sha256(&b) == *sha);
            assert!(
                in_place || in_vault,
                "after kill {kills}: {} is neither in place nor verified in the vault",
                path.display()
            );
        }
    }
    let moved = files.iter().filter(|(p, _)| !p.exists()).count();
    eprintln!("{kills} kills ({restores} runs were restores), {finished_early} runs finished first, {moved} of 500 in the vault before the last run");
    assert!(
        kills >= 150,
        "only {kills} runs were killed ({finished_early} finished first)"
    );
    let last = exsweep(&args);
    assert_eq!(last.status.code(), Some(0), "{}", text(&last));
    for (path, _) in &files {
        assert!(!path.exists(), "{} was not quarantined", path.display());
    }
    let m = manifest(&vault);
    let quarantined = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["state"] == "quarantined")
        .count();
    assert_eq!(quarantined, 500);
    let back = exsweep(&["restore", s(&vault), "--all"]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back));
    assert_eq!(
        snapshot(&root),
        before,
        "a byte-identical tree, times included"
    );
}

#[test]
fn a_plan_from_a_collection_moves_only_files_that_still_match_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = scanned_demo(dir.path());
    // The collection the lab scanned: KAPE's layout, a copy of the server's C: drive.
    let kape = dir.path().join("kape");
    fs::create_dir_all(&kape).unwrap();
    let copied = Command::new("cp")
        .args(["-a", s(&server), s(&kape.join("C"))])
        .status()
        .unwrap();
    assert!(copied.success());
    let plan = dir.path().join("plan.json");
    let out = exsweep(&[
        "scan",
        s(&kape),
        "--plan",
        s(&plan),
        "-q",
        "--format",
        "jsonl",
        "-o",
        s(&dir.path().join("k.jsonl")),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let vault = dir.path().join("vault");

    // Quarantining inside the collection is refused, with the way to do it instead.
    let refused = apply_plan(&plan, &kape, &vault, &[]);
    assert_eq!(refused.status.code(), Some(2));
    let why = text(&refused);
    assert!(
        why.contains("KAPE collection") && why.contains("--plan plan.json"),
        "{why}"
    );

    // On the server one shell changed after the collection was taken.
    let changed = server.join("inetpub/wwwroot/aspnet_client/discover.aspx");
    fs::write(&changed, b"<%@ Page %> edited since").unwrap();
    let run = apply_plan(&plan, &server, &vault, &[]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "one file was left: {}",
        text(&run)
    );
    let said = text(&run);
    assert!(said.contains("changed since the plan"), "{said}");
    assert_eq!(fs::read(&changed).unwrap(), b"<%@ Page %> edited since");
    assert!(
        !server.join("root/lsass.dmp").exists(),
        "the unchanged files moved"
    );
    assert_eq!(
        snapshot(&kape).len(),
        snapshot(&kape.join("C")).len(),
        "the collection is untouched"
    );
}

#[cfg(unix)]
#[test]
fn a_full_vault_disk_stops_the_run_and_loses_nothing() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    let (plan, files) = plan_tree(&root, 3);
    let big = &files[1].0;
    let content: Vec<u8> = (0..400_000u32)
        .flat_map(|i| (i.wrapping_mul(2654435761)).to_le_bytes())
        .collect();
    fs::write(big, &content).unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(&plan).unwrap()).unwrap();
    value["entries"][1]["sha256"] = sha256(&content).into();
    fs::write(&plan, serde_json::to_vec(&value).unwrap()).unwrap();
    let before = snapshot(&root);
    let vault = dir.path().join("vault");
    // A file-size limit on the process: writes past 256 KiB fail with EFBIG, as a
    // full disk fails them with ENOSPC.
    let mut command = Command::new(env!("CARGO_BIN_EXE_exsweep"));
    command.args(plan_args(&plan, &root, &vault));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256 << 10,
                rlim_max: 256 << 10,
            };
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("size limit") && said.contains("nothing was lost"),
        "{said}"
    );
    let after = snapshot(&root);
    assert!(
        after.contains_key(big.strip_prefix(&root).unwrap()),
        "the big file is in place"
    );
    assert_eq!(
        after.len() + 1,
        before.len(),
        "the first file moved, the third was not reached"
    );
    let leftovers: Vec<_> = fs::read_dir(vault.join("items"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".exsweep-part"))
        .collect();
    assert!(leftovers.is_empty(), "no partial copy is left in the vault");
    // Without the limit the same command finishes the job.
    let again = apply_plan(&plan, &root, &vault, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(files.iter().all(|(p, _)| !p.exists()));
}

#[test]
fn damaged_manifests_and_journals_are_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    let (plan, files) = plan_tree(&root, 4);
    let vault = dir.path().join("vault");
    let run = apply_plan(&plan, &root, &vault, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let manifest_path = vault.join("manifest.json");
    let good = fs::read(&manifest_path).unwrap();

    fs::write(&manifest_path, &good[..good.len() / 2]).unwrap();
    let out = exsweep(&["restore", s(&vault), "--all"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("not a complete manifest"),
        "{}",
        text(&out)
    );
    let edited = String::from_utf8(good.clone())
        .unwrap()
        .replacen("p0.aspx", "p9.aspx", 1);
    fs::write(&manifest_path, edited).unwrap();
    let out = exsweep(&["restore", s(&vault), "--all"]);
    assert!(text(&out).contains("fails its checksum"), "{}", text(&out));
    assert!(
        files.iter().all(|(p, _)| !p.exists()),
        "nothing was restored"
    );
    fs::write(&manifest_path, &good).unwrap();

    let journal = vault.join("journal.log");
    let lines = fs::read_to_string(&journal).unwrap();
    let damaged = lines.replacen("\"stored\"", "\"st0red\"", 1);
    fs::write(&journal, &damaged).unwrap();
    let out = exsweep(&["restore", s(&vault), "--all"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("journal") && text(&out).contains("damaged or edited"),
        "{}",
        text(&out)
    );
    fs::write(&journal, &lines).unwrap();

    let out = exsweep(&["restore", s(&vault), "--all"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(files.iter().all(|(p, _)| p.exists()));
}

#[test]
fn unsafe_places_and_second_runs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    let (plan, files) = plan_tree(&root, 2);
    let before = snapshot(&root);
    let in_web = root.join("inetpub/wwwroot/vault");
    let out = apply_plan(&plan, &root, &in_web, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("in a folder the web server serves"),
        "{}",
        text(&out)
    );
    assert!(!in_web.exists());

    let vault = dir.path().join("vault");
    fs::create_dir_all(&vault).unwrap();
    let lock = fs::File::create(vault.join(".lock")).unwrap();
    lock.lock().unwrap();
    let out = apply_plan(&plan, &root, &vault, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("another exsweep run"), "{}", text(&out));
    drop(lock);
    assert_eq!(snapshot(&root), before);

    // A plan entry that leads out of the evidence, or through a link, is left alone.
    let outside = dir.path().join("outside.aspx");
    fs::write(&outside, b"not the server's").unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(&plan).unwrap()).unwrap();
    let entries = value["entries"].as_array_mut().unwrap();
    let mut escape = entries[0].clone();
    escape["windows_path"] = r"C:\inetpub\..\..\outside.aspx".into();
    entries.push(escape);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            &outside,
            root.join("inetpub/wwwroot/aspnet_client/link.aspx"),
        )
        .unwrap();
        let mut link = entries[0].clone();
        link["windows_path"] = r"C:\inetpub\wwwroot\aspnet_client\link.aspx".into();
        link["sha256"] = sha256(b"not the server's").into();
        entries.push(link);
    }
    fs::write(&plan, serde_json::to_vec(&value).unwrap()).unwrap();
    let out = apply_plan(&plan, &root, &vault, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("climbs out"), "{said}");
    if cfg!(unix) {
        assert!(said.contains("symbolic link"), "{said}");
    }
    assert_eq!(fs::read(&outside).unwrap(), b"not the server's");
    assert!(
        files.iter().all(|(p, _)| !p.exists()),
        "the plan's own files moved"
    );
}

#[test]
fn a_modified_exchange_file_is_replaced_by_its_known_good_copy_and_restorable() {
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("server");
    let auth = "Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth";
    let page = server.join(auth).join("errorFE.aspx");
    let original: &[u8] = b"<%@ Page Language=\"C#\" %><html>the shipped errorFE</html>";
    fs::create_dir_all(page.parent().unwrap()).unwrap();
    fs::create_dir_all(server.join(auth).join("15.2.1544.4/themes")).unwrap();
    fs::create_dir_all(server.join("Windows/System32/config")).unwrap();
    fs::write(&page, original).unwrap();
    let baseline = dir.path().join("baseline.csv");
    let created = exsweep(&["baseline", "create", "-o", s(&baseline), s(&server)]);
    assert!(created.status.success(), "{}", text(&created));
    // The attacker trojanises the shipped page; installation media hold the original.
    let trojaned = [original, demo::samples::china_chopper().as_slice()].concat();
    fs::write(&page, &trojaned).unwrap();
    let media = dir.path().join("media/FrontEnd/HttpProxy/owa/auth");
    fs::create_dir_all(&media).unwrap();
    fs::write(media.join("errorFE.aspx"), original).unwrap();
    let jsonl = dir.path().join("scan.jsonl");
    let scan = [
        "scan",
        s(&server),
        "--baseline",
        s(&baseline),
        "--format",
        "jsonl",
        "-o",
        s(&jsonl),
        "-q",
    ];
    assert_eq!(exsweep(&scan).status.code(), Some(1));
    let vault = dir.path().join("vault");

    // Without a known-good copy the plan says where to get one.
    let dry = quarantine_findings(&jsonl, &vault, false);
    assert!(text(&dry).contains("EXS-FILE-012"), "{}", text(&dry));
    assert!(text(&dry).contains(&sha256(original)), "{}", text(&dry));
    assert!(text(&dry).contains("installation media"), "{}", text(&dry));
    let run = exsweep(&[
        "quarantine",
        "--findings",
        s(&jsonl),
        "--vault",
        s(&vault),
        "--apply",
        "--known-good",
        s(&dir.path().join("media")),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(text(&run).contains("known-good copy"), "{}", text(&run));
    assert_eq!(
        fs::read(&page).unwrap(),
        original,
        "the shipped file is back in place"
    );
    let item = &manifest(&vault)["items"][0];
    assert_eq!(item["state"], "replaced");
    let id = item["id"].as_str().unwrap().to_string();
    assert_eq!(vault_content(&vault, &id).unwrap(), trojaned);

    // Restoring puts the modified file back over the known-good copy it stood for.
    let back = exsweep(&["restore", s(&vault), "--id", &id]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back));
    assert_eq!(fs::read(&page).unwrap(), trojaned);
}

#[test]
fn restore_does_not_overwrite_a_different_file_unless_forced_and_then_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    let (plan, files) = plan_tree(&root, 1);
    let (page, _) = &files[0];
    let original = fs::read(page).unwrap();
    let vault = dir.path().join("vault");
    let run = apply_plan(&plan, &root, &vault, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    fs::write(page, b"a page the admin put back by hand").unwrap();
    let out = exsweep(&["restore", s(&vault), "--all"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(
        fs::read(page).unwrap(),
        b"a page the admin put back by hand"
    );
    let out = exsweep(&["restore", s(&vault), "--all", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(fs::read(page).unwrap(), original);
    let kept = manifest(&vault)["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["state"] == "quarantined" && i["size"] == 33);
    assert!(kept, "the file that stood in the way is in the vault");
}

#[test]
fn compiled_copies_of_a_quarantined_page_go_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("server");
    fs::create_dir_all(server.join("Windows/System32/config")).unwrap();
    let page = server.join("inetpub/wwwroot/aspnet_client/system_web/health.aspx");
    fs::create_dir_all(page.parent().unwrap()).unwrap();
    fs::write(&page, demo::samples::china_chopper()).unwrap();
    let temp = server.join("Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/root/3a5c0b1e/9f2d1c44");
    fs::create_dir_all(&temp).unwrap();
    fs::write(
        temp.join("health.aspx.cdcab7d2.compiled"),
        br#"<?xml version="1.0" encoding="utf-8"?><preserve resultType="3" virtualPath="/aspnet_client/system_web/health.aspx" hash="1" filehash="2" flags="110000" assembly="App_Web_health.aspx.cdcab7d2.ab12cd34" />"#,
    )
    .unwrap();
    fs::write(
        temp.join("App_Web_health.aspx.cdcab7d2.ab12cd34.dll"),
        b"MZ compiled page",
    )
    .unwrap();
    fs::write(temp.join("App_Web_other.dll"), b"MZ another app's page").unwrap();
    let jsonl = dir.path().join("scan.jsonl");
    let scanned = scan_to_jsonl(&server, &jsonl);
    assert_eq!(scanned.status.code(), Some(1), "{}", text(&scanned));
    let vault = dir.path().join("vault");
    let dry = quarantine_findings(&jsonl, &vault, false);
    let plan = text(&dry);
    assert!(
        plan.contains(
            "compiled copy of C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\health.aspx"
        ),
        "{plan}"
    );
    let run = quarantine_findings(&jsonl, &vault, true);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(!page.exists());
    assert!(!temp.join("health.aspx.cdcab7d2.compiled").exists());
    assert!(!temp
        .join("App_Web_health.aspx.cdcab7d2.ab12cd34.dll")
        .exists());
    assert!(
        temp.join("App_Web_other.dll").exists(),
        "other pages' assemblies stay"
    );
}

/// Runs exsweep with `ro` bind-mounted read-only over itself, in a mount namespace of
/// its own (`unshare -rm`: no mount outlives the command). `None` where this machine
/// offers no mount namespaces.
#[cfg(target_os = "linux")]
fn exsweep_with_read_only(ro: &Path, args: &[&str]) -> Option<Output> {
    let script = r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@""#;
    // The probe does what the test does, read-only mount included, so a machine
    // without namespaces or without `mount` skips rather than fails.
    let probe = Command::new("unshare")
        .args(["-rm", "sh", "-c", script, "sh", s(ro), "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!(
            "skipped: this machine cannot make a read-only bind mount in a namespace (unshare -rm)"
        );
        return None;
    }
    let mut command = Command::new("unshare");
    command
        .args([
            "-rm",
            "sh",
            "-c",
            script,
            "sh",
            s(ro),
            env!("CARGO_BIN_EXE_exsweep"),
        ])
        .args(args);
    Some(command.output().unwrap())
}

#[cfg(target_os = "linux")]
#[test]
fn read_only_servers_and_vaults_are_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    let (plan, _) = plan_tree(&root, 2);
    let before = snapshot(&root);
    let vault = dir.path().join("vaultdisk/vault");
    fs::create_dir_all(vault.parent().unwrap()).unwrap();
    let args = plan_args(&plan, &root, &vault);
    let Some(out) = exsweep_with_read_only(&root, &args) else {
        return;
    };
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("read-only file system"),
        "{}",
        text(&out)
    );
    let out = exsweep_with_read_only(vault.parent().unwrap(), &args).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("cannot create the vault") && text(&out).contains("read-only"),
        "{}",
        text(&out)
    );
    assert_eq!(snapshot(&root), before);
}

#[test]
fn a_scan_in_the_same_command_plans_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let (server, jsonl) = scanned_demo(dir.path());
    let vault = dir.path().join("vault");
    let from_file = text(&quarantine_findings(&jsonl, &vault, false));
    let out = exsweep(&["quarantine", "--scan", s(&server), "--vault", s(&vault)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let moves = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("  move "))
            .map(str::to_string)
            .collect()
    };
    assert!(moves(&text(&out)).len() >= 5, "{}", text(&out));
    assert_eq!(moves(&text(&out)), moves(&from_file));
}
