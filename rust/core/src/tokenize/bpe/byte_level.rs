//! GPT-2's byte-level alphabet: each byte as one printable character, so that
//! byte strings can be written as text (HF `tokenizer.json` vocabularies and
//! merges, and the token strings n-gram vocabularies hold). Printable Latin-1
//! bytes stand for themselves; the other 68 bytes take U+0100.. in byte order.

use std::sync::OnceLock;

fn is_printable(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

fn tables() -> &'static ([char; 256], hashbrown::HashMap<char, u8>) {
    static TABLES: OnceLock<([char; 256], hashbrown::HashMap<char, u8>)> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut chars = ['\0'; 256];
        let mut shifted = 0u32;
        for b in 0..=255u8 {
            chars[b as usize] = if is_printable(b) {
                b as char
            } else {
                shifted += 1;
                char::from_u32(255 + shifted).unwrap_or('\0')
            };
        }
        let back = chars
            .iter()
            .enumerate()
            .map(|(b, &c)| (c, b as u8))
            .collect();
        (chars, back)
    })
}

/// The byte-level text of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let chars = &tables().0;
    bytes.iter().map(|&b| chars[b as usize]).collect()
}

/// The bytes of a byte-level text; None when a character is outside the alphabet.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let back = &tables().1;
    text.chars().map(|c| back.get(&c).copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_is_gpt2s() {
        assert_eq!(encode(b" hi\n"), "\u{120}hi\u{10a}");
        assert_eq!(encode(&[0, 0xAD, 0xFF]), "\u{100}\u{143}\u{ff}");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
        assert_eq!(decode("a\u{400}"), None);
    }
}
