//! Line selection for one log file, in parallel when the file is large and on disk:
//! the file is cut into segments, each segment's lines are selected by whichever
//! worker is free, and the selected lines are then handed on in file order with their
//! line numbers in the file. The parse downstream (a `#Fields:` change, the first and
//! last lines) sees exactly what one pass over the file would show it.
//!
//! Selected lines wait in memory under one budget for the whole hunt; a segment that
//! would go over it keeps only its counts and is selected again when its turn comes,
//! so memory stays bounded whatever the logs hold.

use super::lines::{Counts, LineSelector, LineSink, Needles, HEAD_LINES};
use exsweep_evidence::{Evidence, FileEntry};
use rayon::prelude::*;
use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The read size: with the piece being searched, small enough to stay in the L2 cache.
const CHUNK: usize = 256 << 10;

/// How a file is cut, and how many bytes of selected lines may wait in memory.
pub struct Plan {
    pub segment: u64,
    budget: AtomicUsize,
}

impl Plan {
    pub fn new(segment: u64, budget: usize) -> Plan {
        Plan {
            segment,
            budget: AtomicUsize::new(budget),
        }
    }

    fn take(&self, bytes: usize) -> bool {
        self.budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.budget.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Selects a file's lines into `sink`, in order. Read errors end the affected part
/// and are returned after everything readable was selected.
pub fn select(
    evidence: &Evidence,
    file: &FileEntry,
    needles: &Needles,
    plan: &Plan,
    sink: &mut dyn LineSink,
) -> (Counts, Option<io::Error>) {
    let Some(ranges) = segments(evidence, file, plan.segment) else {
        return select_range(evidence, file, needles, 0..u64::MAX, sink);
    };
    let selected: Vec<(Range<u64>, Waiting, Counts, Option<io::Error>)> = ranges
        .into_par_iter()
        .map(|range| {
            let mut waiting = Waiting {
                plan,
                lines: Vec::new(),
                bytes: 0,
                over_budget: false,
            };
            let (counts, error) =
                select_range(evidence, file, needles, range.clone(), &mut waiting);
            (range, waiting, counts, error)
        })
        .collect();
    let mut total = Counts::default();
    let mut first_error = None;
    for (range, waiting, counts, error) in selected {
        let mut numbered = Renumbered {
            sink: &mut *sink,
            offset: total.lines,
        };
        if waiting.over_budget {
            select_range(evidence, file, needles, range, &mut numbered);
        } else {
            for (number, line) in &waiting.lines {
                numbered.line(line, *number);
            }
        }
        total.add(&counts);
        first_error = first_error.or(error);
    }
    (total, first_error)
}

/// How a large file on disk is cut, or `None` to read it in one pass. Segments own
/// the lines that start inside them; the last reads on to the end, however far the
/// file has grown since it was listed.
fn segments(evidence: &Evidence, file: &FileEntry, segment: u64) -> Option<Vec<Range<u64>>> {
    if !evidence.seekable(file) || file.size < 2 * segment {
        return None;
    }
    // The first segment holds at least the file's first lines, which are always
    // handed on (headers, the first timestamp).
    let head = head_end(evidence, file, segment)?;
    let cuts: Vec<u64> = (1..file.size.div_ceil(segment))
        .map(|k| k * segment)
        .filter(|&cut| cut >= head)
        .collect();
    Some(
        std::iter::once(0)
            .chain(cuts.iter().copied())
            .zip(cuts.iter().copied().chain([u64::MAX]))
            .map(|(start, end)| start..end)
            .collect(),
    )
}

/// Where the file's first lines end, if within `limit` bytes.
fn head_end(evidence: &Evidence, file: &FileEntry, limit: u64) -> Option<u64> {
    let mut offset = 0u64;
    let mut lines = 0;
    let mut end = None;
    let _ = evidence.read_chunks(file, 0, CHUNK, &mut |chunk| {
        for i in memchr::memchr_iter(b'\n', chunk) {
            lines += 1;
            if lines == HEAD_LINES {
                end = Some(offset + i as u64 + 1);
                return false;
            }
        }
        offset += chunk.len() as u64;
        offset < limit
    });
    end
}

/// Selected lines of one segment, waiting for their turn.
struct Waiting<'p> {
    plan: &'p Plan,
    lines: Vec<(u64, Vec<u8>)>,
    bytes: usize,
    over_budget: bool,
}

impl LineSink for Waiting<'_> {
    fn line(&mut self, line: &[u8], number: u64) {
        if self.over_budget {
            return;
        }
        if !self.plan.take(line.len()) {
            self.over_budget = true;
            self.lines = Vec::new();
            self.plan.give_back(std::mem::take(&mut self.bytes));
            return;
        }
        self.bytes += line.len();
        self.lines.push((number, line.to_vec()));
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.plan.give_back(self.bytes);
    }
}

/// Hands lines on with the number they have in the whole file.
struct Renumbered<'s> {
    sink: &'s mut dyn LineSink,
    offset: u64,
}

impl LineSink for Renumbered<'_> {
    fn line(&mut self, line: &[u8], number: u64) {
        self.sink.line(line, self.offset + number);
    }
}

/// Selects the lines that start in `range` of the file (numbered from 1 within it):
/// a segment after the first skips the line it starts inside (its predecessor's), and
/// every segment finishes the line it ends inside.
fn select_range(
    evidence: &Evidence,
    file: &FileEntry,
    needles: &Needles,
    range: Range<u64>,
    sink: &mut dyn LineSink,
) -> (Counts, Option<io::Error>) {
    let mut selector = LineSelector::new(needles, range.start == 0);
    // Whether the read stopped before the end of the file.
    let mut stopped = false;
    // From the byte before the segment: if it is a line break, the segment starts
    // on a line of its own.
    let mut offset = range.start.saturating_sub(1);
    let mut in_first_line = range.start > 0;
    let read = evidence.read_chunks(file, offset, CHUNK, &mut |mut chunk| {
        let go_on = 'chunk: {
            if in_first_line {
                let Some(i) = memchr::memchr(b'\n', chunk) else {
                    offset += chunk.len() as u64;
                    break 'chunk offset < range.end;
                };
                offset += i as u64 + 1;
                chunk = &chunk[i + 1..];
                in_first_line = false;
                if offset >= range.end {
                    break 'chunk false; // no line starts in this segment
                }
            }
            let chunk_start = offset;
            offset += chunk.len() as u64;
            if offset <= range.end {
                selector.feed(chunk, sink);
                break 'chunk true;
            }
            // The chunk crosses the segment's end: its lines, then the rest of the
            // line the end falls in.
            let inside = range.end.saturating_sub(chunk_start) as usize;
            selector.feed(&chunk[..inside], sink);
            if !selector.mid_line() {
                break 'chunk false;
            }
            let rest = &chunk[inside..];
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    selector.feed(&rest[..=i], sink);
                    false
                }
                None => {
                    selector.feed(rest, sink);
                    true
                }
            }
        };
        stopped = !go_on;
        go_on
    });
    // The segment that reads to the end of the file hands on its last line.
    selector.finish(sink, !stopped);
    (selector.counts, read.err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Needle;
    use exsweep_evidence::Evidence;

    struct Collect(Vec<(u64, Vec<u8>)>);
    impl LineSink for Collect {
        fn line(&mut self, line: &[u8], number: u64) {
            self.0.push((number, line.to_vec()));
        }
    }

    #[test]
    fn segments_select_what_one_pass_selects() {
        // Lines of many lengths, needles near every cut, a long line across cuts,
        // CRLF; a short last line without a break, or a long one a cut falls in.
        let mut text = Vec::new();
        for i in 0..3000u32 {
            let len = (i * 7919) % 97;
            text.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len as usize));
            if i % 13 == 0 {
                text.extend_from_slice(b" NEEDLE");
            }
            if i == 1500 {
                text.extend(std::iter::repeat_n(b'z', 5000));
            }
            text.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
        }
        let mut long_end = text.clone();
        text.extend_from_slice(b"last line without a break");
        long_end.extend(std::iter::repeat_n(b'y', 4000));
        for text in [text, long_end] {
            same_selection_in_segments(&text);
        }
    }

    fn same_selection_in_segments(text: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("inetpub/logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join("u_ex1.log"), text).unwrap();
        let evidence = Evidence::open(dir.path(), None, &[]).unwrap();
        let (files, _) = evidence.list_files(&[r"C:\inetpub\logs".to_string()], &[]);
        let file = &files[0];
        let needles = Needles::new(&[Needle::plain("needle")]);

        let mut whole = Collect(Vec::new());
        let (whole_counts, error) =
            select_range(&evidence, file, &needles, 0..u64::MAX, &mut whole);
        assert!(error.is_none());
        assert_eq!(whole_counts.bytes, text.len() as u64);
        for (segment, budget) in [
            (1000, 1 << 20),
            (4096, 1 << 20),
            (333, 1 << 20),
            (333, 0),
            (1777, 600),
        ] {
            let plan = Plan::new(segment, budget);
            let mut parts = Collect(Vec::new());
            let (counts, error) = select(&evidence, file, &needles, &plan, &mut parts);
            assert!(error.is_none());
            assert_eq!(counts, whole_counts, "segment {segment}");
            let numbers = |c: &Collect| c.0.iter().map(|(n, _)| *n).collect::<Vec<_>>();
            assert_eq!(
                numbers(&parts),
                numbers(&whole),
                "segment {segment}, budget {budget}"
            );
            assert!(
                parts.0 == whole.0,
                "segment {segment}, budget {budget}: contents differ"
            );
            assert_eq!(
                plan.budget.load(Ordering::Relaxed),
                budget,
                "budget returned"
            );
        }
    }
}
