// ASP.NET memory-shell injectors: a page (or a planted assembly) that, once requested,
// registers code in the running application — a VirtualPathProvider serving pages that
// exist nowhere on disk, a route, an MVC filter, an HTTP module or event handler, or an
// HttpListener of its own — and can then be deleted. The file is the only trace left.

rule exsweep_virtual_path_provider_injection
{
    meta:
        id = "EXR-MEM-1"
        description = "Code that registers a VirtualPathProvider at run time from a page or handler, so the application serves pages that exist only in memory (a fileless ASP.NET web shell)"
        severity = "critical"
        family = "memory shell"
        attack = "T1505.003"
        reference = "https://github.com/A-D-Team/SharpMemshell"
        author = "exsweep"
    strings:
        $register1 = "RegisterVirtualPathProvider" nocase ascii wide
        $register2 = "RegisterVirtualPathProviderInternal" nocase ascii wide
        $provider = "VirtualPathProvider" nocase ascii wide
        $server1 = /<\s?%\s*@\s*(Page|WebHandler|WebService)/ nocase
        $server2 = /runat\s*=\s*["']?server/ nocase
        $server3 = "IHttpHandler" nocase
    condition:
        filesize < 2MB and any of ($register*) and $provider and any of ($server*)
}

rule exsweep_route_or_filter_injection
{
    meta:
        id = "EXR-MEM-2"
        description = "A page that adds a route, an MVC filter or an application event handler at run time (RouteTable.Routes, GlobalFilters, HttpApplication events): code injected into every later request"
        severity = "high"
        family = "memory shell"
        attack = "T1505.003"
        reference = "https://github.com/A-D-Team/SharpMemshell"
        author = "exsweep"
    strings:
        $route = /RouteTable\s*\.\s*Routes\s*\.\s*(Add|Insert|MapPageRoute)\s*\(/ nocase
        $filter = /GlobalFilters\s*\.\s*Filters\s*\.\s*Add\s*\(/ nocase
        $event = /\.(BeginRequest|PostAuthenticateRequest|PostMapRequestHandler|PreRequestHandlerExecute|EndRequest)\s*\+=/ nocase
        $module = /(_moduleCollection|HttpModuleCollection|"_modules")/ nocase
        $page1 = /<\s?%\s*@\s*(Page|WebHandler|WebService)/ nocase
        $page2 = "IHttpHandler" nocase
    condition:
        filesize < 2MB and any of ($page*) and any of ($route, $filter, $event, $module)
}

rule exsweep_httplistener_backdoor
{
    meta:
        id = "EXR-MEM-3"
        description = "Code that starts its own HttpListener from a page, script or planted assembly: a back door that answers on a URL prefix of its own, outside IIS logging"
        severity = "critical"
        family = "memory shell"
        attack = "T1505.003"
        reference = "https://www.welivesecurity.com/2021/03/10/exchange-servers-under-siege-10-apt-groups/"
        author = "exsweep"
    strings:
        $listener = /new\s+(System\.Net\.)?HttpListener\s*\(/ nocase ascii wide
        $listener_ps = /New-Object\s+(System\.)?Net\.HttpListener/ nocase ascii wide
        $prefix = /Prefixes\s*\.\s*Add/ nocase ascii wide
        $sink1 = "ProcessStartInfo" nocase ascii wide
        $sink2 = /Assembly\s*\.\s*Load/ nocase ascii wide
        $sink3 = /(iex|Invoke-Expression)\b/ nocase ascii wide
        $sink4 = "cmd.exe" nocase ascii wide
    condition:
        filesize < 5MB and ($listener or $listener_ps) and $prefix and any of ($sink*)
}
