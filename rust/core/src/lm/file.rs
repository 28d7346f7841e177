//! Model files whatever their format: the binary format (told apart by its
//! magic number, not its name) or ARPA (plain, `.gz` or `.zst`).

use std::io::Read;
use std::path::Path;

use super::{arpa, binary, NGramModel};
use crate::tokenize::Tokenizer;
use crate::{Error, Result};

/// Binary models up to this size have every array's checksum verified unless
/// the caller says otherwise (about 0.1 s per GB; larger files open at once).
pub const VERIFY_BELOW: u64 = 1 << 30;

/// Open a model file. `tokenizer` applies to ARPA files (binary models
/// remember theirs); `verify` checks a binary model's arrays (default: for
/// files under [`VERIFY_BELOW`]).
pub fn load(path: &Path, tokenizer: Tokenizer, verify: Option<bool>) -> Result<NGramModel> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::with_capacity(8);
    file.take(8)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    if !binary::is_binary_model(&head) {
        return arpa::load_arpa(path, tokenizer);
    }
    let verify = match verify {
        Some(v) => v,
        None => {
            let size = std::fs::metadata(path)
                .map_err(|e| Error::io(path, e))?
                .len();
            size < VERIFY_BELOW
        }
    };
    binary::load(path, verify)
}

/// Write a model, atomically: ARPA when the name ends in `.arpa` or `.lm`
/// (`.gz` after either compresses), else the binary format.
pub fn save(model: &NGramModel, path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let arpa_names = [".arpa", ".arpa.gz", ".lm", ".lm.gz"];
    if arpa_names.iter().any(|s| name.ends_with(s)) {
        arpa::save_arpa(model, path)
    } else {
        binary::save(model, path)
    }
}
