//! Streaming line selection: hands on only the lines of a log that hold one of a set
//! of needles (and pass the needle's second condition), plus the first lines and the
//! last line of a file. Lines are counted without being parsed, so a busy server's
//! benign traffic costs little more than reading it.
//!
//! The needles are matched case-insensitively by lowering each cache-sized piece into
//! a scratch buffer and searching it case-sensitively: that lets Aho-Corasick use its
//! SIMD (Teddy) search, which an ASCII-case-insensitive automaton cannot, several
//! times faster.

use aho_corasick::{AhoCorasick, Input, MatchKind};
use std::ops::Range;

/// Lines longer than this are skipped (a 2 GB line with no newline must not be buffered).
pub const MAX_LINE: usize = 1 << 20;
/// The size of the pieces a block is searched in: small enough to stay in the L2 cache.
const PIECE: usize = 128 << 10;
/// Lines at the start of each file that are always handed on (headers, first timestamp).
pub const HEAD_LINES: u64 = 8;

/// A literal that selects lines, with an optional second condition for literals that
/// benign traffic holds too (`/ecp/` is in every ECP request; only a few are wanted).
pub struct Needle {
    /// Lower case; matched ASCII-case-insensitively.
    pub text: String,
    pub confirm: Option<Confirm>,
}

/// Given lower-cased text and where the needle lies in it, says whether the line
/// holding the needle is wanted. The text may run on past that line on either side
/// (finding the line's ends first would cost more than most conditions), so a
/// condition looks no further than a line break. Runs only where the needle is.
pub type Confirm = fn(line: &[u8], needle: Range<usize>) -> bool;

impl Needle {
    pub fn plain(text: impl Into<String>) -> Needle {
        Needle {
            text: text.into().to_ascii_lowercase(),
            confirm: None,
        }
    }
}

/// The compiled needles, or every line for logs small and dense enough to parse whole.
pub struct Needles {
    /// `None` selects every line.
    matcher: Option<AhoCorasick>,
    confirms: Vec<Option<Confirm>>,
}

impl Needles {
    pub fn every_line() -> Needles {
        Needles {
            matcher: None,
            confirms: Vec::new(),
        }
    }

    pub fn new(needles: &[Needle]) -> Needles {
        // Leftmost-first lets Aho-Corasick search with its SIMD prefilter (Teddy); it
        // would fall back to a byte-at-a-time automaton for overlapping matches.
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(needles.iter().map(|n| &n.text))
            .expect("literal needles always build");
        Needles {
            matcher: Some(matcher),
            confirms: needles.iter().map(|n| n.confirm).collect(),
        }
    }

    /// Whether a whole line (any case) holds a needle and passes its condition.
    pub fn selects(&self, line: &[u8]) -> bool {
        let Some(matcher) = &self.matcher else {
            return true;
        };
        next_needle(matcher, &self.confirms, &line.to_ascii_lowercase(), 0).is_some()
    }
}

/// Where the next needle from `from` on starts in lower-cased text, counting only
/// those whose condition holds.
fn next_needle(
    matcher: &AhoCorasick,
    confirms: &[Option<Confirm>],
    lowered: &[u8],
    mut from: usize,
) -> Option<usize> {
    while let Some(m) = matcher.find(Input::new(lowered).span(from..lowered.len())) {
        match confirms[m.pattern()] {
            // Another needle may still start inside this one.
            Some(confirm) if !confirm(lowered, m.range()) => from = m.start() + 1,
            _ => return Some(m.start()),
        }
    }
    None
}

/// What a selector counted: lines completed, bytes fed, lines skipped as overlong,
/// NUL bytes.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Counts {
    pub lines: u64,
    pub bytes: u64,
    pub overlong_lines: u64,
    pub nul_bytes: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.overlong_lines += other.overlong_lines;
        self.nul_bytes += other.nul_bytes;
    }
}

/// What the selector hands on for each selected line.
pub trait LineSink {
    /// A selected line (without its line break), with its 1-based number.
    fn line(&mut self, line: &[u8], number: u64);
}

/// Selects lines from a stream of chunks. Feed chunks in order, then call `finish`.
pub struct LineSelector<'a> {
    needles: &'a Needles,
    /// The current block, lower-cased.
    lowered: Vec<u8>,
    /// The unfinished last line of the previous chunk.
    carry: Vec<u8>,
    /// True while skipping the rest of an overlong line.
    skipping: bool,
    /// What was read so far.
    pub counts: Counts,
    last_line: Vec<u8>,
    last_number: u64,
    last_sent: u64,
    /// How many lines at the start are always handed on: the file's first lines, or
    /// none for a segment that starts inside the file.
    head_lines: u64,
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl<'a> LineSelector<'a> {
    /// A selector for a run of a file's lines, which may start the file.
    pub fn new(needles: &'a Needles, starts_file: bool) -> LineSelector<'a> {
        LineSelector {
            needles,
            lowered: Vec::new(),
            carry: Vec::new(),
            skipping: false,
            counts: Counts::default(),
            last_line: Vec::new(),
            last_number: 0,
            last_sent: 0,
            head_lines: if starts_file { HEAD_LINES } else { 0 },
        }
    }

    fn emit(&mut self, line: &[u8], number: u64, sink: &mut dyn LineSink) {
        self.last_sent = number;
        if line.len() <= MAX_LINE {
            sink.line(trim_cr(line), number);
        }
    }

    /// One complete line that did not fit in a block (it spanned chunks).
    fn single(&mut self, line: &[u8], sink: &mut dyn LineSink) {
        self.counts.lines += 1;
        self.counts.nul_bytes += count_nuls(line);
        if self.counts.lines <= self.head_lines || self.needles.selects(line) {
            self.emit(line, self.counts.lines, sink);
        }
        self.remember_last(line, self.counts.lines);
    }

    fn remember_last(&mut self, line: &[u8], number: u64) {
        if line.len() <= MAX_LINE {
            self.last_line.clear();
            self.last_line.extend_from_slice(line);
            self.last_number = number;
        }
    }

    /// A run of complete lines, each ending in `\n`, searched in cache-sized pieces.
    fn block(&mut self, block: &[u8], sink: &mut dyn LineSink) {
        // The first lines of the file are always wanted.
        let mut pos = 0;
        while self.counts.lines < self.head_lines && pos < block.len() {
            let end = memchr::memchr(b'\n', &block[pos..]).map_or(block.len(), |i| pos + i);
            self.counts.lines += 1;
            self.counts.nul_bytes += count_nuls(&block[pos..end]);
            self.emit(&block[pos..end], self.counts.lines, sink);
            pos = end + 1;
        }
        while pos < block.len() {
            let mut end = pos + PIECE;
            if end >= block.len() {
                end = block.len();
            } else if let Some(i) = memchr::memrchr(b'\n', &block[pos..end]) {
                end = pos + i + 1;
            } else {
                end = memchr::memchr(b'\n', &block[end..]).map_or(block.len(), |i| end + i + 1);
            }
            self.piece(&block[pos..end], sink);
            pos = end;
        }
        if block.len() > MAX_LINE {
            let mut previous = 0;
            for nl in memchr::memchr_iter(b'\n', block) {
                if nl - previous > MAX_LINE {
                    self.counts.overlong_lines += 1;
                }
                previous = nl;
            }
        }
        if let Some(last) = block.strip_suffix(b"\n") {
            let start = memchr::memrchr(b'\n', last).map_or(0, |i| i + 1);
            self.remember_last(&last[start..], self.counts.lines);
        }
    }

    /// Whole lines small enough to stay in the CPU cache while they are lowered,
    /// searched and counted: each byte comes from memory once.
    fn piece(&mut self, piece: &[u8], sink: &mut dyn LineSink) {
        let Some(matcher) = &self.needles.matcher else {
            return self.every_line(piece, sink);
        };
        // The scratch only grows: zeroing it for every piece would cost a pass.
        let mut scratch = std::mem::take(&mut self.lowered);
        if scratch.len() < piece.len() {
            scratch.resize(piece.len(), 0);
        }
        let counts = lower_and_count(piece, &mut scratch[..piece.len()]);
        let lowered = &scratch[..piece.len()];
        let mut number = self.counts.lines;
        let mut counted_to = 0;
        let mut from = 0;
        while let Some(at) = next_needle(matcher, &self.needles.confirms, lowered, from) {
            let start = memchr::memrchr(b'\n', &lowered[..at]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &lowered[at..]).map_or(piece.len(), |i| at + i);
            number += count_newlines(&lowered[counted_to..start]);
            counted_to = start;
            self.emit(&piece[start..end], number + 1, sink);
            if end >= piece.len() {
                break;
            }
            from = end + 1;
        }
        self.lowered = scratch;
        self.counts.lines += counts.newlines;
        self.counts.nul_bytes += counts.nuls;
    }

    fn every_line(&mut self, piece: &[u8], sink: &mut dyn LineSink) {
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', piece) {
            self.counts.lines += 1;
            self.emit(&piece[start..end], self.counts.lines, sink);
            start = end + 1;
        }
        self.counts.nul_bytes += count_nuls(piece);
    }

    pub fn feed(&mut self, chunk: &[u8], sink: &mut dyn LineSink) {
        self.counts.bytes += chunk.len() as u64;
        let mut rest = chunk;
        // Finish the line carried over from the previous chunk.
        if self.skipping || !self.carry.is_empty() {
            match memchr::memchr(b'\n', rest) {
                None => {
                    if self.skipping {
                        self.counts.nul_bytes += count_nuls(rest);
                    } else {
                        self.carry.extend_from_slice(rest);
                        if self.carry.len() > MAX_LINE {
                            self.counts.nul_bytes += count_nuls(&self.carry);
                            self.carry.clear();
                            self.skipping = true;
                            self.counts.overlong_lines += 1;
                        }
                    }
                    return;
                }
                Some(i) => {
                    if self.skipping {
                        self.counts.nul_bytes += count_nuls(&rest[..i]);
                        self.skipping = false;
                        self.counts.lines += 1;
                    } else {
                        let mut line = std::mem::take(&mut self.carry);
                        line.extend_from_slice(&rest[..i]);
                        self.single(&line, sink);
                    }
                    rest = &rest[i + 1..];
                }
            }
        }
        let complete = memchr::memrchr(b'\n', rest).map_or(0, |i| i + 1);
        if complete > 0 {
            self.block(&rest[..complete], sink);
        }
        let tail = &rest[complete..];
        if tail.len() > MAX_LINE {
            self.counts.nul_bytes += count_nuls(tail);
            self.skipping = true;
            self.counts.overlong_lines += 1;
        } else {
            self.carry.extend_from_slice(tail);
        }
    }

    /// Whether the bytes fed so far end inside a line.
    pub fn mid_line(&self) -> bool {
        self.skipping || !self.carry.is_empty()
    }

    /// Ends the stream; `ends_file`: it was the end of the file, whose last line is
    /// then handed on too.
    pub fn finish(&mut self, sink: &mut dyn LineSink, ends_file: bool) {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.single(&line, sink);
        }
        if self.skipping {
            self.counts.lines += 1;
        }
        if ends_file && self.last_number > self.last_sent {
            let line = std::mem::take(&mut self.last_line);
            self.emit(&line, self.last_number, sink);
        }
    }
}

struct ByteCounts {
    newlines: u64,
    nuls: u64,
}

/// Copies `src` lower-cased into `dst` (of the same length), counting line breaks and NULs on the way: one
/// pass the compiler vectorises (per-lane byte counters, summed before they overflow),
/// nearly twice as fast as lowering and two counting passes. Compiled twice: for any
/// x86-64 and, picked at run time, for AVX2 (32-byte vectors, half the instructions).
fn lower_and_count(src: &[u8], dst: &mut [u8]) -> ByteCounts {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { lower_and_count_avx2(src, dst) };
    }
    lower_and_count_portable(src, dst)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lower_and_count_avx2(src: &[u8], dst: &mut [u8]) -> ByteCounts {
    lower_and_count_portable(src, dst)
}

#[inline(always)]
fn lower_and_count_portable(src: &[u8], dst: &mut [u8]) -> ByteCounts {
    const LANES: usize = 32;
    let mut counts = ByteCounts {
        newlines: 0,
        nuls: 0,
    };
    for (src, dst) in src.chunks(255 * LANES).zip(dst.chunks_mut(255 * LANES)) {
        let mut newlines = [0u8; LANES];
        let mut nuls = [0u8; LANES];
        let mut src = src.chunks_exact(LANES);
        let mut dst = dst.chunks_exact_mut(LANES);
        for (s, d) in (&mut src).zip(&mut dst) {
            for i in 0..LANES {
                d[i] = s[i].to_ascii_lowercase();
                newlines[i] += u8::from(s[i] == b'\n');
                nuls[i] += u8::from(s[i] == 0);
            }
        }
        for (s, d) in src.remainder().iter().zip(dst.into_remainder()) {
            *d = s.to_ascii_lowercase();
            counts.newlines += u64::from(*s == b'\n');
            counts.nuls += u64::from(*s == 0);
        }
        counts.newlines += newlines.iter().map(|&c| u64::from(c)).sum::<u64>();
        counts.nuls += nuls.iter().map(|&c| u64::from(c)).sum::<u64>();
    }
    counts
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

fn count_nuls(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(0, bytes).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<(u64, String)>);
    impl LineSink for Collect {
        fn line(&mut self, line: &[u8], number: u64) {
            self.0
                .push((number, String::from_utf8_lossy(line).into_owned()));
        }
    }

    fn select(text: &[u8], chunk: usize) -> (Vec<(u64, String)>, u64) {
        let needles = Needles::new(&[Needle::plain("needle"), Needle::plain("other")]);
        let mut sel = LineSelector::new(&needles, true);
        let mut out = Collect(Vec::new());
        for c in text.chunks(chunk) {
            sel.feed(c, &mut out);
        }
        sel.finish(&mut out, true);
        (out.0, sel.counts.lines)
    }

    #[test]
    fn selects_head_needles_and_last_line_whatever_the_chunking() {
        let mut text = String::new();
        for i in 1..=40 {
            let tag = match i {
                15 => " NEEDLE and other",
                22 => " other",
                _ => "",
            };
            text.push_str(&format!("line {i}{tag}\r\n"));
        }
        text.push_str("last without newline");
        for chunk in [3, 7, 64, 100_000] {
            let (lines, count) = select(text.as_bytes(), chunk);
            let numbers: Vec<u64> = lines.iter().map(|(n, _)| *n).collect();
            assert_eq!(
                numbers,
                vec![1, 2, 3, 4, 5, 6, 7, 8, 15, 22, 41],
                "chunk {chunk}"
            );
            assert_eq!(count, 41);
            assert_eq!(lines[8].1, "line 15 NEEDLE and other");
            assert_eq!(lines[10].1, "last without newline");
        }
    }

    #[test]
    fn overlong_lines_are_skipped_not_buffered() {
        let mut text = b"head\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        text.extend_from_slice(b"\nafter needle\n");
        let (lines, count) = select(&text, 64 << 10);
        assert_eq!(count, 3);
        assert_eq!(lines.last().unwrap(), &(3, "after needle".to_string()));
    }

    #[test]
    fn lowering_counts_line_breaks_and_nuls_across_lane_blocks() {
        // Longer than 255 blocks of 32 bytes, with a ragged end, so every path runs.
        let text: Vec<u8> = (0..9000u32)
            .map(|i| match i % 7 {
                0 => b'\n',
                3 if i % 3 == 0 => 0,
                _ => b'A' + (i % 26) as u8,
            })
            .collect();
        let mut lowered = vec![0; text.len()];
        let counts = lower_and_count(&text, &mut lowered);
        assert_eq!(lowered, text.to_ascii_lowercase());
        assert_eq!(counts.newlines, count_newlines(&text));
        assert_eq!(counts.nuls, count_nuls(&text));
        assert!(counts.nuls > 0);
    }
}
