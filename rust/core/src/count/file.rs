//! Saving and loading [`NGramCounts`] (framed by [`crate::binfmt`]).
//!
//! Version 2 holds the tokenizer as a [`crate::tokenize::TokenizerRecord`];
//! version 1 held its spec string, and is still read.

use std::path::Path;

use super::counts::{NGramCounts, OrderCounts};
use crate::binfmt::{self, Reader, Writer};
use crate::corpus::CorpusStats;
use crate::tokenize::record::{read_legacy_spec, read_tokenizer};
use crate::tokenize::Vocab;
use crate::Result;

const MAGIC: &[u8; 8] = b"NWCOUNT\0";
const VERSION: u32 = 2;

impl NGramCounts {
    /// Save to `path`: written to a temporary file, then renamed into place.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut w = Writer::new();
        self.vocab.tokenizer().to_record().write(&mut w);
        w.u8(self.padded as u8);
        for v in [
            self.tokens,
            self.stats.lines,
            self.stats.sentences,
            self.stats.blank_lines,
            self.stats.bad_lines,
            self.stats.bytes,
        ] {
            w.u64(v);
        }
        w.u64(self.vocab.len() as u64);
        for word in self.vocab.words() {
            w.str(word);
        }
        w.u64(self.orders.len() as u64);
        for o in &self.orders {
            w.u64(o.n as u64);
            w.u64(o.len() as u64);
            w.u32s(&o.keys);
            w.u64s(&o.counts);
        }
        w.save(path, MAGIC, VERSION)
    }

    /// Load counts saved by [`NGramCounts::save`]. A truncated, altered or
    /// foreign file gives [`crate::Error::Format`].
    pub fn load(path: &Path) -> Result<Self> {
        let (version, payload) = binfmt::load_versions(path, MAGIC, 1..=VERSION, "n-gram counts")?;
        let mut r = Reader::new(&payload, path);
        let tokenizer = if version == 1 {
            read_legacy_spec(&mut r)?
        } else {
            read_tokenizer(&mut r)?
        };
        let padded = r.u8()? != 0;
        let tokens = r.u64()?;
        let stats = CorpusStats {
            lines: r.u64()?,
            sentences: r.u64()?,
            blank_lines: r.u64()?,
            bad_lines: r.u64()?,
            bytes: r.u64()?,
        };
        let nwords = r.len(8)?;
        let mut words = Vec::with_capacity(nwords);
        for _ in 0..nwords {
            words.push(r.str()?);
        }
        if words.len() < 3 || words[..3] != ["<unk>", "<s>", "</s>"] {
            return Err(r.error("vocabulary does not start with <unk>, <s>, </s>"));
        }
        let mut vocab = Vocab::from_words(&words[3..], tokenizer);
        if vocab.len() != nwords {
            return Err(r.error("duplicate words in the vocabulary"));
        }
        let norders = r.len(16)?;
        let mut orders = Vec::with_capacity(norders);
        for k in 1..=norders {
            let n = r.u64()? as usize;
            if n != k {
                return Err(r.error(format!("order {k} is stored as order {n}")));
            }
            let m = r.len(4 * n + 8)?;
            let keys = r.u32s(m * n)?;
            let counts = r.u64s(m)?;
            let o = OrderCounts { n, keys, counts };
            o.validate(vocab.len()).map_err(|e| r.error(e))?;
            orders.push(o);
        }
        r.finish()?;
        // The file keeps no vocabulary counts: they are the unigram counts.
        if let Some(unigrams) = orders.first() {
            for (&id, &c) in unigrams.keys.iter().zip(&unigrams.counts) {
                vocab.add(words[id as usize], c);
            }
        }
        Ok(NGramCounts {
            vocab,
            orders,
            padded,
            stats,
            tokens,
        })
    }
}
