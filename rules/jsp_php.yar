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

rule exsweep_php_function_from_text
{
    meta:
        id = "EXR-PHP-4"
        description = "PHP code that makes a function of a variable's text (create_function('', $code), the name written out or held in a variable, as AI-rewritten China Chopper pages spell it in pieces) in a page that reads the request: code from the client run as PHP; create_function was removed in PHP 8, and applications that used it passed literal code"
        severity = "critical"
        family = "PHP"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exsweep"
    strings:
        $php = "<?"
        $function_from_variable = /(create_function|\$[a-z_]\w*)\s*\(\s*(''|"")\s*,\s*@?\$/ nocase
        $request = /_(POST|GET|REQUEST|COOKIE)\b/
    condition:
        filesize < 2MB and $php and $function_from_variable and $request
}

rule exsweep_php_godzilla_xor
{
    meta:
        id = "EXR-PHP-5"
        description = "PHP code that XORs data with a 16-character key taken at index (i+1)&15, in a page that uses the session: the encoding of Godzilla's PHP shell (XOR_BASE64), which keeps its payload in the session, whatever its names and comments"
        severity = "critical"
        family = "encrypted loader"
        attack = "T1505.003"
        reference = "https://github.com/BeichenDream/Godzilla"
        author = "exsweep"
    strings:
        $php = "<?"
        $key_at_next_index = /\$\w+\s*\[\s*\(?\s*\$\w+\s*\+\s*1\s*\)?\s*&\s*15\s*\]/
        $xor = /\]\s*\^\s*\$\w+/
        // Where the shell keeps its payload between requests.
        $session = "session" nocase
    condition:
        filesize < 2MB and $php and $key_at_next_index and $xor and $session
}
