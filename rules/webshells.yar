// exsweep's own web-shell rules for Exchange and IIS servers.
// Written by the exsweep authors from public descriptions of the 2021-2022 Exchange
// intrusions (Microsoft, CISA AA21-062A, Volexity). Meta `severity` sets the finding's
// severity; `cve` and `attack` become references.

rule exsweep_china_chopper_aspx
{
    meta:
        description = "China Chopper: a server page that evaluates request data as JScript with the 'unsafe' flag, the one-line web shell dropped through ProxyLogon"
        severity = "critical"
        attack = "T1505.003"
        cve = "CVE-2021-27065"
        author = "exsweep"
    strings:
        $eval = /eval\s*\(\s*Request(\.Item)?\s*[\[\(]/ nocase
        $unsafe = /["']unsafe["']/ nocase
        $lang = /Language\s*=\s*["']?J(ava)?Script/ nocase
    condition:
        filesize < 512KB and $eval and $unsafe and ($lang or $eval in (0..4096))
}

rule exsweep_oab_virtual_directory_dump_shell
{
    meta:
        description = "OAB virtual directory property dump written to a page (CVE-2021-27065/26858): the ExternalUrl carries a server-side script"
        severity = "critical"
        attack = "T1505.003"
        cve = "CVE-2021-27065"
        author = "exsweep"
    strings:
        $p1 = "OfflineAddressBooks" ascii wide
        $p2 = "InternalAuthenticationMethods" ascii wide
        $p3 = "ExtendedProtectionTokenChecking" ascii wide
        $p4 = "ExternalUrl" ascii wide
        $script = /runat\s*=\s*["']?server/ nocase ascii wide
        $onechar_host = /https?:\/\/[a-z0-9]\/[^\s]{0,20}<script/ nocase
    condition:
        filesize < 1MB and 3 of ($p*) and ($script or $onechar_host)
}

rule exsweep_upload_saveas_shell
{
    meta:
        description = "Minimal upload page that saves any posted file where the attacker says (SimpleSeeSharp style)"
        severity = "critical"
        attack = "T1505.003"
        author = "exsweep"
    strings:
        $files = /Request\.Files\s*\[\s*0\s*\]/ nocase
        $save = /\.SaveAs\s*\(\s*(Path\.Combine|Server\.MapPath|Request)/ nocase
    condition:
        filesize < 4KB and $files and $save
}

rule exsweep_socket_tunnel_aspx
{
    meta:
        description = "HTTP-to-socket tunnel page (reGeorg / Neo-reGeorg family): opens sockets for whoever sends the right headers"
        severity = "critical"
        attack = "T1090.001"
        author = "exsweep"
    strings:
        $sock1 = "System.Net.Sockets" nocase
        $sock2 = /new\s+Socket\s*\(/ nocase
        $hdr = /Request\.Headers(\.Get)?\s*[\[\(]/ nocase
        $b64 = "FromBase64String" nocase
        $page = /<%@\s*Page/ nocase
    condition:
        filesize < 200KB and $page and $sock2 and $hdr and ($sock1 or $b64)
}

rule exsweep_command_exec_page
{
    meta:
        description = "Server page that starts cmd.exe or PowerShell with data from the request"
        severity = "high"
        attack = "T1505.003"
        author = "exsweep"
    strings:
        $page1 = /<%@\s*(Page|WebHandler|WebService)/ nocase
        $page2 = /runat\s*=\s*["']?server/ nocase
        $proc1 = "ProcessStartInfo" nocase
        $proc2 = /Process\.Start\s*\(/ nocase
        $shell1 = "cmd.exe" nocase
        $shell2 = "powershell" nocase
        $req = /Request(\.Form|\.QueryString|\.Item|\.Params)?\s*[\[\(]/ nocase
    condition:
        filesize < 500KB and any of ($page*) and any of ($proc*) and any of ($shell*) and $req
}

rule exsweep_reflective_assembly_page
{
    meta:
        description = "Server page that loads a .NET assembly decoded or decrypted from the request (Godzilla, Behinder and similar in-memory shells)"
        severity = "critical"
        attack = "T1620"
        author = "exsweep"
    strings:
        $page1 = /<%@\s*(Page|WebHandler)/ nocase
        $page2 = /runat\s*=\s*["']?server/ nocase
        $load = /Assembly\s*\.\s*Load\s*\(/ nocase
        $dec1 = "FromBase64String" nocase
        $dec2 = "CreateDecryptor" nocase
        $dec3 = "TransformFinalBlock" nocase
        $req = /Request(\.Form|\.BinaryRead|\.InputStream|\.Item)?\s*[\[\(\.]/ nocase
        $compile = "CompileAssemblyFromSource" nocase
    condition:
        filesize < 500KB and any of ($page*) and (($load and any of ($dec*) and $req) or ($compile and $req))
}

rule exsweep_compiled_jscript_shell
{
    meta:
        description = "ASP.NET compiled page (App_Web_*.dll) built from a JScript eval page under aspnet_client or owa/auth: the compiled remnant of a China Chopper shell"
        severity = "critical"
        attack = "T1505.003"
        author = "exsweep"
    strings:
        $eval = "JScriptEvaluate" ascii wide
        $path1 = "~/aspnet_client/" ascii wide nocase
        $path2 = "~/auth/" ascii wide nocase
        $path3 = "/owa/auth/" ascii wide nocase
    condition:
        uint16(0) == 0x5A4D and filesize < 200KB and $eval and any of ($path*)
}
