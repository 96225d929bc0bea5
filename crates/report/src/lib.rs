//! The outputs: renderers from a [`Report`](exsweep_model::Report) to what people
//! and tools read. No detection logic lives here.

pub mod console;
pub mod csv;
pub mod ecs;
pub mod html;
pub mod jsonl;
pub mod overview;
pub mod saved;
pub mod timeline;
pub mod timesketch;

/// The output formats `--format` offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A report for a person: verdict, findings by severity, coverage.
    Console,
    /// One JSON object a line: every finding, then a summary record.
    Jsonl,
    /// One finding a row, for spreadsheets.
    Csv,
    /// Timesketch's JSONL: one event per timestamp, oldest first.
    Timesketch,
    /// Elastic Common Schema alerts, one document a line.
    Ecs,
}

/// Renders a report in the chosen format.
pub fn render(
    report: &exsweep_model::Report,
    format: Format,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Console => console::write(report, out),
        Format::Jsonl => jsonl::write(report, out),
        Format::Csv => csv::write(report, out),
        Format::Timesketch => timesketch::write(report, out),
        Format::Ecs => ecs::write(report, out),
    }
}
