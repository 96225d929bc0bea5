//! `applicationHost.config` as IIS's URL map, then asked both ways.
#![no_main]
use exsweep_engine::webmap::WebMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let map = WebMap::from_config(&String::from_utf8_lossy(data));
    for url in map.urls_of(r"C:\inetpub\wwwroot\aspnet_client\x.aspx") {
        map.files_of(&url);
    }
    map.files_of("/owa/auth/x.aspx");
});
