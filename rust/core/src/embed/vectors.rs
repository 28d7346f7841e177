//! Trained word vectors and nextword's own file format for them.
//!
//! The format is framed by [`crate::binfmt`] (magic, version, length,
//! CRC-32): payload `u64 words, u64 dim`, then per word its string and its
//! count, then `words * dim` f32 little-endian. Loading refuses non-finite
//! values as well as corrupt or truncated files.

use std::path::Path;

use crate::binfmt::{self, Reader, Writer};
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"NWVECTS\0";
const VERSION: u32 = 1;

/// Words and their vectors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WordVectors {
    /// The words; a word's index is its row.
    pub words: Vec<String>,
    /// The training count of each word (0 when unknown, as after reading a
    /// word2vec file).
    pub counts: Vec<u64>,
    /// Vector size.
    pub dim: usize,
    /// `words.len() * dim` values, row-major.
    pub vectors: Vec<f32>,
}

impl WordVectors {
    /// Check the shape, the words (non-empty, no whitespace, no duplicate) and
    /// that every value is finite; `at` names the file for the error.
    pub fn check(&self, at: &Path) -> Result<()> {
        let fail = |m: String| Err(Error::format(at, m));
        if self.counts.len() != self.words.len()
            || self.vectors.len() != self.words.len() * self.dim
        {
            return fail("vectors, words and counts disagree in size".into());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, w) in self.words.iter().enumerate() {
            if w.is_empty() || w.chars().any(char::is_whitespace) {
                return fail(format!("word {i} ({w:?}) is empty or holds whitespace"));
            }
            if !seen.insert(w.as_str()) {
                return fail(format!("word {i} ({w:?}) appears twice"));
            }
        }
        if let Some(i) = self.vectors.iter().position(|v| !v.is_finite()) {
            return fail(format!(
                "vector of word {} ({:?}) holds a non-finite value",
                i / self.dim.max(1),
                self.words[i / self.dim.max(1)]
            ));
        }
        Ok(())
    }

    /// Save in nextword's format (atomic, checksummed).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.check(path)?;
        let mut w = Writer::new();
        w.u64(self.words.len() as u64);
        w.u64(self.dim as u64);
        for (word, count) in self.words.iter().zip(&self.counts) {
            w.str(word);
            w.u64(*count);
        }
        let mut raw = Vec::with_capacity(self.vectors.len() * 4);
        for v in &self.vectors {
            raw.extend_from_slice(&v.to_le_bytes());
        }
        w.raw(&raw);
        w.save(path, MAGIC, VERSION)
    }

    /// Load a file written by [`WordVectors::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let payload = binfmt::load(path, MAGIC, VERSION, "word vectors")?;
        let mut r = Reader::new(&payload, path);
        let n = r.len(16)?;
        let dim = r.u64()? as usize;
        let mut words = Vec::with_capacity(n);
        let mut counts = Vec::with_capacity(n);
        for _ in 0..n {
            words.push(r.str()?.to_string());
            counts.push(r.u64()?);
        }
        let raw = r.rest();
        if Some(raw.len()) != n.checked_mul(dim).and_then(|x| x.checked_mul(4)) {
            return Err(r.error(format!(
                "{} bytes of vectors for {n} words of dim {dim}",
                raw.len()
            )));
        }
        let vectors = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let wv = Self {
            words,
            counts,
            dim,
            vectors,
        };
        wv.check(path)?;
        Ok(wv)
    }
}

/// Two small vectors, for the tests of both file formats.
#[cfg(test)]
pub(crate) fn example() -> WordVectors {
    WordVectors {
        words: vec!["a".into(), "bé".into()],
        counts: vec![3, 1],
        dim: 3,
        vectors: vec![0.5, -1.25, 3e-7, 1.0, 0.0, -0.1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.nwv");
        example().save(&path).unwrap();
        assert_eq!(WordVectors::load(&path).unwrap(), example());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[30] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            WordVectors::load(&path),
            Err(Error::Format { .. })
        ));
        let mut bad = example();
        bad.vectors[4] = f32::NAN;
        assert!(matches!(bad.save(&path), Err(Error::Format { .. })));
    }
}
