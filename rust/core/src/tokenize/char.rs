//! Character tokenizer: one token per Unicode scalar value.

/// Call `f` on every character of `text` as a one-character string; whitespace
/// characters are skipped unless `keep_whitespace`.
#[inline]
pub fn for_each_token(text: &str, keep_whitespace: bool, mut f: impl FnMut(&str)) {
    for (i, c) in text.char_indices() {
        if keep_whitespace || !c.is_whitespace() {
            f(&text[i..i + c.len_utf8()]);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chars_and_whitespace() {
        let mut v = Vec::new();
        super::for_each_token("西 游\u{1F600}", false, |t| v.push(t.to_string()));
        assert_eq!(v, ["西", "游", "\u{1F600}"]);
        v.clear();
        super::for_each_token("a b", true, |t| v.push(t.to_string()));
        assert_eq!(v, ["a", " ", "b"]);
    }
}
