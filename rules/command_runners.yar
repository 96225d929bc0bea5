// Command runners: server code that starts a process for whoever calls it and hands
// back its output (cmd.exe or PowerShell from .NET, WScript.Shell from ASP or .NET).
// A web application almost never captures a child's output into a response.

rule exsweep_dotnet_process_with_output
{
    meta:
        id = "EXR-CMD-1"
        description = "ASP.NET code that starts a process and reads its standard output back, the core of every .NET command shell (ASPXSpy, Antak, cmd.aspx, handler and web-service shells)"
        severity = "high"
        family = "command runner"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1059/003/"
        author = "exsweep"
    strings:
        $start1 = "ProcessStartInfo" nocase
        $start2 = /Process\s*\.\s*Start\s*\(/ nocase
        $start3 = /\.StartInfo\s*\.\s*FileName/ nocase
        $output1 = "RedirectStandardOutput" nocase
        $output2 = "StandardOutput" nocase
        $server1 = /<\s?%\s*@/
        $server2 = /runat\s*=\s*["']?server/ nocase
        $server3 = "IHttpHandler" nocase
        $server4 = "WebMethod" nocase
        $server5 = "OperationContract" nocase
    condition:
        filesize < 2MB and any of ($start*) and any of ($output*) and any of ($server*)
}

rule exsweep_dotnet_shell_from_request
{
    meta:
        id = "EXR-CMD-2"
        description = "ASP.NET code that runs cmd.exe or PowerShell with arguments taken from the request"
        severity = "critical"
        family = "command runner"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1059/003/"
        author = "exsweep"
    strings:
        $start1 = "ProcessStartInfo" nocase
        $start2 = /Process\s*\.\s*Start\s*\(/ nocase
        $start3 = /\.StartInfo\s*\.\s*(FileName|Arguments)/ nocase
        $shell1 = "cmd.exe" nocase
        $shell2 = "powershell" nocase
        $shell3 = /["']\/c\s/ nocase
        $request = /\bRequest(\.Form|\.QueryString|\.Item|\.Params|\.Headers|\.Cookies)?\s*[\[\(]/ nocase
    condition:
        filesize < 2MB and any of ($start*) and any of ($shell*) and $request
}

rule exsweep_wscript_shell_exec
{
    meta:
        id = "EXR-CMD-3"
        description = "Server code that runs commands through WScript.Shell or Shell.Application (classic ASP and ASP.NET VB shells)"
        severity = "high"
        family = "command runner"
        attack = "T1059.005"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $object1 = /wscript["'\s&+]{0,8}\.["'\s&+]{0,8}shell/ nocase
        $object2 = /shell["'\s&+]{0,8}\.["'\s&+]{0,8}application/ nocase
        $object3 = "72C24DD5-D70A-438B-8A42-98424B88AFB8" nocase
        $object4 = "13709620-C279-11CE-A49E-444553540000" nocase
        $run1 = /\.\s*exec\s*\(/ nocase
        $run2 = /\.\s*run\s*[\(\s]/ nocase
        $run3 = /\.\s*ShellExecute\b/ nocase
        $server1 = /<\s?%/
        $server2 = /runat\s*=\s*["']?server/ nocase
    condition:
        filesize < 2MB and any of ($object*) and any of ($run*) and any of ($server*)
}

rule exsweep_sql_xp_cmdshell
{
    meta:
        id = "EXR-CMD-4"
        description = "Server page that sends a command from the request to SQL Server's xp_cmdshell through a database connection: operating-system commands run as the SQL Server service"
        severity = "high"
        family = "command runner"
        attack = "T1505.001"
        reference = "https://attack.mitre.org/techniques/T1505/001/"
        author = "exsweep"
    strings:
        $xp = "xp_cmdshell" nocase
        $request = /\bRequest(\.Form|\.QueryString|\.Item|\.Params)?\s*[\[\(]/ nocase
        $run = /(\.\s*Execute\s*[\(\s]|ExecuteReader|ExecuteNonQuery|ExecuteScalar)/ nocase
        $server = /<\s?%|runat\s*=\s*["']?server/ nocase
    condition:
        filesize < 2MB and $xp and $request and $run and $server
}

rule exsweep_servu_local_exploit
{
    meta:
        id = "EXR-CMD-5"
        description = "Page that talks to Serv-U's local administration port to add a system-level FTP user and run a command through it (SITE EXEC): the Serv-U privilege escalation that classic ASP shells carry"
        severity = "high"
        family = "command runner"
        attack = "T1068"
        reference = "https://attack.mitre.org/techniques/T1068/"
        author = "exsweep"
    strings:
        $setup = "-SETUSERSETUP" nocase
        $domain = "-DELETEDOMAIN" nocase
        $maintenance = "SITE MAINTENANCE" nocase
        $exec = "SITE EXEC" nocase
        $port = "43958"
    condition:
        filesize < 2MB and 2 of ($setup, $domain, $maintenance) and ($exec or $port)
}
