// Web-based server managers: ASPXSpy, the "big horse" (大马) shells, WSO, devshell and
// their many forks, and the single-purpose consoles cut from them (file browsers, SQL
// consoles, sniffers, registry readers). Each rule asks for several capabilities an
// application page has no use for together, one pattern per capability.

rule exsweep_server_manager_page
{
    meta:
        id = "EXR-MGR-1"
        description = "Server page combining several administration capabilities an application does not need together: drives, file changes and timestamps, commands, registry, raw sockets, Windows APIs, host details (ASPXSpy-style managers)"
        severity = "critical"
        family = "server manager"
        attack = "T1505.003"
        reference = "https://www.trendmicro.com/vinfo/us/threat-encyclopedia/malware/backdoor.aspx.aspxspy.a"
        author = "exsweep"
    strings:
        $cap_drives = /(GetLogicalDrives|DriveInfo\s*\.\s*GetDrives|\.Drives\b|DriveType)/ nocase
        $cap_file_change = /(File|Directory)\s*\.\s*(Delete|Move|SetAttributes|SetLastWriteTime|SetCreationTime|SetLastAccessTime)\s*\(/ nocase
        $cap_command = /(ProcessStartInfo|Process\s*\.\s*Start\s*\(|wscript\.shell|cmd\.exe)/ nocase
        $cap_registry = /(Registry\s*\.\s*(LocalMachine|CurrentUser|Users|ClassesRoot)|RegistryKey|OpenSubKey|RegRead)/ nocase
        $cap_socket = /(System\.Net\.Sockets|new\s+Socket\s*\(|TcpClient)/ nocase
        $cap_winapi = /DllImport\s*\(\s*"(kernel32|advapi32|netapi32|ws2_32|iphlpapi)/ nocase
        $cap_host = /(Environment\s*\.\s*(MachineName|UserName|OSVersion|UserDomainName|GetEnvironmentVariables)|ManagementObjectSearcher|Win32_(Process|Service|OperatingSystem))/ nocase
        $cap_database = /(SqlConnection|OleDbConnection|OdbcConnection|ADODB\.Connection)/ nocase
        $cap_upload = /\.SaveAs\s*\(/ nocase
        $server1 = /<\s?%/
        $server2 = /runat\s*=\s*["']?server/ nocase
        $server3 = "IHttpHandler" nocase
    condition:
        filesize < 4MB and any of ($server*) and 4 of ($cap*)
}

rule exsweep_file_browser_page
{
    meta:
        id = "EXR-MGR-2"
        description = "Server page that lists folders the request names and reads, writes or deletes files in them: a file browser for the server's own disks"
        severity = "high"
        family = "server manager"
        attack = "T1083"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $list = /new\s+(System\.IO\.)?DirectoryInfo\s*\(\s*(Request|context\.Request|Server\.MapPath\s*\(\s*Request|[\w.]+\.Text\b)/ nocase
        $list_param = /(GetFiles|GetDirectories)\s*\(\s*(Request|[\w.]+\.Text\b)/ nocase
        $change = /(File\s*\.\s*(Delete|Move|Copy|WriteAll\w*|ReadAll\w*|OpenRead)|StreamReader|StreamWriter|TransmitFile|WriteFile)\s*\(/ nocase
        $server1 = /<\s?%/
        $server2 = /runat\s*=\s*["']?server/ nocase
    condition:
        filesize < 2MB and ($list or $list_param) and $change and any of ($server*)
}

rule exsweep_sql_console_page
{
    meta:
        id = "EXR-MGR-3"
        description = "Server page that connects to a database with a connection string the request supplies and runs the query it is sent: a SQL console for dumping databases"
        severity = "high"
        family = "server manager"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1213/"
        author = "exsweep"
    strings:
        $conn_from_input1 = /(Sql|OleDb|Odbc|MySql)Connection\s*\(\s*(Request|context\.Request|[\w.]+\.Text\b|conn\w*\s*\))/ nocase
        $conn_from_input2 = /ConnectionString\s*=\s*[^;\n]{0,120}(Request\b|\.Text\b)/ nocase
        $conn_from_input3 = /conn\w*\s*=\s*Request\s*(\.\s*(QueryString|Form|Params|Item))?\s*[\[\(]/ nocase
        $query_from_input = /(Sql|OleDb|Odbc|MySql)Command\s*\(\s*(Request|context\.Request|[\w.]+\.Text\b|sql\w*\s*,)/ nocase
        $query_from_input2 = /(CommandText\s*=\s*(Request|[\w.]+\.Text\b)|\.Execute\s*\(\s*(Request|sql))/ nocase
        $query_from_input3 = /"\s*(SELECT|INSERT|UPDATE|DELETE|DROP|EXEC)\b[^"\n]{0,60}"\s*\+\s*Request/ nocase
        $query_from_input4 = /(Sql|OleDb|Odbc|MySql)(Command|DataAdapter)\s*\(\s*[\w.]+\.(Text|Value|SelectedItem\.Value)\b/ nocase
        $run = /(ExecuteReader|ExecuteNonQuery|ExecuteScalar|\.Fill\s*\(|\.Execute\s*\()/ nocase
        $conn_any = /(Sql|OleDb|Odbc|MySql)Connection\b/ nocase
    condition:
        filesize < 2MB and $run and
        ((any of ($conn_from_input*) and any of ($query_from_input*)) or ($conn_any and $query_from_input3))
}

rule exsweep_typed_path_file_access
{
    meta:
        id = "EXR-MGR-4"
        description = "Server page that opens, writes or lists a path typed into its own form or sent in the request (a TextBox's Text, an input's Value, Request[...]): a file reader or writer for the whole disk"
        severity = "high"
        family = "server manager"
        attack = "T1083"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $typed_path = /(StreamWriter|StreamReader|FileStream|FileInfo|DirectoryInfo|File\s*\.\s*(Exists|Delete|Move|Copy|Create|CreateText|OpenRead|OpenWrite|ReadAll\w*|WriteAll\w*|AppendAll\w*)|Directory\s*\.\s*(Exists|Delete|Move|GetFiles|GetDirectories|CreateDirectory)|\.SaveAs|TransmitFile|WriteFile)\s*\(\s*(this\.)?\w+\.(Text|Value)\s*[,\)\+]/ nocase
        $request_path = /(StreamWriter|StreamReader|FileStream|FileInfo|DirectoryInfo|File\s*\.\s*\w+|Directory\s*\.\s*\w+|TransmitFile|WriteFile)\s*\(\s*(Request|context\.Request)\s*(\.\s*(Params|Form|QueryString|Item))?\s*\[/ nocase
        $server1 = /<\s?%/
        $server2 = /runat\s*=\s*["']?server/ nocase
    condition:
        filesize < 2MB and ($typed_path or $request_path) and any of ($server*)
}

rule exsweep_registry_browser_page
{
    meta:
        id = "EXR-MGR-5"
        description = "Server page that walks the registry hives (HKLM, HKCU, HKU, HKCR) from a key the caller names: a registry browser for finding credentials and configuration"
        severity = "high"
        family = "server manager"
        attack = "T1012"
        reference = "https://attack.mitre.org/techniques/T1012/"
        author = "exsweep"
    strings:
        $hive1 = /Registry\s*\.\s*LocalMachine/ nocase
        $hive2 = /Registry\s*\.\s*CurrentUser/ nocase
        $hive3 = /Registry\s*\.\s*Users/ nocase
        $hive4 = /Registry\s*\.\s*ClassesRoot/ nocase
        $hive5 = /Registry\s*\.\s*CurrentConfig/ nocase
        $open = "OpenSubKey" nocase
        $server1 = /<\s?%/
        $server2 = /runat\s*=\s*["']?server/ nocase
    condition:
        filesize < 2MB and 3 of ($hive*) and $open and any of ($server*)
}

rule exsweep_packet_sniffer_page
{
    meta:
        id = "EXR-MGR-6"
        description = "Server page that opens a raw IP socket in promiscuous mode (SIO_RCVALL through IOControl): a network sniffer run from the web server, for stealing credentials off the wire"
        severity = "critical"
        family = "server manager"
        attack = "T1040"
        reference = "https://attack.mitre.org/techniques/T1040/"
        author = "exsweep"
    strings:
        $raw = /SocketType\s*\.\s*Raw/ nocase
        $ip = /ProtocolType\s*\.\s*IP\b/ nocase
        $ioctl = "IOControl" nocase
        $server1 = /<\s?%/
        $server2 = /runat\s*=\s*["']?server/ nocase
    condition:
        filesize < 2MB and $raw and $ip and $ioctl and any of ($server*)
}
