// Dynamic code: pages that compile or evaluate code they are sent (CodeDom, the
// JScript.NET engine from C#, script-enabled XSLT, MSScriptControl) or hide the request
// access they make behind base64.

rule exsweep_codedom_compile_page
{
    meta:
        id = "EXR-DYN-1"
        description = "Server page that compiles source code at run time (CodeDom CompileAssemblyFromSource with a C#, VB or JScript provider): a shell that builds its payload from the request"
        severity = "critical"
        family = "dynamic code"
        attack = "T1027.004"
        reference = "https://attack.mitre.org/techniques/T1027/004/"
        author = "exsweep"
    strings:
        $compile1 = "CompileAssemblyFromSource" nocase
        $compile2 = "CompileAssemblyFromDom" nocase
        $provider = /(CSharpCodeProvider|VBCodeProvider|JScriptCodeProvider|CodeDomProvider)/ nocase
        $server1 = /<\s?%\s*@/
        $server2 = /runat\s*=\s*["']?server/ nocase
        $server3 = "IHttpHandler" nocase
    condition:
        filesize < 2MB and any of ($compile*) and $provider and any of ($server*)
}

rule exsweep_jscript_engine_from_dotnet
{
    meta:
        id = "EXR-DYN-2"
        description = "C# or VB code that drives the JScript.NET engine (Microsoft.JScript Eval.JScriptEvaluate, VsaEngine): China Chopper's eval without a JScript page"
        severity = "critical"
        family = "dynamic code"
        attack = "T1505.003"
        reference = "https://www.mandiant.com/resources/blog/china-chopper-web-shell-part-1"
        author = "exsweep"
    strings:
        $evaluate = "JScriptEvaluate" nocase ascii wide
        $vsa = /VsaEngine\s*\.\s*CreateEngine/ nocase
        $server1 = /<\s?%/
        $server2 = /runat\s*=\s*["']?server/ nocase
        $server3 = "IHttpHandler" nocase
    condition:
        filesize < 2MB and uint16(0) != 0x5A4D and ($evaluate or $vsa) and any of ($server*)
}

rule exsweep_xslt_script_execution
{
    meta:
        id = "EXR-DYN-3"
        description = "XSLT with embedded script (msxsl:script) that evaluates code or starts processes, or a page that runs caller-supplied XSLT with scripts enabled"
        severity = "critical"
        family = "dynamic code"
        attack = "T1220"
        reference = "https://attack.mitre.org/techniques/T1220/"
        author = "exsweep"
    strings:
        $script = "msxsl:script" nocase
        $sink1 = /\beval\s*\(/ nocase
        $sink2 = "Process" nocase
        $sink3 = "ActiveXObject" nocase
        $trusted = /XsltSettings\s*(\.\s*TrustedXslt|\(\s*(true|false)\s*,\s*true\s*\))/ nocase
        $request = /\bRequest(\.Form|\.QueryString|\.Item|\.Params)?\s*[\[\(]/ nocase
    condition:
        filesize < 2MB and (($script and any of ($sink*)) or ($trusted and $request))
}

rule exsweep_script_control_execute
{
    meta:
        id = "EXR-DYN-4"
        description = "Server code that runs script text through MSScriptControl (ExecuteStatement, Eval, AddCode): an eval shell in any ASP language"
        severity = "critical"
        family = "dynamic code"
        attack = "T1059.005"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $control = "MSScriptControl.ScriptControl" nocase
        $run = /\.\s*(ExecuteStatement|Eval|AddCode|Run)\s*[\(\s]/ nocase
    condition:
        filesize < 2MB and $control and $run
}

rule exsweep_base64_hidden_request
{
    meta:
        id = "EXR-DYN-5"
        description = "Code that decodes base64 text which spells out request access or a command shell (`Request.Item`, `eval(Request`, `cmd.exe`): the page hides what it reads and runs"
        severity = "high"
        family = "dynamic code"
        attack = "T1027"
        reference = "https://attack.mitre.org/techniques/T1027/"
        author = "exsweep"
    strings:
        $decode1 = "FromBase64String" nocase
        $decode2 = "base64_decode" nocase
        $decode3 = "Base64Decode" nocase
        $hidden1 = "Request.Item" base64
        $hidden2 = "Request.Form" base64
        $hidden3 = "Request[" base64
        $hidden4 = "eval(Request" base64
        $hidden5 = "cmd.exe" base64
        $hidden6 = "Request.QueryString" base64
        $hidden7 = "ProcessStartInfo" base64
    condition:
        filesize < 2MB and any of ($decode*) and any of ($hidden*)
}
