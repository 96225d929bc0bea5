// China Chopper and its JScript.NET relatives: the one-line `eval(Request[...],"unsafe")`
// page dropped through ProxyLogon, its obfuscations (concatenated, escaped, commented
// out, base64-hidden), its handler, web-service and WCF forms, and the full "Customize"
// server script of the Chopper client (a switch over one-letter commands).

rule exsweep_chopper_jscript_eval
{
    meta:
        id = "EXR-CHOP-1"
        description = "Server-side JScript.NET code that calls eval: the China Chopper web shell and its handler, web-service, WCF and XSLT forms (JScript pages are otherwise almost unseen on ASP.NET servers)"
        severity = "critical"
        family = "China Chopper"
        attack = "T1505.003"
        cve = "CVE-2021-27065"
        reference = "https://www.microsoft.com/en-us/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
        author = "exsweep"
    strings:
        // Page, handler, service or control directive in JScript: `<%@ Page Language="Jscript"%>`,
        // `<%@PAGE LANGUAGE=JSCRIPT%>`, with typographic quotes too.
        $directive = /<\s?%\s*@[^%>]{0,200}\blanguage\s*=[^a-z0-9%>]{0,6}(jscript|js|javascript)\b/ nocase
        $script_lang_first = /<script[^>]{0,200}\blanguage\s*=[^a-z0-9>]{0,6}j(ava)?script\b[^>]{0,200}\brunat\s*=/ nocase
        $script_runat_first = /<script[^>]{0,200}\brunat\s*=[^>]{0,200}\blanguage\s*=[^a-z0-9>]{0,6}j(ava)?script\b/ nocase
        $xslt_script = /<msxsl:script[^>]{0,200}\blanguage\s*=[^a-z0-9>]{0,8}j(ava)?script\b/ nocase
        $eval = /\beval\s*\(/ nocase
    condition:
        filesize < 2MB and $eval and any of ($directive, $script_lang_first, $script_runat_first, $xslt_script)
}

rule exsweep_chopper_eval_request_unsafe
{
    meta:
        id = "EXR-CHOP-2"
        description = "eval of request data with the 'unsafe' flag, the China Chopper payload, wherever it sits (inside an image, a text file, a page of another language)"
        severity = "critical"
        family = "China Chopper"
        attack = "T1505.003"
        reference = "https://www.mandiant.com/resources/blog/china-chopper-web-shell-part-1"
        author = "exsweep"
    strings:
        $eval_request = /\beval\s*\(\s*(System\.Web\.HttpContext\.Current\.|HttpContext\.Current\.|context\.)?Request\b[^;]{0,120}unsafe/ nocase
    condition:
        filesize < 5MB and $eval_request
}

rule exsweep_chopper_customize_server
{
    meta:
        id = "EXR-CHOP-3"
        description = "The Chopper client's 'Customize' server script (ASPX, ASHX, ASMX, SOAP or ASP): a switch over one-letter commands that lists drives, reads, writes and deletes files, runs commands and queries databases"
        severity = "critical"
        family = "China Chopper"
        attack = "T1505.003"
        reference = "https://www.fireeye.com/blog/threat-research/2013/08/breaking-down-the-china-chopper-web-shell-part-ii.html"
        author = "exsweep"
    strings:
        $case_letter = /case\s+"[a-q]"\s*:?/ nocase
        $drives1 = "GetLogicalDrives" nocase
        $drives2 = "Drives" nocase
        $file1 = "DirectoryInfo" nocase
        $file2 = "Scripting.FileSystemObject" nocase
        $file3 = "StreamWriter" nocase
    condition:
        filesize < 1MB and #case_letter >= 10 and any of ($drives*) and any of ($file*)
}

rule exsweep_webadmin2y_loader_page
{
    meta:
        id = "EXR-CHOP-4"
        description = "A page whose only code instantiates the WebAdmin2Y back door class from an assembly planted in bin, keyed by a hex password"
        severity = "high"
        family = "China Chopper"
        attack = "T1505.003"
        reference = "https://github.com/ysrc/webshell-sample"
        author = "exsweep"
    strings:
        $new = /WebAdmin2Y\.[a-z_.]{1,40}\(\s*"[0-9a-f]{8,64}"\s*\)/ nocase
    condition:
        filesize < 64KB and $new
}
