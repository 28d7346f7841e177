//! Pre-tokenization: the regex that cuts text into pieces ("pre-tokens")
//! before BPE merges bytes inside each piece, and the split on special tokens.
//!
//! GPT-2's pattern needs a lookahead (`\s+(?!\S)`: a run of spaces leaves its
//! last space to the word after it), so the patterns run on `fancy-regex`,
//! as tiktoken's do; the GPT-2, cl100k and o200k presets run on hand-written
//! scanners instead ([`super::scanner`]: the same pieces, several times
//! faster). Every pattern here matches at least one character at
//! every position (the last alternatives are `\s+` and a catch-all class), so
//! the pieces cover the text exactly.

use aho_corasick::{AhoCorasick, MatchKind};
use fancy_regex::Regex;

use super::scanner::Scanner;

/// GPT-2's pre-tokenizer (HF `ByteLevel(use_regex=True)`, tiktoken `gpt2`).
pub const GPT2: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// The pattern of tiktoken's `cl100k_base` (case-insensitive contractions,
/// numbers in groups of at most three digits, newlines apart).
pub const CL100K: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The pattern of tiktoken's `o200k_base` (words split at case changes, the
/// contraction kept with its word).
pub const O200K: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
);

/// The pattern of a preset name (`gpt2`, `cl100k`, `o200k`); any other string
/// is taken as a pattern itself.
pub fn pattern_of(name_or_pattern: &str) -> &str {
    match name_or_pattern {
        "gpt2" => GPT2,
        "cl100k" | "cl100k_base" => CL100K,
        "o200k" | "o200k_base" => O200K,
        other => other,
    }
}

/// A compiled pre-tokenizer: the piece pattern and the special tokens.
#[derive(Debug, Clone)]
pub struct PreTokenizer {
    pattern: String,
    regex: Regex,
    // The hand-written scanner of a preset pattern (same pieces, faster).
    scanner: Option<Scanner>,
    // The special tokens, found in one leftmost-longest scan (linear in the text).
    specials: Option<AhoCorasick>,
}

/// One piece of text: ordinary text to merge, or a special token whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A pre-token (bytes to run BPE on).
    Text(&'a str),
    /// A special token, matched literally.
    Special(&'a str),
}

impl PreTokenizer {
    /// Compile `pattern` (a preset name or a regex); `specials` are matched
    /// literally before the pattern runs.
    pub fn new(pattern: &str, specials: &[String]) -> Result<Self, String> {
        let pattern = pattern_of(pattern).to_string();
        let regex = Regex::new(&pattern).map_err(|e| format!("bad pre-tokenizer pattern: {e}"))?;
        let specials: Vec<&String> = specials.iter().filter(|s| !s.is_empty()).collect();
        let specials = if specials.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(specials)
                    .map_err(|e| format!("special tokens: {e}"))?,
            )
        };
        let scanner = match pattern.as_str() {
            GPT2 => Some(Scanner::Gpt2),
            CL100K => Some(Scanner::Cl100k),
            O200K => Some(Scanner::O200k),
            _ => None,
        };
        Ok(Self {
            pattern,
            regex,
            scanner,
            specials,
        })
    }

    /// The regex source.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Call `f` on the pieces of `text` in order; they cover `text` exactly.
    pub fn for_each_piece<'a>(&self, text: &'a str, mut f: impl FnMut(Piece<'a>)) {
        let mut at = 0;
        if let Some(specials) = &self.specials {
            for m in specials.find_iter(text) {
                self.for_each_pretoken(&text[at..m.start()], &mut f);
                f(Piece::Special(&text[m.start()..m.end()]));
                at = m.end();
            }
        }
        self.for_each_pretoken(&text[at..], &mut f);
    }

    fn for_each_pretoken<'a>(&self, text: &'a str, f: &mut impl FnMut(Piece<'a>)) {
        let mut at = 0;
        if let Some(scanner) = self.scanner {
            while at < text.len() {
                let end = scanner.piece_end(text, at);
                f(Piece::Text(&text[at..end]));
                at = end;
            }
            return;
        }
        for m in self.regex.find_iter(text) {
            match m {
                Ok(m) => {
                    // A gap (a character no alternative matched) is a piece of its own.
                    if m.start() > at {
                        f(Piece::Text(&text[at..m.start()]));
                    }
                    if m.end() > m.start() {
                        f(Piece::Text(m.as_str()));
                    }
                    at = m.end();
                }
                // The backtracking limit was hit: the rest is one piece, so no
                // byte is lost (BPE still runs on it, in n log n).
                Err(_) => break,
            }
        }
        if at < text.len() {
            f(Piece::Text(&text[at..]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(p: &PreTokenizer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        p.for_each_piece(text, |piece| {
            out.push(match piece {
                Piece::Text(t) => t.to_string(),
                Piece::Special(s) => format!("[{s}]"),
            })
        });
        out
    }

    #[test]
    fn gpt2_pattern_splits_as_gpt2() {
        let p = PreTokenizer::new("gpt2", &[]).unwrap();
        assert_eq!(
            pieces(&p, "Hello world's  42 !!"),
            ["Hello", " world", "'s", " ", " 42", " !!"]
        );
    }

    #[test]
    fn specials_are_cut_out_longest_first() {
        let p = PreTokenizer::new("gpt2", &["<a>".into(), "<a><b>".into()]).unwrap();
        assert_eq!(pieces(&p, "x<a><b>y<a>"), ["x", "[<a><b>]", "y", "[<a>]"]);
    }

    #[test]
    fn long_runs_are_covered() {
        for pattern in ["gpt2", "cl100k", "o200k"] {
            let p = PreTokenizer::new(pattern, &[]).unwrap();
            for text in [
                " ".repeat(200_000),
                "a".repeat(200_000),
                "\n ".repeat(50_000),
            ] {
                assert_eq!(pieces(&p, &text).concat(), text);
            }
        }
    }
}
