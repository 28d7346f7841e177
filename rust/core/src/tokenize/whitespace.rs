//! Whitespace tokenizer: tokens are the maximal runs of non-whitespace.

/// Call `f` on every run of non-whitespace characters of `text`.
///
/// Whitespace is Unicode White_Space (`char::is_whitespace`). ASCII text, the
/// common case, takes a byte-level fast path.
#[inline]
pub fn for_each_token(text: &str, mut f: impl FnMut(&str)) {
    if text.is_ascii() {
        // Every ASCII whitespace byte is one char, so byte splitting is exact.
        for token in text
            .split(|c: char| c.is_ascii_whitespace() || c == '\x0b')
            .filter(|t| !t.is_empty())
        {
            f(token);
        }
    } else {
        for token in text.split(char::is_whitespace).filter(|t| !t.is_empty()) {
            f(token);
        }
    }
}

#[cfg(test)]
mod tests {
    fn tokens(s: &str) -> Vec<String> {
        let mut v = Vec::new();
        super::for_each_token(s, |t| v.push(t.to_string()));
        v
    }

    #[test]
    fn splits_on_unicode_whitespace() {
        assert_eq!(
            tokens("  a\tb\x0bc\u{a0}d\u{3000}e "),
            ["a", "b", "c", "d", "e"]
        );
        assert_eq!(tokens("a\x1cb"), ["a\x1cb"]);
        assert!(tokens(" \t ").is_empty());
    }
}
