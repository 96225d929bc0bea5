//! A panic while reading one file (a bug met on hostile evidence) must not end the
//! scan: [`contain`] turns it into a warning that names the file, and the scan goes on
//! without that file's findings.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `work` on the file at `windows_path`; a panic becomes `Err(warning)`.
pub fn contain<T>(windows_path: &str, work: impl FnOnce() -> T) -> Result<T, String> {
    // The work's state is thrown away on a panic, so no broken invariant is seen again.
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        format!(
            "{}: exsweep failed while reading this file ({}); the scan went on without it: \
             please report it, and check the file by hand",
            exsweep_model::printable(windows_path.as_bytes()),
            exsweep_model::printable(why.as_bytes())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_warning_naming_the_file() {
        assert_eq!(contain(r"C:\ok.log", || 7), Ok(7));
        let warning = contain(r"C:\inetpub\logs\bad.log", || -> u8 {
            panic!("index out of range at byte {}", 12)
        })
        .unwrap_err();
        assert!(
            warning.starts_with(r"C:\inetpub\logs\bad.log: exsweep failed"),
            "{warning}"
        );
        assert!(
            warning.contains("index out of range at byte 12"),
            "{warning}"
        );
        let plain = contain("x", || -> u8 { panic!("static text") }).unwrap_err();
        assert!(plain.contains("(static text)"), "{plain}");
    }
}
