// JSP and PHP shells: IIS hosts PHP through FastCGI and Java through connectors, and
// attackers on Windows web servers drop whatever the server runs.

rule exsweep_jsp_exec_request
{
    meta:
        id = "EXR-JSP-1"
        description = "JSP code that runs an OS command or script engine with request data (Runtime.exec, ProcessBuilder, ScriptEngine of request.getParameter)"
        severity = "critical"
        family = "JSP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $jsp = /<%(@|!|=|\s)/
        $exec1 = /Runtime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec\s*\(/
        $exec2 = /new\s+ProcessBuilder\s*\(/
        $exec3 = /ScriptEngineManager\s*\(\s*\)\s*\.\s*getEngineByName/
        $request = /request\s*\.\s*(getParameter|getHeader|getInputStream|getReader)\s*\(/
    condition:
        filesize < 2MB and $jsp and any of ($exec*) and $request
}

rule exsweep_jsp_class_loader_shell
{
    meta:
        id = "EXR-JSP-2"
        description = "JSP code that decrypts request data and defines a class from it (Behinder, Godzilla and AntSword JSP loaders)"
        severity = "critical"
        family = "JSP"
        attack = "T1620"
        reference = "https://github.com/rebeyond/Behinder"
        author = "exsweep"
    strings:
        $jsp = /<%(@|!|=|\s)/
        $define = /(defineClass|ClassLoader)\s*[\(\.]/
        $cipher = /(Cipher\s*\.\s*getInstance|SecretKeySpec|BASE64Decoder|Base64\s*\.\s*getDecoder)/
        $request = /request\s*\.\s*(getParameter|getReader|getInputStream)\s*\(/
    condition:
        filesize < 2MB and $jsp and $define and $cipher and $request
}

rule exsweep_php_eval_request
{
    meta:
        id = "EXR-PHP-1"
        description = "PHP code that evaluates or executes request data (eval, assert, system, passthru, shell_exec, popen, backticks of $_GET/$_POST/$_REQUEST/$_COOKIE/$_SERVER)"
        severity = "critical"
        family = "PHP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $php = "<?"
        $sink_request = /\b(eval|assert|system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec|create_function|call_user_func(_array)?)\s*\(\s*(@\s*)?(stripslashes\s*\(\s*|trim\s*\(\s*|base64_decode\s*\(\s*|str_rot13\s*\(\s*|gzinflate\s*\(\s*)*\$_(GET|POST|REQUEST|COOKIE|SERVER|FILES)\s*\[/ nocase
        $backtick = /`\$_(GET|POST|REQUEST|COOKIE)\s*\[/ nocase
    condition:
        filesize < 2MB and $php and ($sink_request or $backtick)
}

rule exsweep_php_packed_eval
{
    meta:
        id = "EXR-PHP-2"
        description = "PHP code that evaluates decoded or decompressed text (eval(base64_decode(...)), eval(gzinflate(...)), preg_replace with /e): a packed PHP shell"
        severity = "high"
        family = "PHP"
        attack = "T1027"
        reference = "https://attack.mitre.org/techniques/T1027/"
        author = "exsweep"
    strings:
        $php = "<?"
        $packed = /\b(eval|assert)\s*\(\s*(@\s*)?(base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|hex2bin)\s*\(/ nocase
        $preg_e = /preg_replace\s*\(\s*["']\/[^"'\n]{1,100}\/[a-z]*e[a-z]*["']\s*,/ nocase
    condition:
        filesize < 2MB and $php and ($packed or $preg_e)
}

rule exsweep_php_upload_as_named
{
    meta:
        id = "EXR-PHP-3"
        description = "PHP code that saves an uploaded file under the name the client gave it (move_uploaded_file to a path built from $_FILES[...]['name']): an uploader that plants any file, a shell included"
        severity = "medium"
        family = "PHP"
        attack = "T1105"
        reference = "https://attack.mitre.org/techniques/T1105/"
        author = "exsweep"
    strings:
        $php = "<?"
        $move = /move_uploaded_file\s*\(/ nocase
        $client_name = /\$_FILES\s*\[\s*['"][^'"]{1,40}['"]\s*\]\s*\[\s*['"]name['"]\s*\]/ nocase
    condition:
        filesize < 2MB and $php and $move and $client_name
}
