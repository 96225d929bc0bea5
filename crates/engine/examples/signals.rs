//! Prints the content-heuristic signals of every page below a folder, whether or not
//! they add up to a finding, one line per page: `path<TAB>signal:weight,...`. The
//! measurement behind the weights (`bench/devset.py --signals` runs it); not part of
//! the product.
//!
//! usage: cargo run --release -p exsweep-engine --example signals -- DIR

use exsweep_engine::checks::files::FileSubject;
use exsweep_engine::checks::heuristics::assess;
use exsweep_engine::inventory::Zone;
use std::path::Path;

fn visit(dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            visit(&path, out)?;
            continue;
        }
        let data = std::fs::read(&path)?;
        let name = path.to_string_lossy().replace('/', "\\");
        let subject = FileSubject::new(&name, Zone::Other, &data, true);
        if !subject.is_server_executed() {
            continue;
        }
        let view = exsweep_rules::text_view(&data);
        let fired: Vec<String> = assess(&subject, view.as_deref().unwrap_or(&data))
            .fired
            .iter()
            .map(|s| format!("{}:{}", s.id, s.weight))
            .collect();
        out.push(format!("{}\t{}", path.display(), fired.join(",")));
    }
    Ok(())
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: signals DIR");
        std::process::exit(2);
    };
    let mut lines = Vec::new();
    if let Err(e) = visit(Path::new(&dir), &mut lines) {
        eprintln!("signals: {e}");
        std::process::exit(1);
    }
    lines.sort();
    for line in lines {
        println!("{line}");
    }
}
