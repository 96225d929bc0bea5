//! Event-log checks: what attackers did through Exchange's management shell, the
//! web server spawning shells, credential dumping, Defender's detections, and
//! Test-ProxyLogon's Unified Messaging check.

use super::logs::UM_DESERIALIZATION;
use exsweep_logs::evtx::EventRecord;
use exsweep_logs::Channel;
use exsweep_model::{Check, Class, Hit, Reference, Severity};
use std::borrow::Cow;

pub static SUSPICIOUS_CMDLET: Check = Check {
    id: Cow::Borrowed("EXS-LOG-013"),
    title: Cow::Borrowed("Exchange cmdlet attackers use"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("execution"),
    references: Cow::Borrowed(&[
        Reference::attack("T1114.002"),
        Reference::attack("T1098"),
        Reference::attack("T1505.002"),
        Reference::cve("CVE-2021-34473"),
    ]),
    why: Cow::Borrowed("MSExchange Management records every cmdlet: mailbox exports (ProxyShell's shell writer and mail theft), \
          Mailbox Import Export role grants, scripts put into virtual-directory URLs, transport agents and \
          forwarding rules are how attackers act through Exchange itself."),
    action: Cow::Borrowed("Check who ran it (the record's user and the caller's process), whether it was planned, and undo it: \
             remove the export request, the role assignment, the agent or the forwarding."),
};

pub static WEB_SERVER_SPAWNED_SHELL: Check = Check {
    id: Cow::Borrowed("EXS-LOG-014"),
    title: Cow::Borrowed("IIS or Unified Messaging worker started a shell or acted on another process"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("execution"),
    references: Cow::Borrowed(&[Reference::attack("T1505.003"), Reference::attack("T1059"), Reference::cve("CVE-2021-26857")]),
    why: Cow::Borrowed("w3wp.exe and UMWorkerProcess.exe never start cmd.exe or PowerShell on a healthy Exchange server, start \
          little but the compiler, and never inject threads into other processes or connect to RDP and SMB inside the \
          network; a web shell or a deserialization exploit does."),
    action: Cow::Borrowed("Treat the server as compromised: find the web shell that w3wp ran (file sweep, IIS logs at that time) \
             and everything the command line did."),
};

pub static LSASS_DUMP_COMMAND: Check = Check {
    id: Cow::Borrowed("EXS-LOG-015"),
    title: Cow::Borrowed("LSASS memory dumped or read"),
    severity: Severity::Critical,
    class: Class::Compromise,
    category: Cow::Borrowed("credential-access"),
    references: Cow::Borrowed(&[Reference::attack("T1003.001")]),
    why: Cow::Borrowed("comsvcs.dll MiniDump (by name or ordinal), procdump, rdrleakdiag and Task Manager's dumps write the memory \
          of LSASS, with every logged-on credential, to a file; Sysmon records the dump file (11) and processes opening \
          LSASS with the right to read its memory (10)."),
    action: Cow::Borrowed("Reset the credentials of every account that logged on to the server; find and preserve the dump file."),
};

pub static DEFENDER_DETECTION: Check = Check {
    id: Cow::Borrowed("EXS-LOG-016"),
    title: Cow::Borrowed("Microsoft Defender detection"),
    severity: Severity::High,
    class: Class::Compromise,
    category: Cow::Borrowed("detection"),
    references: Cow::Borrowed(&[Reference::url("https://learn.microsoft.com/en-us/microsoft-365/security/defender-endpoint/troubleshoot-microsoft-defender-antivirus")]),
    why: Cow::Borrowed("Defender found malware (1116) or acted on it (1117); on an Exchange server that is often a web shell it caught, \
          which proves the server was reachable by the attacker."),
    action: Cow::Borrowed("Look up the threat and path; a remediated shell still means the server was exploited."),
};

pub static EVENT_LOG_CLEARED: Check = Check {
    id: Cow::Borrowed("EXS-LOG-017"),
    title: Cow::Borrowed("An event log was cleared"),
    severity: Severity::High,
    class: Class::Suspicious,
    category: Cow::Borrowed("defense-evasion"),
    references: Cow::Borrowed(&[Reference::attack("T1070.001")]),
    why: Cow::Borrowed("Security event 1102 and System event 104 record that someone cleared an event log; attackers do it to \
          erase their logons and process starts, and it leaves a gap no other log fills."),
    action: Cow::Borrowed("Note who cleared it and when, treat the cleared log's period as not assessed, and look for the same \
             activity in the logs that survive (IIS, HttpProxy, Sysmon, EDR)."),
};

/// The event checks, in ID order.
pub static EVENT_CHECKS: &[&Check] = &[
    &SUSPICIOUS_CMDLET,
    &WEB_SERVER_SPAWNED_SHELL,
    &LSASS_DUMP_COMMAND,
    &DEFENDER_DETECTION,
    &EVENT_LOG_CLEARED,
];

/// Defender's names for web shells, and the extensions of the scripts a web server runs.
const WEB_SHELL_THREATS: [&str; 3] = ["webshell", "chopper", "exmann"];
const WEB_SCRIPT_SUFFIXES: [&str; 5] = [".aspx", ".asp", ".ashx", ".asmx", ".jsp"];

const WORKERS: [&str; 3] = ["w3wp.exe", "umworkerprocess.exe", "umservice.exe"];
/// What the web worker starts on a healthy server: ASP.NET's compilers and helpers.
const EXPECTED_WORKER_CHILDREN: [&str; 5] = [
    "csc.exe",
    "cvtres.exe",
    "vbc.exe",
    "conhost.exe",
    "werfault.exe",
];
/// Processes that open LSASS with memory-read rights as part of their job.
const LSASS_READERS: [&str; 6] = [
    "msmpeng.exe",
    "mssense.exe",
    "csrss.exe",
    "wininit.exe",
    "services.exe",
    "lsm.exe",
];
/// PROCESS_VM_READ: with it, a handle to LSASS can copy out its memory.
const PROCESS_VM_READ: u64 = 0x0010;
/// Ports of lateral movement a web worker has no business connecting to.
const LATERAL_PORTS: [&str; 4] = ["445", "139", "3389", "5985"];
const SHELLS: [&str; 6] = [
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "rundll32.exe",
    "mshta.exe",
    "wscript.exe",
];

fn base_name(path: &str) -> String {
    path.rsplit(['\\', '/'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase()
}

/// Runs the checks that apply to a record of `channel`.
pub fn check_event(channel: Channel, event: &EventRecord, out: &mut Vec<Hit>) {
    match channel {
        Channel::Application
            if event
                .provider
                .eq_ignore_ascii_case("MSExchange Unified Messaging")
                && event.level == 2
                && event
                    .text()
                    .to_ascii_lowercase()
                    .contains("system.invalidcastexception") =>
        {
            out.push(UM_DESERIALIZATION.hit(
                "Test-ProxyLogon reports this event (CVE-2021-26857): MSExchange Unified Messaging logged an error with System.InvalidCastException.".into(),
            ));
        }
        Channel::ExchangeManagement => cmdlet_check(event, out),
        Channel::Security if event.event_id == 4688 => process_checks(
            event.get("ParentProcessName"),
            event.get("NewProcessName"),
            event.get("CommandLine"),
            out,
        ),
        Channel::Sysmon if event.event_id == 1 => process_checks(
            event.get("ParentImage"),
            event.get("Image"),
            event.get("CommandLine"),
            out,
        ),
        Channel::Sysmon => sysmon_checks(event, out),
        Channel::Defender if matches!(event.event_id, 1116 | 1117) => {
            let threat = event.get("Threat Name").unwrap_or("?");
            let path = event.get("Path").unwrap_or("?");
            let what = if event.event_id == 1116 {
                "detected"
            } else {
                "acted on"
            };
            let (threat_lower, path_lower) =
                (threat.to_ascii_lowercase(), path.to_ascii_lowercase());
            let web_shell = WEB_SHELL_THREATS.iter().any(|t| threat_lower.contains(t))
                || WEB_SCRIPT_SUFFIXES.iter().any(|s| path_lower.ends_with(s));
            out.push(if web_shell {
                DEFENDER_DETECTION.hit_at(
                    Severity::Critical,
                    format!("Defender {what} {threat} at {path}: a web shell on the server."),
                )
            } else {
                DEFENDER_DETECTION.hit(format!("Defender {what} {threat} at {path}."))
            });
        }
        Channel::Security | Channel::System
            if event
                .provider
                .eq_ignore_ascii_case("Microsoft-Windows-Eventlog")
                && matches!(
                    (channel, event.event_id),
                    (Channel::Security, 1102) | (Channel::System, 104)
                ) =>
        {
            let who = event.get("SubjectUserName").unwrap_or("?");
            let log = match channel {
                Channel::Security => "Security",
                _ => event.get("Channel").unwrap_or("an event"),
            };
            out.push(EVENT_LOG_CLEARED.hit(format!("{who} cleared the {log} log.")));
        }
        _ => {}
    }
}

/// MSExchange CmdletLogs: the first value is the cmdlet, the second its parameters.
fn cmdlet_check(event: &EventRecord, out: &mut Vec<Hit>) {
    if !event.provider.eq_ignore_ascii_case("MSExchange CmdletLogs")
        || !matches!(event.event_id, 1 | 6)
    {
        return;
    }
    let cmdlet = event.value(0).unwrap_or("");
    let params = event.value(1).unwrap_or("");
    let (c, p) = (cmdlet.to_ascii_lowercase(), params.to_ascii_lowercase());
    let verdict = match c.as_str() {
        "new-mailboxexportrequest"
            if p.contains(".aspx")
                || p.contains("inetpub")
                || p.contains("\\\\127.0.0.1\\")
                || p.contains("\\\\localhost\\") =>
        {
            Some((
                Severity::Critical,
                "a mailbox export written to a web folder: ProxyShell's web-shell drop",
            ))
        }
        "new-mailboxexportrequest" => Some((
            Severity::High,
            "a mailbox export (mail theft, or a shell drop)",
        )),
        "new-managementroleassignment" if p.contains("mailbox import export") => Some((
            Severity::High,
            "the Mailbox Import Export role granted, which mailbox exports need",
        )),
        c if c.starts_with("set-") && c.ends_with("virtualdirectory") && p.contains("<script") => {
            Some((
                Severity::Critical,
                "a script put into a virtual directory's URL (CVE-2021-27065)",
            ))
        }
        "install-transportagent" => Some((
            Severity::High,
            "a transport agent installed: code that sees every message",
        )),
        "set-mailbox" if p.contains("forwardingsmtpaddress") || p.contains("forwardingaddress") => {
            Some((Severity::Medium, "mail forwarding set on a mailbox"))
        }
        "new-inboxrule" | "set-inboxrule"
            if p.contains("forwardto") || p.contains("redirectto") =>
        {
            Some((Severity::Medium, "an inbox rule that forwards mail"))
        }
        "new-transportrule" | "set-transportrule"
            if p.contains("blindcopyto") || p.contains("redirectmessageto") =>
        {
            Some((
                Severity::Medium,
                "a transport rule that copies or redirects mail",
            ))
        }
        _ => None,
    };
    if let Some((severity, what)) = verdict {
        let outcome = if event.event_id == 6 {
            " It failed (event 6)."
        } else {
            ""
        };
        out.push(
            SUSPICIOUS_CMDLET.hit_at(severity, format!("{cmdlet} {params}: {what}.{outcome}")),
        );
    }
}

fn process_checks(
    parent: Option<&str>,
    image: Option<&str>,
    command: Option<&str>,
    out: &mut Vec<Hit>,
) {
    let parent_name = base_name(parent.unwrap_or(""));
    let image_name = base_name(image.unwrap_or(""));
    let command = command.unwrap_or("");
    if WORKERS.contains(&parent_name.as_str()) {
        let detail = format!("{parent_name} started {image_name}: {command}");
        if SHELLS.contains(&image_name.as_str()) {
            out.push(WEB_SERVER_SPAWNED_SHELL.hit(detail));
        } else if !image_name.is_empty() && !EXPECTED_WORKER_CHILDREN.contains(&image_name.as_str())
        {
            out.push(WEB_SERVER_SPAWNED_SHELL.hit_at(Severity::High, detail));
        }
    }
    if dumps_lsass(command) {
        out.push(LSASS_DUMP_COMMAND.hit(format!("{image_name} ran: {command}")));
    }
}

/// A command line that writes LSASS's memory to a file: comsvcs.dll's MiniDump by
/// name or by ordinal (`#24`, `#+24`, `#-4294967272` ...), procdump naming LSASS,
/// rdrleakdiag's memory dumps (which name their target by process ID only).
fn dumps_lsass(command: &str) -> bool {
    let c = command.to_ascii_lowercase();
    let comsvcs_ordinal = c.match_indices('#').any(|(at, _)| {
        c[at + 1..]
            .trim_start_matches(['+', '-'])
            .starts_with(|d: char| d.is_ascii_digit())
    });
    (c.contains("comsvcs") && (c.contains("minidump") || comsvcs_ordinal))
        || (c.contains("procdump") && c.contains("lsass"))
        || (c.contains("rdrleakdiag") && (c.contains("/fullmemdmp") || c.contains("/memdmp")))
}

fn hex_or_decimal(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Sysmon's network (3), remote thread (8), process access (10) and file (11) events.
fn sysmon_checks(event: &EventRecord, out: &mut Vec<Hit>) {
    let image = base_name(
        event
            .get("Image")
            .or(event.get("SourceImage"))
            .unwrap_or(""),
    );
    let from_worker = WORKERS.contains(&image.as_str());
    match event.event_id {
        3 if from_worker => {
            let port = event.get("DestinationPort").unwrap_or("");
            if LATERAL_PORTS.contains(&port) {
                let to = event.get("DestinationIp").unwrap_or("?");
                out.push(WEB_SERVER_SPAWNED_SHELL.hit_at(
                    Severity::High,
                    format!("{image} connected to {to} port {port}: lateral movement from the web server."),
                ));
            }
        }
        8 if from_worker => {
            let target = event.get("TargetImage").unwrap_or("?");
            out.push(WEB_SERVER_SPAWNED_SHELL.hit(format!(
                "{image} started a thread in {target}: code injected from the web server."
            )));
        }
        10 if base_name(event.get("TargetImage").unwrap_or("")) == "lsass.exe"
            && !LSASS_READERS.contains(&image.as_str()) =>
        {
            let access = event.get("GrantedAccess").unwrap_or("");
            if hex_or_decimal(access).is_some_and(|a| a & PROCESS_VM_READ != 0) {
                out.push(LSASS_DUMP_COMMAND.hit_at(
                    Severity::High,
                    format!(
                        "{image} opened lsass.exe with access {access}, which can read its memory."
                    ),
                ));
            }
        }
        11 => {
            let file = event.get("TargetFilename").unwrap_or("");
            let name = base_name(file);
            if name.starts_with("lsass") && name.ends_with(".dmp") {
                out.push(LSASS_DUMP_COMMAND.hit(format!("{image} wrote {file}.")));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(provider: &str, id: u64, level: u8, data: &[(&str, &str)]) -> EventRecord {
        EventRecord {
            provider: provider.into(),
            event_id: id,
            level,
            data: data
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..EventRecord::default()
        }
    }

    fn ids(channel: Channel, ev: &EventRecord) -> Vec<(&'static str, Severity)> {
        let mut out = Vec::new();
        check_event(channel, ev, &mut out);
        out.iter()
            .map(|f| (crate::checks::builtin_id(f), f.severity))
            .collect()
    }

    type Expected<'a> = &'a [(&'a str, Severity)];

    #[test]
    fn cmdlets() {
        let cases: [(&str, &str, Expected); 4] = [
            (
                "New-MailboxExportRequest",
                "-Mailbox a -FilePath \\\\127.0.0.1\\c$\\inetpub\\wwwroot\\aspnet_client\\x.aspx",
                &[("EXS-LOG-013", Severity::Critical)],
            ),
            (
                "New-ManagementRoleAssignment",
                "-Role \"Mailbox Import Export\" -User x",
                &[("EXS-LOG-013", Severity::High)],
            ),
            ("Get-Mailbox", "-Identity a", &[]),
            (
                "Set-OabVirtualDirectory",
                "-ExternalUrl 'http://f/<script>'",
                &[("EXS-LOG-013", Severity::Critical)],
            ),
        ];
        for (cmdlet, parameters, expected) in cases {
            let event = record(
                "MSExchange CmdletLogs",
                1,
                4,
                &[("", cmdlet), ("", parameters)],
            );
            assert_eq!(
                ids(Channel::ExchangeManagement, &event),
                expected,
                "{cmdlet}"
            );
        }
    }

    #[test]
    fn defender_web_shells_and_cleared_logs() {
        let detection = |threat: &str, path: &str| {
            record(
                "Microsoft-Windows-Windows Defender",
                1116,
                3,
                &[("Threat Name", threat), ("Path", path)],
            )
        };
        let cases: [(EventRecord, Channel, Expected); 6] = [
            (
                detection(
                    "Backdoor:ASP/Chopper.A!dha",
                    "file:_C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx",
                ),
                Channel::Defender,
                &[("EXS-LOG-016", Severity::Critical)],
            ),
            (
                detection(
                    "Trojan:Win32/Wacatac",
                    "file:_C:\\Users\\a\\Downloads\\x.exe",
                ),
                Channel::Defender,
                &[("EXS-LOG-016", Severity::High)],
            ),
            (
                record(
                    "Microsoft-Windows-Eventlog",
                    1102,
                    4,
                    &[("SubjectUserName", "attacker")],
                ),
                Channel::Security,
                &[("EXS-LOG-017", Severity::High)],
            ),
            (
                record(
                    "Microsoft-Windows-Eventlog",
                    104,
                    4,
                    &[("SubjectUserName", "x"), ("Channel", "Application")],
                ),
                Channel::System,
                &[("EXS-LOG-017", Severity::High)],
            ),
            // Another provider's 104 and 1102 elsewhere are not log clearing.
            (record("Some-Service", 104, 4, &[]), Channel::System, &[]),
            (
                record("Microsoft-Windows-Eventlog", 1102, 4, &[]),
                Channel::System,
                &[],
            ),
        ];
        for (event, channel, expected) in cases {
            assert_eq!(ids(channel, &event), expected, "{event:?}");
        }
    }

    /// The checks a Sysmon event of this ID and data raises.
    fn sysmon(id: u64, data: &[(&str, &str)]) -> Vec<(&'static str, Severity)> {
        ids(
            Channel::Sysmon,
            &record("Microsoft-Windows-Sysmon", id, 4, data),
        )
    }

    #[test]
    fn credential_dumps_by_any_means() {
        for dump in [
            "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\root\\l.dmp full",
            "rundll32 comsvcs.dll #24 624 c:\\x.bin full",
            "rundll32 COMSVCS.DLL #+0000024 624 x full",
            "rundll32.exe comsvcs.dll,#-4294967272 624 x full",
            "procdump64.exe -accepteula -ma lsass.exe l.dmp",
            "rdrleakdiag.exe /p 624 /o c:\\x /fullmemdmp /wait 1",
        ] {
            assert!(dumps_lsass(dump), "{dump}");
        }
        for benign in [
            "rundll32 comsvcs.dll,Other",
            "procdump -ma w3wp.exe",
            "notepad #1.txt",
        ] {
            assert!(!dumps_lsass(benign), "{benign}");
        }
        assert_eq!(
            sysmon(
                11,
                &[
                    ("Image", "C:\\Windows\\System32\\Taskmgr.exe"),
                    (
                        "TargetFilename",
                        "C:\\Users\\a\\AppData\\Local\\Temp\\lsass (2).DMP"
                    )
                ]
            ),
            [("EXS-LOG-015", Severity::Critical)]
        );
        assert_eq!(
            sysmon(
                10,
                &[
                    ("SourceImage", "C:\\root\\x.exe"),
                    ("TargetImage", "C:\\Windows\\system32\\lsass.exe"),
                    ("GrantedAccess", "0x1FFFFF")
                ]
            ),
            [("EXS-LOG-015", Severity::High)]
        );
        // Query-only access, and Defender's own reads, are not dumps.
        assert!(sysmon(
            10,
            &[
                ("SourceImage", "C:\\x.exe"),
                ("TargetImage", "C:\\Windows\\system32\\lsass.exe"),
                ("GrantedAccess", "0x1000")
            ]
        )
        .is_empty());
        assert!(sysmon(
            10,
            &[
                (
                    "SourceImage",
                    "C:\\ProgramData\\Microsoft\\Windows Defender\\MsMpEng.exe"
                ),
                ("TargetImage", "C:\\Windows\\system32\\lsass.exe"),
                ("GrantedAccess", "0x1410")
            ]
        )
        .is_empty());
    }

    #[test]
    fn the_web_worker_never_reaches_into_other_processes_or_the_network() {
        let w3wp = "c:\\windows\\system32\\inetsrv\\w3wp.exe";
        assert_eq!(
            sysmon(
                8,
                &[
                    ("SourceImage", w3wp),
                    ("TargetImage", "C:\\Windows\\explorer.exe")
                ]
            ),
            [("EXS-LOG-014", Severity::Critical)]
        );
        assert_eq!(
            sysmon(
                3,
                &[
                    ("Image", w3wp),
                    ("DestinationIp", "10.0.0.9"),
                    ("DestinationPort", "445")
                ]
            ),
            [("EXS-LOG-014", Severity::High)]
        );
        assert!(sysmon(
            3,
            &[
                ("Image", w3wp),
                ("DestinationIp", "10.0.0.9"),
                ("DestinationPort", "443")
            ]
        )
        .is_empty());
        let child = |image: &str| {
            ids(
                Channel::Sysmon,
                &record(
                    "Microsoft-Windows-Sysmon",
                    1,
                    4,
                    &[("ParentImage", w3wp), ("Image", image)],
                ),
            )
        };
        assert_eq!(
            child("C:\\Windows\\System32\\whoami.exe"),
            [("EXS-LOG-014", Severity::High)]
        );
        assert!(child("C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe").is_empty());
    }

    #[test]
    fn processes() {
        let spawn = record("Microsoft-Windows-Security-Auditing", 4688, 0, &[
            ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
            ("ParentProcessName", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
            ("CommandLine", "cmd /c rundll32 C:\\windows\\system32\\comsvcs.dll MiniDump 624 C:\\root\\l.dmp full"),
        ]);
        assert_eq!(
            ids(Channel::Security, &spawn),
            vec![
                ("EXS-LOG-014", Severity::Critical),
                ("EXS-LOG-015", Severity::Critical)
            ]
        );
        let normal = record(
            "Microsoft-Windows-Security-Auditing",
            4688,
            0,
            &[
                ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
                ("ParentProcessName", "C:\\Windows\\explorer.exe"),
            ],
        );
        assert!(ids(Channel::Security, &normal).is_empty());
        let sysmon = record(
            "Microsoft-Windows-Sysmon",
            1,
            4,
            &[
                ("Image", "C:\\x\\powershell.exe"),
                (
                    "ParentImage",
                    "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\UMWorkerProcess.exe",
                ),
            ],
        );
        assert_eq!(
            ids(Channel::Sysmon, &sysmon),
            vec![("EXS-LOG-014", Severity::Critical)]
        );
    }

    #[test]
    fn unified_messaging_needs_provider_level_and_exception() {
        let um = |p: &str, level| {
            record(
                p,
                100,
                level,
                &[("", "... System.InvalidCastException: ...")],
            )
        };
        assert_eq!(
            ids(Channel::Application, &um("MSExchange Unified Messaging", 2)),
            vec![("EXS-LOG-003", Severity::High)]
        );
        assert!(ids(Channel::Application, &um("MSExchange Unified Messaging", 4)).is_empty());
        assert!(ids(Channel::Application, &um("MSExchangeIS", 2)).is_empty());
    }
}
