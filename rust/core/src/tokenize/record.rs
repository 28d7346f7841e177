//! A tokenizer as saved in files: a versioned record (kind name, kind
//! version, payload bytes) inside the checksummed framing of each format, or
//! alone in a sidecar file beside an ARPA model (which cannot hold bytes).

use std::path::{Path, PathBuf};

use super::{registry, Tokenizer};
use crate::binfmt::{self, Reader, Writer};
use crate::Result;

const SIDECAR_MAGIC: &[u8; 8] = b"NWTOKEN\0";
const SIDECAR_VERSION: u32 = 1;

/// The saved form of a [`Tokenizer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerRecord {
    /// The kind name, which selects the decoder in the registry.
    pub kind: String,
    /// The version of the kind's payload layout.
    pub version: u32,
    /// What the kind needs to rebuild the tokenizer (empty for most built-ins).
    pub payload: Vec<u8>,
}

impl TokenizerRecord {
    /// Append the record to a payload being written.
    pub fn write(&self, w: &mut Writer) {
        w.str(&self.kind);
        w.u32(self.version);
        w.bytes(&self.payload);
    }

    /// Read a record written by [`TokenizerRecord::write`].
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            kind: r.str()?.to_string(),
            version: r.u32()?,
            payload: r.bytes()?.to_vec(),
        })
    }

    /// Step over a record without decoding it.
    pub fn skip(r: &mut Reader<'_>) -> Result<()> {
        r.bytes()?;
        r.u32()?;
        r.bytes()?;
        Ok(())
    }

    /// The sidecar file that holds the record of the tokenizer of the ARPA model `arpa`.
    pub fn sidecar_path(arpa: &Path) -> PathBuf {
        let mut name = arpa.as_os_str().to_owned();
        name.push(".tokenizer");
        PathBuf::from(name)
    }

    /// Write the record alone to `path` (framed, checksummed, atomic).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.save(path, SIDECAR_MAGIC, SIDECAR_VERSION)
    }

    /// Read a record saved by [`TokenizerRecord::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let payload = binfmt::load(path, SIDECAR_MAGIC, SIDECAR_VERSION, "tokenizer")?;
        let mut r = Reader::new(&payload, path);
        let record = Self::read(&mut r)?;
        r.finish()?;
        Ok(record)
    }
}

/// Read a tokenizer record from a file being parsed and decode it; an unknown
/// kind or a newer version is a format error naming the file and the kind.
pub fn read_tokenizer(r: &mut Reader<'_>) -> Result<Tokenizer> {
    let record = TokenizerRecord::read(r)?;
    registry::decode(&record).map_err(|e| r.error(e))
}

/// Read the spec string that files of the previous format versions hold.
pub fn read_legacy_spec(r: &mut Reader<'_>) -> Result<Tokenizer> {
    Tokenizer::from_spec(r.str()?).map_err(|e| r.error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_round_trips_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.arpa.tokenizer");
        let record = TokenizerRecord {
            kind: "x".into(),
            version: 3,
            payload: vec![1, 2, 3],
        };
        record.save(&path).unwrap();
        assert_eq!(TokenizerRecord::load(&path).unwrap(), record);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[22] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert!(TokenizerRecord::load(&path).is_err());
        assert_eq!(
            TokenizerRecord::sidecar_path(Path::new("a/m.arpa")),
            Path::new("a/m.arpa.tokenizer")
        );
    }
}
