//! Character tokenizer: one token per Unicode scalar value.

use super::registry::{self, Kind};
use super::Tokenizer;

/// The registry entry (record kind `char`, payload: one byte, keep whitespace).
pub const KIND: Kind = Kind {
    name: "char",
    version: 1,
    decode: |_, payload| {
        let [keep_whitespace] = registry::flags(payload)?;
        Ok(Tokenizer::Char { keep_whitespace })
    },
};

/// Call `f` on every character of `text` as a one-character string.
///
/// Whitespace characters (Unicode White_Space) are skipped unless
/// `keep_whitespace`. `\r` and `\n` are always skipped: they belong to line
/// ends (a lone `\r` inside a line is whitespace, not a line end), never to
/// the text.
#[inline]
pub fn for_each_token(text: &str, keep_whitespace: bool, mut f: impl FnMut(&str)) {
    for (i, c) in text.char_indices() {
        let kept = if c.is_whitespace() {
            keep_whitespace && c != '\r' && c != '\n'
        } else {
            true
        };
        if kept {
            f(&text[i..i + c.len_utf8()]);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chars_and_whitespace() {
        let mut v = Vec::new();
        super::for_each_token("西 游\u{1F600}\r", false, |t| v.push(t.to_string()));
        assert_eq!(v, ["西", "游", "\u{1F600}"]);
        v.clear();
        super::for_each_token("a b\rc\u{3000}", true, |t| v.push(t.to_string()));
        assert_eq!(v, ["a", " ", "b", "c", "\u{3000}"]);
    }
}
