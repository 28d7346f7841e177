//! Hand-written scanners for the GPT-2, cl100k and o200k pre-tokenizer patterns.
//!
//! Why: the general regex engine (`fancy-regex`, needed for the `(?!\S)`
//! lookahead) runs these patterns through a backtracking VM and took about
//! half of encoding time. The patterns are simple enough to decide with one
//! look at the next one or two characters, so a scanner finds the same pieces
//! in one forward pass, without backtracking limits.
//!
//! Exactness: each function below follows its pattern's alternatives in order
//! (leftmost-first, greedy, as the regex engine does) and says in comments
//! which alternative each branch is. The character classes (`\p{L}`,
//! `\p{N}`, `\s`) come from `regex-syntax`, the very tables the regex engine
//! uses, and a differential test (below) compares the pieces with the regex's
//! on random and adversarial Unicode strings.

use std::sync::OnceLock;

/// The class of a character as these patterns see it (the three are disjoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Class {
    /// `\p{L}`
    Letter = 0,
    /// `\p{N}`
    Number = 1,
    /// `\s` (Unicode `White_Space`)
    Space = 2,
    /// `[^\s\p{L}\p{N}]`
    Other = 3,
}

/// Which hand-written scanner a pattern has, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scanner {
    /// [`super::pretokenize::GPT2`]
    Gpt2,
    /// [`super::pretokenize::CL100K`]
    Cl100k,
    /// [`super::pretokenize::O200K`]
    O200k,
}

impl Scanner {
    /// The end of the piece that starts at `at` (< `text.len()`).
    pub fn piece_end(self, text: &str, at: usize) -> usize {
        match self {
            Scanner::Gpt2 => gpt2_end(text.as_bytes(), at),
            Scanner::Cl100k => cl100k_end(text.as_bytes(), at),
            Scanner::O200k => o200k_end(text.as_bytes(), at),
        }
    }
}

struct Classes {
    // One class per code point below 0x10000 (64 KiB, looked up directly).
    bmp: Vec<u8>,
    // Sorted, disjoint (first, last, class) ranges above 0xFFFF that are not Other.
    astral: Vec<(u32, u32, Class)>,
}

fn classes() -> &'static Classes {
    static CLASSES: OnceLock<Classes> = OnceLock::new();
    CLASSES.get_or_init(|| {
        let mut bmp = vec![Class::Other as u8; 0x10000];
        let mut astral = Vec::new();
        for (class, re) in [
            (Class::Letter, r"\p{L}"),
            (Class::Number, r"\p{N}"),
            (Class::Space, r"\s"),
        ] {
            for (first, last) in unicode_ranges(re) {
                for cp in first..=last.min(0xFFFF) {
                    bmp[cp as usize] = class as u8;
                }
                if last > 0xFFFF {
                    astral.push((first.max(0x10000), last, class));
                }
            }
        }
        astral.sort_unstable_by_key(|r| r.0);
        Classes { bmp, astral }
    })
}

/// The code point ranges of a Unicode class expression, as the regex engine
/// compiles it.
fn unicode_ranges(class: &str) -> Vec<(u32, u32)> {
    use regex_syntax::hir::{Class as HirClass, HirKind};
    let hir = regex_syntax::Parser::new()
        .parse(class)
        .expect("a valid built-in class");
    match hir.kind() {
        HirKind::Class(HirClass::Unicode(c)) => c
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        other => unreachable!("{class} compiled to {other:?}"),
    }
}

/// The class of code point `cp`.
pub fn class_of(cp: u32) -> Class {
    let t = classes();
    let c = if cp < 0x10000 {
        t.bmp[cp as usize]
    } else {
        match t.astral.binary_search_by(|&(first, last, _)| {
            if last < cp {
                std::cmp::Ordering::Less
            } else if first > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        }) {
            Ok(k) => t.astral[k].2 as u8,
            Err(_) => Class::Other as u8,
        }
    };
    match c {
        0 => Class::Letter,
        1 => Class::Number,
        2 => Class::Space,
        _ => Class::Other,
    }
}

// ASCII classes, without a table lookup through `classes()`.
const fn ascii_class(b: u8) -> Class {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
        b'0'..=b'9' => Class::Number,
        b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' => Class::Space,
        _ => Class::Other,
    }
}

/// The class and UTF-8 length of the character at byte `at` of valid UTF-8.
#[inline]
fn char_at(s: &[u8], at: usize) -> (Class, usize) {
    let b = s[at];
    if b < 0x80 {
        return (ascii_class(b), 1);
    }
    // Valid UTF-8 (the bytes come from a &str): decode without checks.
    let (len, init) = if b >= 0xF0 {
        (4, (b & 0x07) as u32)
    } else if b >= 0xE0 {
        (3, (b & 0x0F) as u32)
    } else {
        (2, (b & 0x1F) as u32)
    };
    let mut cp = init;
    for &c in &s[at + 1..at + len] {
        cp = (cp << 6) | (c & 0x3F) as u32;
    }
    (class_of(cp), len)
}

/// The end of the run of characters of `class` that starts at `at`.
#[inline]
fn run_end(s: &[u8], mut at: usize, class: Class) -> usize {
    while at < s.len() {
        let (c, len) = char_at(s, at);
        if c != class {
            break;
        }
        at += len;
    }
    at
}

/// `\s+(?!\S)|\s+` at `at` (a whitespace character): the whole run when it
/// ends the text or is one character; else the run minus its last character,
/// which the lookahead leaves to the piece after it.
fn space_end(s: &[u8], at: usize) -> usize {
    let mut end = at;
    let mut last = at;
    while end < s.len() {
        let (c, len) = char_at(s, end);
        if c != Class::Space {
            break;
        }
        last = end;
        end += len;
    }
    if end == s.len() || last == at {
        end
    } else {
        last
    }
}

/// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
fn gpt2_end(s: &[u8], at: usize) -> usize {
    // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
    if s[at] == b'\'' {
        match (s.get(at + 1), s.get(at + 2)) {
            (Some(b's' | b't' | b'm' | b'd'), _) => return at + 2,
            (Some(b'r' | b'v'), Some(b'e')) | (Some(b'l'), Some(b'l')) => return at + 3,
            _ => {}
        }
    }
    let (class, len) = char_at(s, at);
    if class != Class::Space {
        // \p{L}+ | \p{N}+ | [^\s\p{L}\p{N}]+, the first that fits the first character
        return run_end(s, at + len, class);
    }
    // ` ?X+`: a space then a run of letters, numbers or others
    if s[at] == b' ' && at + 1 < s.len() {
        let (next, len) = char_at(s, at + 1);
        if next != Class::Space {
            return run_end(s, at + 1 + len, next);
        }
    }
    space_end(s, at)
}

/// Whether the character at `at` is case-insensitively `c` (an ASCII letter of
/// a contraction): `s` also matches U+017F LONG S, as Unicode case folding says.
fn folds_to(s: &[u8], at: usize, c: u8) -> Option<usize> {
    let b = *s.get(at)?;
    if b.to_ascii_lowercase() == c {
        return Some(at + 1);
    }
    if c == b's' && s.get(at..at + 2) == Some(&[0xC5, 0xBF]) {
        return Some(at + 2);
    }
    None
}

/// `\p{N}{1,3}` after its first digit, which ends at `from`.
fn digits_end(s: &[u8], from: usize) -> usize {
    let mut end = from;
    for _ in 0..2 {
        if end >= s.len() {
            break;
        }
        let (c, l) = char_at(s, end);
        if c != Class::Number {
            break;
        }
        end += l;
    }
    end
}

/// `` ?[^\s\p{L}\p{N}]+[T]*`` at `at` (a character of `class` and `len`
/// bytes), `T` the ASCII bytes `tail`: its end, if it matches.
fn others_end(s: &[u8], at: usize, class: Class, len: usize, tail: &[u8]) -> Option<usize> {
    let from = if class == Class::Other {
        at + len
    } else if s[at] == b' ' && at + 1 < s.len() && char_at(s, at + 1).0 == Class::Other {
        at + 1 + char_at(s, at + 1).1
    } else {
        return None;
    };
    let mut end = run_end(s, from, Class::Other);
    while end < s.len() && tail.contains(&s[end]) {
        end += 1;
    }
    Some(end)
}

/// `\s*[\r\n]+|\s+(?!\S)|\s+` at `at` (a whitespace character): the
/// whitespace run up to and with its last newline, else [`space_end`].
fn newline_space_end(s: &[u8], at: usize) -> usize {
    let mut end = at;
    let mut after_newline = None;
    while end < s.len() {
        let (c, l) = char_at(s, end);
        if c != Class::Space {
            break;
        }
        if s[end] == b'\r' || s[end] == b'\n' {
            after_newline = Some(end + 1);
        }
        end += l;
    }
    after_newline.unwrap_or_else(|| space_end(s, at))
}

/// cl100k: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
/// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
fn cl100k_end(s: &[u8], at: usize) -> usize {
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if s[at] == b'\'' {
        for c in [b's', b't', b'm', b'd'] {
            if let Some(end) = folds_to(s, at + 1, c) {
                return end;
            }
        }
        for [c1, c2] in [[b'r', b'e'], [b'v', b'e'], [b'l', b'l']] {
            if let Some(end) = folds_to(s, at + 1, c1).and_then(|m| folds_to(s, m, c2)) {
                return end;
            }
        }
    }
    let (class, len) = char_at(s, at);
    let newline = |b: u8| b == b'\r' || b == b'\n';
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if class == Class::Letter {
        return run_end(s, at + len, Class::Letter);
    }
    if class != Class::Number && !newline(s[at]) && at + len < s.len() {
        let (next, len2) = char_at(s, at + len);
        if next == Class::Letter {
            return run_end(s, at + len + len2, Class::Letter);
        }
    }
    if class == Class::Number {
        return digits_end(s, at + len);
    }
    if let Some(end) = others_end(s, at, class, len, b"\r\n") {
        return end;
    }
    newline_space_end(s, at)
}

/// o200k's letter classes: `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` ("upper",
/// bit 0) and `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` ("lower", bit 1). Marks are in
/// both but are not `\p{L}`: to the other classes they are [`Class::Other`].
struct Cases {
    bmp: Vec<u8>,
    astral: Vec<(u32, u32, u8)>,
}

const UPPER: u8 = 1;
const LOWER: u8 = 2;

fn cases() -> &'static Cases {
    static CASES: OnceLock<Cases> = OnceLock::new();
    CASES.get_or_init(|| {
        let mut bmp = vec![0u8; 0x10000];
        let mut astral: Vec<(u32, u32, u8)> = Vec::new();
        for (bit, re) in [
            (UPPER, r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]"),
            (LOWER, r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]"),
        ] {
            for (first, last) in unicode_ranges(re) {
                for cp in first..=last.min(0xFFFF) {
                    bmp[cp as usize] |= bit;
                }
                if last > 0xFFFF {
                    astral.push((first.max(0x10000), last, bit));
                }
            }
        }
        // Split the ranges of the two classes into disjoint pieces, each with
        // the union of the bits of the ranges that cover it.
        let mut cuts: Vec<u32> = astral.iter().flat_map(|r| [r.0, r.1 + 1]).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut pieces = Vec::new();
        for w in cuts.windows(2) {
            let (first, last) = (w[0], w[1] - 1);
            let bits = (astral.iter())
                .filter(|r| r.0 <= first && last <= r.1)
                .fold(0, |b, r| b | r.2);
            if bits != 0 {
                pieces.push((first, last, bits));
            }
        }
        Cases {
            bmp,
            astral: pieces,
        }
    })
}

/// The o200k case bits of code point `cp`.
fn case_of(cp: u32) -> u8 {
    let t = cases();
    if cp < 0x10000 {
        return t.bmp[cp as usize];
    }
    let k = t.astral.partition_point(|r| r.1 < cp);
    match t.astral.get(k) {
        Some(&(first, _, bits)) if first <= cp => bits,
        _ => 0,
    }
}

/// The code point and UTF-8 length of the character at byte `at` of valid UTF-8.
#[inline]
fn code_point_at(s: &[u8], at: usize) -> (u32, usize) {
    let b = s[at];
    if b < 0x80 {
        return (b as u32, 1);
    }
    let (len, init) = if b >= 0xF0 {
        (4, (b & 0x07) as u32)
    } else if b >= 0xE0 {
        (3, (b & 0x0F) as u32)
    } else {
        (2, (b & 0x1F) as u32)
    };
    let cp = (s[at + 1..at + len].iter()).fold(init, |cp, &c| (cp << 6) | (c & 0x3F) as u32);
    (cp, len)
}

/// The case bits and length of the character at `at` (0 and 0 at the end).
#[inline]
fn case_at(s: &[u8], at: usize) -> (u8, usize) {
    match s.get(at) {
        None => (0, 0),
        Some(b'A'..=b'Z') => (UPPER, 1),
        Some(b'a'..=b'z') => (LOWER, 1),
        Some(&b) if b < 0x80 => (0, 1),
        Some(_) => {
            let (cp, len) = code_point_at(s, at);
            (case_of(cp), len)
        }
    }
}

/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `at`: its end, if it matches.
fn contraction_end(s: &[u8], at: usize) -> Option<usize> {
    if s.get(at) != Some(&b'\'') {
        return None;
    }
    for c in [b's', b't'] {
        if let Some(end) = folds_to(s, at + 1, c) {
            return Some(end);
        }
    }
    for [c1, c2] in [[b'r', b'e'], [b'v', b'e']] {
        if let Some(end) = folds_to(s, at + 1, c1).and_then(|m| folds_to(s, m, c2)) {
            return Some(end);
        }
    }
    if let Some(end) = folds_to(s, at + 1, b'm') {
        return Some(end);
    }
    if let Some(end) = folds_to(s, at + 1, b'l').and_then(|m| folds_to(s, m, b'l')) {
        return Some(end);
    }
    folds_to(s, at + 1, b'd')
}

/// The end of the run of characters with case bit `bit` from `at`.
fn case_run_end(s: &[u8], mut at: usize, bit: u8) -> usize {
    loop {
        let (bits, len) = case_at(s, at);
        if bits & bit == 0 {
            return at;
        }
        at += len;
    }
}

/// `U*L+` at `a` (U upper, L lower, greedy, as a backtracking engine runs
/// it): U* takes the whole upper run, then gives characters back until one
/// in L starts L+; the largest such start wins. Then the optional contraction.
fn upper_lower_end(s: &[u8], a: usize) -> Option<usize> {
    let mut at = a;
    let mut last_lower = None;
    loop {
        let (bits, len) = case_at(s, at);
        if bits & LOWER != 0 {
            last_lower = Some(at);
        }
        if bits & UPPER == 0 {
            break;
        }
        at += len;
    }
    // `at` ends the upper run: the largest start of L+ is `at` itself when its
    // character is lower, else the last lower one inside the run.
    let start = last_lower?;
    let end = case_run_end(s, start, LOWER);
    Some(contraction_end(s, end).unwrap_or(end))
}

/// `U+L*` at `a`, then the optional contraction (no backtracking needed: L*
/// accepts the empty run).
fn upper_then_lower_end(s: &[u8], a: usize) -> Option<usize> {
    let upper = case_run_end(s, a, UPPER);
    if upper == a {
        return None;
    }
    let end = case_run_end(s, upper, LOWER);
    Some(contraction_end(s, end).unwrap_or(end))
}

/// o200k: `[^\r\n\p{L}\p{N}]?U*L+C?|[^\r\n\p{L}\p{N}]?U+L*C?|\p{N}{1,3}|
/// ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`, U and L the case
/// classes of [`Cases`], C the contractions (case-insensitive).
fn o200k_end(s: &[u8], at: usize) -> usize {
    let (class, len) = char_at(s, at);
    let newline = |b: u8| b == b'\r' || b == b'\n';
    // The optional prefix: any character but \r, \n, letters and numbers.
    // Greedy: with it first, then without it.
    let prefixed = matches!(class, Class::Other | Class::Space) && !newline(s[at]);
    let starts: &[usize] = if prefixed { &[len, 0] } else { &[0] };
    for alternative in [upper_lower_end, upper_then_lower_end] {
        for &skip in starts {
            if let Some(end) = alternative(s, at + skip) {
                return end;
            }
        }
    }
    if class == Class::Number {
        return digits_end(s, at + len);
    }
    if let Some(end) = others_end(s, at, class, len, b"\r\n/") {
        return end;
    }
    newline_space_end(s, at)
}

#[cfg(test)]
mod tests {
    use super::super::pretokenize::{CL100K, GPT2, O200K};
    use super::*;
    use fancy_regex::Regex;

    fn by_regex(re: &Regex, text: &str) -> Vec<(usize, usize)> {
        re.find_iter(text)
            .map(|m| {
                let m = m.unwrap();
                (m.start(), m.end())
            })
            .collect()
    }

    fn by_scanner(scanner: Scanner, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let end = scanner.piece_end(text, at);
            assert!(end > at && text.is_char_boundary(end), "{text:?} at {at}");
            out.push((at, end));
            at = end;
        }
        out
    }

    // xorshift64*: a reproducible stream without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    // Characters at every decision the patterns make: the contraction letters
    // in both cases (and U+017F, which folds to s), apostrophes, each kind of
    // space and newline, digits of other scripts, marks, letters outside the
    // BMP, emoji, and the edges of the class tables.
    const TRICKY: &[char] = &[
        '\'',
        's',
        'S',
        't',
        'T',
        'r',
        'R',
        'e',
        'E',
        'v',
        'V',
        'm',
        'M',
        'l',
        'L',
        'd',
        'D',
        'ſ',
        'K',
        'x',
        ' ',
        ' ',
        ' ',
        '\t',
        '\n',
        '\r',
        '\u{0B}',
        '\u{0C}',
        '\u{85}',
        '\u{A0}',
        '\u{1680}',
        '\u{2028}',
        '\u{3000}',
        '\u{200B}',
        '0',
        '9',
        '٣',
        '½',
        'Ⅻ',
        '𝟘',
        '.',
        ',',
        '!',
        '-',
        '/',
        '\u{301}',
        '\u{200D}',
        '\u{2C6}',
        'ǅ',
        'Ǆ',
        'ǆ',
        'ª',
        'A',
        'B',
        'b',
        '\u{16F8F}',
        '\u{1E900}',
        '\u{1E922}',
        'é',
        'ß',
        '家',
        '𝒜',
        '𐐀',
        '😀',
        '👍',
        '🏽',
        '\u{0}',
        '\u{FFFF}',
        '\u{10000}',
        '\u{10FFFF}',
        '\u{E0001}',
    ];

    fn random_text(rng: &mut Rng) -> String {
        let len = rng.below(24);
        (0..len)
            .map(|_| {
                if rng.below(4) == 0 {
                    // Any scalar value: every plane, every class.
                    loop {
                        if let Some(c) = char::from_u32(rng.below(0x11_0000) as u32) {
                            break c;
                        }
                    }
                } else {
                    TRICKY[rng.below(TRICKY.len())]
                }
            })
            .collect()
    }

    #[test]
    fn scanners_cut_as_the_regex() {
        for (scanner, pattern) in [
            (Scanner::Gpt2, GPT2),
            (Scanner::Cl100k, CL100K),
            (Scanner::O200k, O200K),
        ] {
            let re = Regex::new(pattern).unwrap();
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            for _ in 0..60_000 {
                let text = random_text(&mut rng);
                assert_eq!(
                    by_scanner(scanner, &text),
                    by_regex(&re, &text),
                    "{scanner:?} on {text:?}"
                );
            }
            for text in [
                "Hello world's  42 !!",
                "  x \n\n y\r\n\r\nz 'S 'RE 'ſ  ",
                "1234567 x'll'LL ''s",
                "HelloWorld's HTTPServer iPhone ÉCOLE naïve x\u{301}y \u{301}A",
                "a/b//\n c \u{2C6}\u{2C6}A Ǆǅǆ ǅa",
                "",
                " ",
                "\n",
            ] {
                assert_eq!(by_scanner(scanner, text), by_regex(&re, text), "{text:?}");
            }
        }
    }

    #[test]
    fn classes_are_disjoint_and_as_the_regex_says() {
        let re = [
            (Class::Letter, Regex::new(r"^\p{L}$").unwrap()),
            (Class::Number, Regex::new(r"^\p{N}$").unwrap()),
            (Class::Space, Regex::new(r"^\s$").unwrap()),
        ];
        for b in 0..0x80u8 {
            assert_eq!(ascii_class(b), class_of(b as u32), "{b:#x}");
        }
        let mut rng = Rng(7);
        let mut sample: Vec<u32> = (0..0x300).collect();
        sample.extend((0..20_000).map(|_| rng.below(0x11_0000) as u32));
        for cp in sample {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let s = c.to_string();
            let matching: Vec<Class> = re
                .iter()
                .filter(|(_, r)| r.is_match(&s).unwrap())
                .map(|(k, _)| *k)
                .collect();
            assert!(matching.len() <= 1, "{c:?} in {matching:?}");
            assert_eq!(
                class_of(cp),
                matching.first().copied().unwrap_or(Class::Other),
                "{c:?}"
            );
        }
    }
}
