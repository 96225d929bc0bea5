//! Local exposure and IIS persistence end to end: servers built in a temp dir with a real SOFTWARE hive
//! (Exchange's Setup key and the Uninstall keys of installed updates, written by the
//! testkit's `regf` writer and read by nt-hive) and build folders below `owa\auth`,
//! scanned, and each CVE family's verdict checked.

use exsweep_engine::progress::Silent;
use exsweep_engine::scan::{self, ScanRequest};
use exsweep_model::{Class, Report, VerdictLevel};
use exsweep_testkit::hive::{self, Key, Value};
use std::fs;
use std::path::Path;

const INSTALL: &str = "Program Files/Microsoft/Exchange Server/V15";

fn key<'a>(name: &'a str, values: Vec<(&'a str, Value<'a>)>, subkeys: Vec<Key<'a>>) -> Key<'a> {
    Key {
        name,
        values,
        subkeys,
    }
}

/// A server of registry build `15.2.<build>.<revision>` with `updates` (display
/// names) in the Uninstall keys and `folders` below `owa\auth`.
fn server(root: &Path, build: u32, revision: u32, updates: &[&str], folders: &[&str]) {
    let auth = root.join(INSTALL).join("FrontEnd/HttpProxy/owa/auth");
    fs::create_dir_all(&auth).unwrap();
    fs::write(auth.join("logon.aspx"), b"<%@ Page %><html>logon</html>").unwrap();
    for folder in folders {
        fs::create_dir_all(auth.join(folder).join("themes")).unwrap();
    }
    let setup = key(
        "Setup",
        vec![
            (
                "MsiInstallPath",
                Value::String(r"C:\Program Files\Microsoft\Exchange Server\V15\"),
            ),
            ("MsiProductMajor", Value::Dword(15)),
            ("MsiProductMinor", Value::Dword(2)),
            ("MsiBuildMajor", Value::Dword(build)),
            ("MsiBuildMinor", Value::Dword(revision)),
        ],
        vec![],
    );
    let names: Vec<String> = (0..updates.len())
        .map(|i| format!("{{CD98124{i}-E9B8}}"))
        .collect();
    let uninstall = key(
        "Uninstall",
        vec![],
        updates
            .iter()
            .zip(&names)
            .map(|(display, name)| key(name, vec![("DisplayName", Value::String(display))], vec![]))
            .collect(),
    );
    let software = key(
        "ROOT",
        vec![],
        vec![key(
            "Microsoft",
            vec![],
            vec![
                key(
                    "ExchangeServer",
                    vec![],
                    vec![key("v15", vec![], vec![setup])],
                ),
                key(
                    "Windows",
                    vec![],
                    vec![key("CurrentVersion", vec![], vec![uninstall])],
                ),
            ],
        )],
    );
    let config = root.join("Windows/System32/config");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("SOFTWARE"), hive::write(&software)).unwrap();
}

fn scan(root: &Path) -> Report {
    let mut request = ScanRequest::new(root.to_path_buf());
    request.logs = false;
    scan::run(&request.validate().unwrap(), &Silent).unwrap()
}

fn exposure_ids(report: &Report) -> Vec<&str> {
    let mut ids: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.class == Class::Exposure)
        .map(|f| f.check_id.as_ref())
        .collect();
    ids.sort();
    ids
}

#[test]
fn an_unpatched_cu8_is_open_to_all_three_families_and_exposed_not_compromised() {
    let dir = tempfile::tempdir().unwrap();
    server(dir.path(), 792, 3, &[], &["15.2.792.3"]);
    let report = scan(dir.path());
    assert_eq!(
        exposure_ids(&report),
        ["EXS-EXP-001", "EXS-EXP-002", "EXS-EXP-003", "EXS-EXP-004"]
    );
    assert_eq!(report.verdict.level, VerdictLevel::Exposed);
    assert!(report
        .verdict
        .still_open
        .contains(&"CVE-2021-26855".to_string()));
    assert!(report
        .verdict
        .headline()
        .starts_with("EXPOSED; still open to CVE-2021-26855"));
    let proxylogon = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-EXP-001")
        .unwrap();
    assert!(
        proxylogon
            .detail
            .contains("before Exchange 2019 CU8 Mar21SU (15.2.792.10, KB5000871)"),
        "{}",
        proxylogon.detail
    );
}

#[test]
fn the_newest_build_folder_is_the_exact_build_and_beats_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    // Registry: CU8 as installed; folders: the March and May 2021 updates since.
    server(
        dir.path(),
        792,
        3,
        &[],
        &["15.2.792.3", "15.2.792.10", "15.2.792.15"],
    );
    let report = scan(dir.path());
    assert_eq!(exposure_ids(&report), ["EXS-EXP-003", "EXS-EXP-004"]);
    assert_eq!(
        report.verdict.still_open,
        ["CVE-2022-41040", "CVE-2022-41080", "CVE-2022-41082"]
    );
}

#[test]
fn a_cu_level_registry_build_is_unknown_until_an_installed_update_settles_it() {
    let dir = tempfile::tempdir().unwrap();
    server(dir.path(), 1118, 7, &[], &[]);
    let report = scan(dir.path());
    assert_eq!(exposure_ids(&report), ["EXS-EXP-004", "EXS-EXP-005"]);
    let unknown = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-EXP-005")
        .unwrap();
    assert!(
        unknown
            .detail
            .contains("ProxyNotShell/OWASSRF status unknown"),
        "{}",
        unknown.detail
    );
    assert!(report.verdict.still_open.is_empty());

    let patched = tempfile::tempdir().unwrap();
    server(
        patched.path(),
        1118,
        7,
        &["Security Update for Exchange Server 2019 Cumulative Update 12 (KB5019758)"],
        &[],
    );
    let report = scan(patched.path());
    assert_eq!(
        exposure_ids(&report),
        ["EXS-EXP-004"],
        "the installed KB closes ProxyNotShell"
    );
    let stale = &report.findings[0];
    assert!(
        stale.detail.contains("Exchange 2019 CU12"),
        "{}",
        stale.detail
    );
}

#[test]
fn a_current_build_has_no_exposure_finding() {
    let dir = tempfile::tempdir().unwrap();
    server(dir.path(), 1748, 10, &[], &["15.2.1748.10", "15.2.1748.49"]);
    let report = scan(dir.path());
    assert!(
        exposure_ids(&report).is_empty(),
        "{:?}",
        exposure_ids(&report)
    );
    assert_eq!(report.verdict.level, VerdictLevel::NoIndicatorsFound);
}

#[test]
fn exsetup_s_file_version_is_the_exact_build_and_a_damaged_one_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    server(dir.path(), 1118, 7, &[], &[]);
    let bin = dir.path().join(INSTALL).join("Bin");
    fs::create_dir_all(&bin).unwrap();
    let exsetup = bin.join("ExSetup.exe");
    fs::write(
        &exsetup,
        exsweep_testkit::pe::with_file_version([15, 2, 1118, 20]),
    )
    .unwrap();
    let report = scan(dir.path());
    // The Nov22 SU (15.2.1118.20) closes ProxyNotShell; CU12 is out of updates since 2023.
    assert_eq!(exposure_ids(&report), ["EXS-EXP-004"]);
    let stale = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-EXP-004")
        .unwrap();
    match &stale.evidence {
        exsweep_model::Evidence::Config(item) => {
            assert!(
                item.windows_path.ends_with(r"Bin\ExSetup.exe"),
                "{}",
                item.windows_path
            );
            assert!(
                item.value
                    .starts_with("15.2.1118.20 (from the file version"),
                "{}",
                item.value
            );
        }
        other => panic!("{other:?}"),
    }
    fs::write(&exsetup, b"MZ truncated").unwrap();
    let report = scan(dir.path());
    assert_eq!(
        exposure_ids(&report),
        ["EXS-EXP-004", "EXS-EXP-005"],
        "back to the CU-level registry build"
    );
}

#[test]
fn the_eomt_and_proxynotshell_rewrite_rules_are_reported_as_mitigations_not_fixes() {
    let dir = tempfile::tempdir().unwrap();
    server(dir.path(), 792, 3, &[], &["15.2.792.3"]);
    let web = dir.path().join("inetpub/wwwroot");
    fs::create_dir_all(&web).unwrap();
    let rules = exsweep_testkit::iis::MITIGATION_RULES;
    fs::write(web.join("web.config"), rules).unwrap();
    let report = scan(dir.path());
    let finding = |id: &str| report.findings.iter().find(|f| f.check_id == id).unwrap();
    let proxylogon = finding("EXS-EXP-001");
    assert_eq!(proxylogon.severity, exsweep_model::Severity::Medium);
    assert!(
        proxylogon
            .detail
            .contains("Mitigated meanwhile by the EOMT URL Rewrite rule \"EOMT Cookie\""),
        "{}",
        proxylogon.detail
    );
    let notshell = finding("EXS-EXP-003");
    assert_eq!(
        notshell.severity,
        exsweep_model::Severity::High,
        "OWASSRF goes around it"
    );
    assert!(
        notshell.detail.contains("OWASSRF (CVE-2022-41080)"),
        "{}",
        notshell.detail
    );

    // Disabled, the rule mitigates nothing.
    fs::write(
        web.join("web.config"),
        rules.replace(
            r#"name="EOMT Cookie""#,
            r#"name="EOMT Cookie" enabled="false""#,
        ),
    )
    .unwrap();
    let report = scan(dir.path());
    let proxylogon = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-EXP-001")
        .unwrap();
    assert_eq!(proxylogon.severity, exsweep_model::Severity::High);
}

#[test]
fn an_iis_module_from_an_unusual_folder_is_named_and_iis_s_own_are_not() {
    let dir = tempfile::tempdir().unwrap();
    server(dir.path(), 1748, 10, &[], &["15.2.1748.49"]);
    let config = dir.path().join("Windows/System32/inetsrv/config");
    fs::create_dir_all(&config).unwrap();
    fs::write(
        config.join("applicationHost.config"),
        r#"<configuration><system.webServer>
          <globalModules>
            <add name="UriCacheModule" image="%windir%\System32\inetsrv\cachuri.dll" />
            <add name="RewriteModule" image="%SystemRoot%\system32\inetsrv\rewrite.dll" />
            <add name="Exchange Kerberos" image="C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\bin\kerbauth.dll" />
            <add name="IsapiFilterModule2" image="C:\ProgramData\Microsoft\Crypto\cache.dll" />
          </globalModules>
          <handlers><add name="odd" path="*.xyz" verb="*" modules="IsapiModule" scriptProcessor="C:\Windows\Temp\h.dll" /></handlers>
        </system.webServer></configuration>"#,
    )
    .unwrap();
    let report = scan(dir.path());
    let named: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-IIS-001")
        .map(|f| f.detail.as_str())
        .collect();
    assert_eq!(named.len(), 2, "{named:#?}");
    assert!(
        named
            .iter()
            .any(|d| d.contains("\"IsapiFilterModule2\" from C:\\ProgramData")),
        "{named:#?}"
    );
    assert!(
        named.iter().any(|d| d.contains("handler \"odd\"")),
        "{named:#?}"
    );
    assert_eq!(report.verdict.level, VerdictLevel::Suspicious);
}

/// An Exchange server's `applicationHost.config`, as setup writes it, with what an
/// attacker changed: a virtual directory onto ProgramData, an Exchange application
/// moved out of the install, a module dropped into inetsrv, a managed module of no
/// Microsoft assembly, and the back end's IIS logs moved to `C:\Logs\IIS`.
const TAMPERED_IIS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <sites>
      <site name="Default Web Site" id="1" serverAutoStart="true">
        <application path="/" applicationPool="DefaultAppPool">
          <virtualDirectory path="/" physicalPath="%SystemDrive%\inetpub\wwwroot" />
          <virtualDirectory path="/assets" physicalPath="C:\ProgramData\cache\web" />
        </application>
        <application path="/owa" applicationPool="MSExchangeOWAAppPool">
          <virtualDirectory path="/" physicalPath="%ExchangeInstallPath%FrontEnd\HttpProxy\owa" />
        </application>
        <application path="/Rpc" applicationPool="MSExchangeRpcProxyFrontEndAppPool">
          <virtualDirectory path="/" physicalPath="C:\Windows\System32\RpcProxy" />
        </application>
        <application path="/ecp" applicationPool="MSExchangeECPAppPool">
          <virtualDirectory path="/" physicalPath="C:\inetpub\ecp" />
        </application>
        <bindings><binding protocol="https" bindingInformation="*:443:" /></bindings>
      </site>
      <site name="Exchange Back End" id="2">
        <application path="/" applicationPool="MSExchangeServicesAppPool">
          <virtualDirectory path="/" physicalPath="C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess" />
        </application>
        <bindings><binding protocol="https" bindingInformation="*:444:" /></bindings>
        <logFile directory="C:\Logs\IIS" />
      </site>
      <siteDefaults><logFile logFormat="W3C" directory="%SystemDrive%\inetpub\logs\LogFiles" /></siteDefaults>
    </sites>
  </system.applicationHost>
  <system.webServer>
    <globalModules>
      <add name="StaticFileModule" image="%windir%\System32\inetsrv\static.dll" />
      <add name="HttpCacheEx" image="%windir%\System32\inetsrv\iiscachex.dll" />
    </globalModules>
    <handlers>
      <add name="RpcProxy" path="*" verb="RPC_IN_DATA,RPC_OUT_DATA" modules="IsapiModule" scriptProcessor="C:\Windows\System32\RpcProxy\RpcProxy.dll" />
    </handlers>
    <modules>
      <add name="StaticFileModule" />
      <add name="OutputCache" type="System.Web.Caching.OutputCacheModule" preCondition="managedHandler" />
      <add name="OwaCacheAuth" type="Owa.Cache.AuthModule, OwaCache" />
    </modules>
  </system.webServer>
</configuration>"#;

#[test]
fn the_iis_site_model_names_odd_directories_and_modules_and_feeds_custom_log_folders_to_the_hunt() {
    let dir = tempfile::tempdir().unwrap();
    server(dir.path(), 1748, 10, &[], &["15.2.1748.49"]);
    let config = dir.path().join("Windows/System32/inetsrv/config");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("applicationHost.config"), TAMPERED_IIS).unwrap();
    let logs = dir.path().join("Logs/IIS/W3SVC2");
    fs::create_dir_all(&logs).unwrap();
    fs::write(
        logs.join("u_ex210810.log"),
        "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2021-08-10 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n2021-08-10 10:00:00 10.0.0.5 POST /autodiscover/autodiscover.json @evil.corp/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.corp 444 - 203.0.113.9 python-requests/2.25.1 - 200 0 0 15\n",
    )
    .unwrap();
    let mut request = ScanRequest::new(dir.path().to_path_buf());
    request.logs = true;
    let report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    let details = |id: &str| -> Vec<&str> {
        report
            .findings
            .iter()
            .filter(|f| f.check_id == id)
            .map(|f| f.detail.as_str())
            .collect()
    };
    let directories = details("EXS-IIS-002");
    assert_eq!(directories.len(), 2, "{directories:#?}");
    assert!(directories[0]
        .contains(r"/assets from C:\ProgramData\cache\web: a folder any user can write"));
    assert!(directories[1].contains(
        "/ecp from C:\\inetpub\\ecp: an Exchange application outside the Exchange install"
    ));
    assert_eq!(
        details("EXS-IIS-003"),
        [
            r#"IIS loads the native module "HttpCacheEx" from C:\Windows\System32\inetsrv\iiscachex.dll: IIS's folder, but not a module IIS ships."#
        ]
    );
    assert!(
        details("EXS-IIS-001").is_empty(),
        "RpcProxy is Windows' own"
    );
    assert_eq!(
        details("EXS-IIS-004"),
        [
            r#"IIS runs the managed module "OwaCacheAuth" (Owa.Cache.AuthModule, OwaCache) in every ASP.NET request."#
        ]
    );
    let iis_logs: Vec<(&str, &str)> = report
        .coverage
        .logs
        .iter()
        .filter(|l| l.source.contains("IIS"))
        .map(|l| (l.windows_path.as_str(), l.status.as_str()))
        .collect();
    assert_eq!(
        iis_logs,
        [
            (r"C:\Logs\IIS\W3SVC2", "short"),
            (r"C:\inetpub\logs\LogFiles", "missing")
        ],
        "the back end's own folder is read; the front end logs to the default, which is missing"
    );
    let proxyshell = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-LOG-008")
        .expect("the ProxyShell request in the moved log is hunted");
    assert_eq!(
        proxyshell.entities.client_ip.as_deref(),
        Some("203.0.113.9")
    );
}
