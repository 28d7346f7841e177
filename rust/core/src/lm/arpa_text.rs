//! Making ARPA text fast: values and words appended to byte buffers with few
//! calls, and the writing of one batch overlapped with the formatting of the
//! next. Both ARPA writers (the in-memory model's and the streaming
//! pipeline's) format blocks of lines in parallel and write them in order
//! through [`write_pipelined`].

use std::io::Write;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use crate::control::Control;
use crate::tokenize::UNK;

/// Append the ARPA text of `v` to `out`: the shortest decimal that reads
/// back as the same f32, in plain notation (`-1.2345`, `0`, `-inf`), and in
/// exponent notation (`-1.5e-7`) below 1e-6, ties to the even digit as lmplz
/// (double-conversion) prints them.
///
/// Ryu gives the shortest round-trip digits with exact ties to even, which is
/// double-conversion's rule; only the notation is rewritten here, in a stack
/// buffer appended at once. The rare values below 1e-6 take the slow path,
/// which prints Rust's exponent form.
#[inline]
pub(crate) fn push_value(out: &mut Vec<u8>, v: f32, ryu: &mut ryu::Buffer) {
    if v == f32::NEG_INFINITY {
        out.extend_from_slice(b"-inf");
        return;
    }
    if v == 0.0 {
        out.push(b'0');
        return;
    }
    if !v.is_finite() || v.abs() < 1e-6 {
        out.extend_from_slice(format!("{v:e}").as_bytes());
        return;
    }
    let text = ryu.format_finite(v).as_bytes();
    // Most values come out of ryu in plain notation already ("-1.2345",
    // "0.00123"; shortest digits, so no trailing zero but that of "-2.0"):
    // they are copied as they are, or with ".0" cut.
    if !text.contains(&b'e') {
        out.extend_from_slice(text.strip_suffix(b".0").unwrap_or(text));
        return;
    }
    push_rewritten(out, text);
}

/// Append ryu's `text` of a value in plain notation: the digits around the
/// point where the exponent puts it (also correct for plain input).
fn push_rewritten(out: &mut Vec<u8>, text: &[u8]) {
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (
            &text[..at],
            std::str::from_utf8(&text[at + 1..])
                .ok()
                .and_then(|e| e.parse::<i32>().ok())
                .unwrap_or(0),
        ),
        None => (text, 0),
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&b| b == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &mantissa[mantissa.len()..]),
    };
    // All digits, and where the decimal point falls among them.
    let mut digits = [0u8; 40];
    let mut len = 0usize;
    for &b in int_part.iter().chain(frac_part) {
        if len < digits.len() {
            digits[len] = b;
            len += 1;
        }
    }
    let mut point = int_part.len() as i32 + exponent;
    let mut start = 0;
    while start < len && digits[start] == b'0' {
        start += 1;
        point -= 1;
    }
    while len > start && digits[len - 1] == b'0' {
        len -= 1;
    }
    let digits = &digits[start..len];
    let n = digits.len() as i32;
    // The text, built in place: at most a sign, "0.", the zeros a point
    // far left or right of the digits needs (|exponent| < 39 for an f32),
    // the digits and a point.
    let mut buf = [0u8; 80];
    let mut at = 0usize;
    let mut put = |bytes: &[u8]| {
        buf[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    if negative {
        put(b"-");
    }
    if point <= 0 {
        put(b"0.");
        for _ in 0..-point {
            put(b"0");
        }
        put(digits);
    } else if point >= n {
        put(digits);
        for _ in 0..point - n {
            put(b"0");
        }
    } else {
        put(&digits[..point as usize]);
        put(b".");
        put(&digits[point as usize..]);
    }
    out.extend_from_slice(&buf[..at]);
}

/// Entries of [`ValueText`]'s cache.
const CACHED_VALUES: usize = 1024;

/// [`push_value`] with a small cache of recent values' text: an ARPA file
/// repeats values (half of a 5-gram section's probabilities were among the
/// last 256 distinct ones on Gutenberg), and a hit is one 16-byte copy where
/// formatting takes ryu and the rewriting of its notation. Keyed by the f32's
/// bits, so the text is exactly [`push_value`]'s.
pub(crate) struct ValueText {
    ryu: ryu::Buffer,
    /// (bits, length, text) per slot; length 0 is an empty slot.
    cache: Box<[(u32, u8, [u8; 16])]>,
}

impl ValueText {
    pub(crate) fn new() -> Self {
        Self {
            ryu: ryu::Buffer::new(),
            cache: vec![(0, 0, [0; 16]); CACHED_VALUES].into_boxed_slice(),
        }
    }

    /// Append the ARPA text of `v` to `out`.
    #[inline]
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, v: f32) {
        let bits = v.to_bits();
        let slot = (bits.wrapping_mul(0x9e37_79b9) >> 22) as usize % CACHED_VALUES;
        let (key, len, text) = &mut self.cache[slot];
        if *len != 0 && *key == bits {
            let end = out.len() + *len as usize;
            out.extend_from_slice(text);
            out.truncate(end);
            return;
        }
        let start = out.len();
        push_value(out, v, &mut self.ryu);
        let written = &out[start..];
        if written.len() <= text.len() {
            text[..written.len()].copy_from_slice(written);
            *key = bits;
            *len = written.len() as u8;
        }
    }
}

/// A word's entry in [`WordTable`]: up to 15 bytes of text and, in the last
/// byte, their length; or [`LONG`] there and the span of a longer word in
/// the first 8 bytes. Aligned so that an entry is one cache line's part.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct WordSlot([u8; 16]);

/// The length byte of a word longer than a slot holds.
const LONG: u8 = u8::MAX;

/// How many lines ahead writers prefetch words ([`WordTable::prefetch_line`]).
pub(crate) const PREFETCH_LINES: usize = 8;

/// A vocabulary's words in 16-byte slots, appended to text with one
/// fixed-size copy each. Lines of a high order name words at random among a
/// million, so each word costs a cache miss: one slot holds both the text
/// and its length (one miss, not two), and writers prefetch the slots of
/// the lines a few ahead ([`WordTable::prefetch`]).
pub(crate) struct WordTable {
    slots: Vec<WordSlot>,
    /// The text of the words longer than 15 bytes.
    long: Vec<u8>,
}

impl WordTable {
    /// The table of `words`; ids past them are written as `<unk>`.
    pub(crate) fn new(words: &[String]) -> Self {
        let mut slots = Vec::with_capacity(words.len() + 1);
        let mut long = Vec::new();
        for word in words.iter().map(String::as_str).chain([UNK]) {
            let bytes = word.as_bytes();
            let mut slot = [0u8; 16];
            if bytes.len() < 16 {
                slot[..bytes.len()].copy_from_slice(bytes);
                slot[15] = bytes.len() as u8;
            } else {
                slot[..4].copy_from_slice(&(long.len() as u32).to_le_bytes());
                slot[4..8].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
                slot[15] = LONG;
                long.extend_from_slice(bytes);
            }
            slots.push(WordSlot(slot));
        }
        Self { slots, long }
    }

    /// The slot index of word `id` (`<unk>`'s for ids past the vocabulary).
    #[inline(always)]
    fn index(&self, id: u32) -> usize {
        (id as usize).min(self.slots.len() - 1)
    }

    /// Start loading the slots of the words of line `line` of `keys`
    /// (`n` ids a line), if there is one: called [`PREFETCH_LINES`] lines
    /// ahead of the line being written.
    #[inline(always)]
    pub(crate) fn prefetch_line(&self, keys: &[u32], n: usize, line: usize) {
        if let Some(ids) = keys.get(line * n..(line + 1) * n) {
            for &id in ids {
                self.prefetch(id);
            }
        }
    }

    /// Start loading word `id`'s slot (a hint).
    #[inline(always)]
    pub(crate) fn prefetch(&self, id: u32) {
        super::level::prefetch(&self.slots, self.index(id));
    }

    /// Append word `id` to `out`.
    #[inline(always)]
    pub(crate) fn push(&self, id: u32, out: &mut Vec<u8>) {
        let slot = &self.slots[self.index(id)].0;
        let len = slot[15];
        if len != LONG {
            // Copy all 16 bytes (one move) and cut back to the word.
            let end = out.len() + len as usize;
            out.extend_from_slice(slot);
            out.truncate(end);
        } else {
            let at = |i: usize| u32::from_le_bytes(slot[i..i + 4].try_into().expect("4 bytes"));
            let (start, len) = (at(0) as usize, at(4) as usize);
            out.extend_from_slice(&self.long[start..start + len]);
        }
    }
}

/// Append one ARPA line: the log10 probability, the words of `key` (in
/// text order), the backoff when the order has one.
#[inline]
pub(crate) fn push_line(
    text: &mut Vec<u8>,
    logprob: f32,
    key: impl IntoIterator<Item = u32>,
    backoff: Option<f32>,
    words: &WordTable,
    values: &mut ValueText,
) {
    values.push(text, logprob);
    text.push(b'\t');
    for (j, id) in key.into_iter().enumerate() {
        if j > 0 {
            text.push(b' ');
        }
        words.push(id, text);
    }
    if let Some(backoff) = backoff {
        text.push(b'\t');
        values.push(text, backoff);
    }
    text.push(b'\n');
}

/// The formatting side of [`write_pipelined`]: hands blocks of text over to
/// be written in order, and gives back buffers already written (cleared,
/// their memory kept: no page is faulted in anew for each block).
pub(crate) struct TextSink {
    full: Sender<(Vec<Vec<u8>>, u64)>,
    empty: Receiver<Vec<u8>>,
}

impl TextSink {
    /// An empty buffer to format into, with room for about `bytes`.
    pub(crate) fn buffer(&self, bytes: usize) -> Vec<u8> {
        let mut buf = self.empty.try_recv().unwrap_or_default();
        buf.reserve(bytes);
        buf
    }

    /// Queue `texts` (written in order) holding `lines` lines; false once
    /// the writer has stopped (an error it reports).
    pub(crate) fn send(&self, texts: Vec<Vec<u8>>, lines: u64) -> bool {
        self.full.send((texts, lines)).is_ok()
    }
}

/// Run `fill` on a helper thread, writing to `out` on this one every block
/// of text it sends, in order: the writing of one batch overlaps the
/// formatting of the next. Steps are added to `control` as lines are
/// written. Returns the write's result and `fill`'s; a failed write stops
/// `fill` (its next send returns false).
pub(crate) fn write_pipelined<R: Send>(
    out: &mut dyn Write,
    control: &Control,
    fill: impl FnOnce(&TextSink) -> R + Send,
) -> (std::io::Result<()>, R) {
    let (full_tx, full_rx) = bounded::<(Vec<Vec<u8>>, u64)>(2);
    let (empty_tx, empty_rx) = unbounded::<Vec<u8>>();
    std::thread::scope(|scope| {
        let filler = scope.spawn(move || {
            let sink = TextSink {
                full: full_tx,
                empty: empty_rx,
            };
            fill(&sink)
        });
        let mut written = Ok(());
        for (texts, lines) in full_rx.iter() {
            for text in &texts {
                if let Err(e) = out.write_all(text) {
                    written = Err(e);
                    break;
                }
            }
            if written.is_err() {
                break;
            }
            control.add_steps(lines);
            for mut text in texts {
                text.clear();
                // The filler may be gone already: nothing to give back to.
                let _ = empty_tx.send(text);
            }
        }
        // A failed write drops the receiver, which stops the filler.
        drop(full_rx);
        let filled = filler
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (written, filled)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_values_print_as_push_value_does() {
        let mut cached = ValueText::new();
        let mut ryu = ryu::Buffer::new();
        let mut rng = 7u64;
        let mut values: Vec<f32> = Vec::new();
        for i in 0..200_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            // Repeats from a small pool, fresh values, and the special ones.
            values.push(match i % 4 {
                0 => -((rng % 300) as f32) / 37.0,
                1 => f32::from_bits(rng as u32),
                2 => -f32::from_bits(0x3f00_0000 | (rng as u32 & 0x7fff)),
                _ => [0.0, -0.0, f32::NEG_INFINITY, -1e-7, -123456.78, -1.5][(rng % 6) as usize],
            });
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for &v in &values {
            cached.push(&mut a, v);
            a.push(b' ');
            push_value(&mut b, v, &mut ryu);
            b.push(b' ');
        }
        assert_eq!(a, b);
    }

    #[test]
    fn plain_values_are_copied_as_the_rewriting_would_print_them() {
        let mut ryu = ryu::Buffer::new();
        let mut rng = 99u64;
        let mut checked = 0;
        for i in 0..300_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let v = match i % 3 {
                0 => f32::from_bits(rng as u32),
                1 => -((rng % 100_000) as f32) / 997.0,
                _ => ((rng % 4000) as f32 - 2000.0) * 10f32.powi((rng >> 40) as i32 % 12 - 6),
            };
            if !v.is_finite() || v == 0.0 || v.abs() < 1e-6 {
                continue;
            }
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            push_value(&mut fast, v, &mut ryu);
            push_rewritten(&mut slow, ryu.format_finite(v).as_bytes());
            assert_eq!(fast, slow, "{v:e}");
            let back: f32 = std::str::from_utf8(&fast).unwrap().parse().unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v:e} reads back");
            checked += 1;
        }
        assert!(checked > 100_000);
    }

    #[test]
    fn words_are_copied_whole_whatever_their_length() {
        let words: Vec<String> = [
            "a",
            "",
            "exactly16bytes!!",
            "seventeen-bytes!!",
            "é",
            "fifteen-bytes!!",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect();
        let table = WordTable::new(&words);
        let mut out = Vec::new();
        for id in [0u32, 1, 2, 3, 4, 5, 99, 0] {
            table.push(id, &mut out);
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a||exactly16bytes!!|seventeen-bytes!!|é|fifteen-bytes!!|<unk>|a|"
        );
    }

    #[test]
    fn pipelined_blocks_are_written_in_order_and_errors_stop_the_filler() {
        let control = Control::new();
        let mut out = Vec::new();
        let (written, sent) = write_pipelined(&mut out, &control, |sink| {
            let mut sent = 0;
            for i in 0..100u32 {
                let mut a = sink.buffer(8);
                a.extend_from_slice(format!("{i},").as_bytes());
                let mut b = sink.buffer(8);
                b.extend_from_slice(b";");
                if !sink.send(vec![a, b], 1) {
                    break;
                }
                sent += 1;
            }
            sent
        });
        written.unwrap();
        assert_eq!(sent, 100);
        let want: String = (0..100).map(|i| format!("{i},;")).collect();
        assert_eq!(String::from_utf8(out).unwrap(), want);

        /// Fails from the third write on.
        struct Failing(usize);
        impl Write for Failing {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += 1;
                if self.0 > 2 {
                    return Err(std::io::Error::other("disk full"));
                }
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (written, sent) = write_pipelined(&mut Failing(0), &control, |sink| {
            (0..1000)
                .take_while(|_| sink.send(vec![b"x".to_vec()], 1))
                .count()
        });
        assert!(written.is_err());
        assert!(sent < 1000, "the filler went on after the failure");
    }
}
