// Encrypted in-memory loaders: Godzilla, Behinder (Ice Scorpion), AntSword and their
// kin receive an encrypted .NET assembly, decrypt it with AES or XOR and load it into
// the worker process, so the page itself holds no command at all.

rule exsweep_assembly_load_from_request
{
    meta:
        id = "EXR-LOAD-1"
        description = "Server page that loads a .NET assembly from request data, decrypted (AES/Rijndael, XOR) or decoded on the way (Godzilla, Behinder, AntSword and similar in-memory shells)"
        severity = "critical"
        family = "encrypted loader"
        attack = "T1620"
        reference = "https://www.microsoft.com/en-us/security/blog/2021/02/11/web-shell-attacks-continue-to-rise/"
        author = "exsweep"
    strings:
        $load1 = /Assembly\s*\.\s*Load\s*\(/ nocase
        $load2 = /GetMethod\s*\(\s*"Load"/ nocase
        $load3 = /\bAssembly\)?\s*\.\s*(Load|LoadFrom|UnsafeLoadFrom)\b/ nocase
        // The application domain's Load takes the same bytes.
        $load4 = /AppDomain\s*\.\s*CurrentDomain\s*\.\s*Load\s*\(/ nocase
        $source1 = /Request\s*\.\s*(BinaryRead|InputStream|Form|Item|Params|Cookies|Headers|QueryString)\b/ nocase
        $source2 = /Request\s*\[/ nocase
        $source3 = "CreateDecryptor" nocase
        $source4 = "TransformFinalBlock" nocase
        $source5 = "FromBase64String" nocase
        $server1 = /<\s?%\s*@/
        $server2 = /runat\s*=\s*["']?server/ nocase
        $server3 = "IHttpHandler" nocase
        $server4 = "WebMethod" nocase
    condition:
        filesize < 2MB and any of ($load*) and any of ($source*) and any of ($server*)
}

rule exsweep_session_cached_payload
{
    meta:
        id = "EXR-LOAD-2"
        description = "A decrypted payload kept in the ASP.NET session and invoked on later requests (Godzilla's `payload` session slot and its copies)"
        severity = "critical"
        family = "encrypted loader"
        attack = "T1620"
        reference = "https://unit42.paloaltonetworks.com/manageengine-godzilla-nglite-kdcsponge/"
        author = "exsweep"
    strings:
        $session = /Session\s*\[\s*"[^"]{1,40}"\s*\]\s*=\s*\(?\s*(System\.Reflection\.)?Assembly/ nocase
        $decrypt1 = "CreateDecryptor" nocase
        $decrypt2 = "TransformFinalBlock" nocase
    condition:
        filesize < 2MB and $session and any of ($decrypt*)
}

rule exsweep_reflected_byte_array_load
{
    meta:
        id = "EXR-LOAD-3"
        description = "Server code that looks up by reflection a method taking one byte array (GetMethod(name, new Type[] { typeof(byte[]) })) in a page that reads the request or decrypts: Assembly.Load with its name hidden (spelled in characters, reversed, base64), as AI-rewritten Godzilla and WolfShell loaders call it; applications load their plug-ins by name or path"
        severity = "critical"
        family = "encrypted loader"
        attack = "T1620"
        reference = "https://attack.mitre.org/techniques/T1620/"
        author = "exsweep"
    strings:
        $byte_array_method = /GetMethod\s*\([^;]{1,300}new\s*(System\s*\.\s*)?(Type\s*)?\[\s*\]\s*\{\s*typeof\s*\(\s*(System\s*\.\s*)?byte\s*\[\s*\]\s*\)\s*\}/ nocase
        $source1 = /Request\s*\.\s*(BinaryRead|InputStream|Form|Item|Params|Cookies|Headers|QueryString)\b/ nocase
        $source2 = /Request\s*\[/ nocase
        $source3 = "CreateDecryptor" nocase
        $source4 = "TransformFinalBlock" nocase
        $server1 = /<\s?%\s*@/
        $server2 = /runat\s*=\s*["']?server/ nocase
        $server3 = "IHttpHandler" nocase
    condition:
        filesize < 2MB and $byte_array_method and any of ($source*) and any of ($server*)
}
