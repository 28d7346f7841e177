//! The formats of the original word2vec tool, which gensim also reads and writes.
//!
//! Both start with a text header line `"<words> <dim>\n"`. In the text format
//! each further line is a word and `dim` decimal numbers, separated by spaces.
//! In the binary format each word is followed by one space and `dim` f32
//! little-endian, then a newline (which readers must also accept missing).
//! Counts are not stored: vectors read from these files have count 0.
//!
//! Every problem names where it is: the line in a text file, the byte offset
//! in a binary file. Non-finite values are refused.

use std::io::Write;
use std::path::Path;

use super::WordVectors;
use crate::binfmt::write_atomic;
use crate::{Error, Result};

/// Write `vectors` in the text format (shortest decimal that reads back exactly).
pub fn save_text(vectors: &WordVectors, path: &Path) -> Result<()> {
    save(vectors, path, |out, row| {
        for v in row {
            write!(out, " {v}")?;
        }
        Ok(())
    })
}

/// Write `vectors` in the binary format.
pub fn save_binary(vectors: &WordVectors, path: &Path) -> Result<()> {
    save(vectors, path, |out, row| {
        out.write_all(b" ")?;
        for v in row {
            out.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    })
}

/// The header, then per word: the word, `write_row`, a newline.
fn save(
    vectors: &WordVectors,
    path: &Path,
    write_row: impl Fn(&mut dyn Write, &[f32]) -> std::io::Result<()>,
) -> Result<()> {
    vectors.check(path)?;
    write_atomic(path, |out| {
        writeln!(out, "{} {}", vectors.words.len(), vectors.dim)?;
        let dim = vectors.dim.max(1);
        for (word, row) in vectors.words.iter().zip(vectors.vectors.chunks(dim)) {
            out.write_all(word.as_bytes())?;
            write_row(out, row)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Parse the header `"<words> <dim>"`.
fn header(line: &[u8], path: &Path) -> Result<(usize, usize)> {
    let bad = || {
        Error::format(
            path,
            "line 1: expected a header '<words> <dim>' (is this a word2vec file?)",
        )
    };
    let text = std::str::from_utf8(line).map_err(|_| bad())?;
    let mut parts = text.split_whitespace().map(str::parse::<usize>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(n)), Some(Ok(dim)), None) if dim > 0 => Ok((n, dim)),
        _ => Err(bad()),
    }
}

fn finish(words: Vec<String>, dim: usize, vectors: Vec<f32>, path: &Path) -> Result<WordVectors> {
    let wv = WordVectors {
        counts: vec![0; words.len()],
        words,
        dim,
        vectors,
    };
    wv.check(path)?;
    Ok(wv)
}

/// Read the text format.
pub fn load_text(path: &Path) -> Result<WordVectors> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut lines = bytes.split(|&b| b == b'\n').enumerate();
    let first = lines.next().map(|(_, l)| l).unwrap_or_default();
    let (n, dim) = header(first, path)?;
    let mut words = Vec::with_capacity(n.min(1 << 24));
    let mut vectors = Vec::with_capacity(n.saturating_mul(dim).min(1 << 28));
    for (index, raw) in lines {
        let line_no = index + 1;
        let at = |m: String| Error::format(path, format!("line {line_no}: {m}"));
        let line = std::str::from_utf8(raw)
            .map_err(|_| at("invalid UTF-8".into()))?
            .trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        if words.len() == n {
            return Err(at(format!(
                "more vectors than the {n} the header announces"
            )));
        }
        let mut fields = line.split(' ').filter(|f| !f.is_empty());
        let word = fields.next().unwrap_or_default();
        let before = vectors.len();
        for field in fields {
            let v: f32 = field
                .parse()
                .map_err(|_| at(format!("{field:?} is not a number")))?;
            if !v.is_finite() {
                return Err(at(format!("non-finite value {field:?} for {word:?}")));
            }
            vectors.push(v);
        }
        if vectors.len() - before != dim {
            return Err(at(format!(
                "{word:?} has {} values, the header says {dim}",
                vectors.len() - before
            )));
        }
        if word.chars().any(char::is_whitespace) {
            return Err(at(format!("word {word:?} holds whitespace")));
        }
        words.push(word.to_string());
    }
    if words.len() != n {
        return Err(Error::format(
            path,
            format!(
                "truncated: the header announces {n} vectors, the file holds {}",
                words.len()
            ),
        ));
    }
    finish(words, dim, vectors, path)
}

/// Read the binary format.
pub fn load_binary(path: &Path) -> Result<WordVectors> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let end = memchr::memchr(b'\n', &bytes)
        .ok_or_else(|| Error::format(path, "line 1: no header line"))?;
    let (n, dim) = header(&bytes[..end], path)?;
    let mut pos = end + 1;
    let mut words = Vec::with_capacity(n.min(1 << 24));
    let mut vectors = Vec::with_capacity(n.saturating_mul(dim).min(1 << 28));
    for i in 0..n {
        while bytes.get(pos) == Some(&b'\n') {
            pos += 1;
        }
        let at = |byte: usize, m: String| {
            Error::format(path, format!("byte {byte}: vector {} of {n}: {m}", i + 1))
        };
        let space = memchr::memchr(b' ', &bytes[pos..])
            .ok_or_else(|| at(pos, "truncated: no word ended by a space".into()))?;
        let word = std::str::from_utf8(&bytes[pos..pos + space])
            .map_err(|_| at(pos, "the word is not valid UTF-8".into()))?;
        if word.is_empty() || word.contains('\n') {
            return Err(at(pos, format!("bad word {word:?}")));
        }
        pos += space + 1;
        let need = dim * 4;
        let Some(raw) = bytes.get(pos..pos + need) else {
            return Err(at(
                bytes.len(),
                format!("truncated: {word:?} needs {need} bytes of vector"),
            ));
        };
        for (k, b) in raw.chunks_exact(4).enumerate() {
            let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if !v.is_finite() {
                return Err(at(pos + 4 * k, format!("non-finite value for {word:?}")));
            }
            vectors.push(v);
        }
        words.push(word.to_string());
        pos += need;
    }
    if bytes[pos.min(bytes.len())..].iter().any(|&b| b != b'\n') {
        return Err(Error::format(
            path,
            format!("byte {pos}: data after the {n} vectors the header announces"),
        ));
    }
    finish(words, dim, vectors, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WordVectors {
        WordVectors {
            counts: vec![0, 0],
            ..crate::embed::vectors::example()
        }
    }

    #[test]
    fn both_formats_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("v.txt");
        let b = dir.path().join("v.bin");
        save_text(&sample(), &t).unwrap();
        save_binary(&sample(), &b).unwrap();
        assert_eq!(load_text(&t).unwrap(), sample());
        assert_eq!(load_binary(&b).unwrap(), sample());
        assert!(std::fs::read_to_string(&t)
            .unwrap()
            .starts_with("2 3\na 0.5 -1.25 "));
    }

    #[test]
    fn errors_name_the_line_or_byte() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("v.txt");
        let cases = [
            ("2 2\na 1 2\nb 1\n", "line 3"),
            ("2 2\na 1 2\n", "truncated"),
            ("1 2\na 1 nan\n", "line 2: non-finite"),
            ("1 2\na 1 x\n", "line 2"),
            ("x\n", "line 1"),
        ];
        for (text, want) in cases {
            std::fs::write(&t, text).unwrap();
            let err = load_text(&t).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        let b = dir.path().join("v.bin");
        save_binary(&sample(), &b).unwrap();
        let bytes = std::fs::read(&b).unwrap();
        std::fs::write(&b, &bytes[..bytes.len() - 6]).unwrap();
        let err = load_binary(&b).unwrap_err().to_string();
        assert!(err.contains("byte") && err.contains("truncated"), "{err}");
        let mut inf = bytes.clone();
        inf[6..10].copy_from_slice(&f32::INFINITY.to_le_bytes());
        std::fs::write(&b, &inf).unwrap();
        let err = load_binary(&b).unwrap_err().to_string();
        assert!(
            err.contains("byte 6") && err.contains("non-finite"),
            "{err}"
        );
    }
}
