// Compiled remnants: ASP.NET compiles every page it serves into an App_Web_*.dll under
// "Temporary ASP.NET Files". A deleted shell's assembly stays behind there, with its
// virtual path and the calls it made in the metadata (UTF-16 string heap).

rule exsweep_compiled_jscript_shell
{
    meta:
        id = "EXR-BIN-1"
        description = "ASP.NET compiled page (App_Web_*.dll) built from a JScript eval page under aspnet_client or owa/auth: the compiled remnant of a China Chopper shell"
        severity = "critical"
        attack = "T1505.003"
        family = "compiled remnant"
        reference = "https://www.microsoft.com/en-us/security/blog/2021/03/25/analyzing-attacks-taking-advantage-of-the-exchange-server-vulnerabilities/"
        author = "exsweep"
    strings:
        $eval = "JScriptEvaluate" ascii wide
        $path1 = "~/aspnet_client/" ascii wide nocase
        $path2 = "~/auth/" ascii wide nocase
        $path3 = "/owa/auth/" ascii wide nocase
    condition:
        uint16(0) == 0x5A4D and filesize < 200KB and $eval and any of ($path*)
}

rule exsweep_compiled_shell_page
{
    meta:
        id = "EXR-BIN-2"
        description = "ASP.NET compiled page assembly (App_Web_*) whose page started processes with captured output, loaded assemblies from bytes or compiled code: the compiled remnant of a .NET web shell"
        severity = "high"
        family = "compiled remnant"
        attack = "T1505.003"
        reference = "https://www.microsoft.com/en-us/security/blog/2021/03/25/analyzing-attacks-taking-advantage-of-the-exchange-server-vulnerabilities/"
        author = "exsweep"
    strings:
        $aspnet = "System.Web.UI.Page" ascii
        $compiled = "ASP." ascii wide
        $app_web = "App_Web_" ascii wide nocase
        $redirect = "set_RedirectStandardOutput" ascii
        $process = "ProcessStartInfo" ascii
        $load = "CreateDecryptor" ascii
        $asm = "Assembly" ascii
        $compile = "CompileAssemblyFromSource" ascii
    condition:
        uint16(0) == 0x5A4D and filesize < 2MB and $aspnet and $compiled and $app_web and
        (($redirect and $process) or ($load and $asm) or $compile)
}
