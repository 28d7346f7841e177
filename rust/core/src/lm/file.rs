//! Model files whatever their format: the binary format (told apart by its
//! magic number, not its name) or ARPA (plain, `.gz` or `.zst`).

use std::io::Read;
use std::path::Path;

use super::{arpa, binary, NGramModel};
use crate::control::Control;
use crate::tokenize::Tokenizer;
use crate::{Error, Result};

/// Binary models up to this size have every array's checksum verified unless
/// the caller says otherwise (about 0.1 s per GB; larger files open at once).
pub const VERIFY_BELOW: u64 = 1 << 30;

/// A model opened from a file, with what opening it noticed.
#[derive(Debug)]
pub struct Loaded {
    /// The model.
    pub model: NGramModel,
    /// What the caller should tell the user: an ARPA file without `<unk>`, a
    /// tokenizer other than the one the model was trained with.
    pub warnings: Vec<String>,
}

/// Open a model file. Both formats remember the tokenizer the model was
/// trained with (ARPA files that record none mean whitespace); a `tokenizer`
/// given here replaces it, with a warning when it differs. `verify` checks a
/// binary model's arrays (default: for files under [`VERIFY_BELOW`]).
pub fn load(path: &Path, tokenizer: Option<Tokenizer>, verify: Option<bool>) -> Result<Loaded> {
    load_with(path, tokenizer, verify, &Control::new())
}

/// [`load`], reporting progress to `control` and stopping when it is
/// cancelled (reading an ARPA file takes a while; a binary model opens at once).
pub fn load_with(
    path: &Path,
    tokenizer: Option<Tokenizer>,
    verify: Option<bool>,
    control: &Control,
) -> Result<Loaded> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::with_capacity(8);
    file.take(8)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    if !binary::is_binary_model(&head) {
        if let Some(e) = crate::binfmt::wrong_kind(path, &head, "a model") {
            return Err(e);
        }
        let read = arpa::load_arpa_with(path, tokenizer, control)?;
        return Ok(Loaded {
            model: read.model,
            warnings: read.warnings,
        });
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
    let mut model = binary::load(path, verify)?;
    let mut warnings = Vec::new();
    if let Some(given) = tokenizer {
        let recorded = model.vocab.tokenizer();
        if recorded.spec() != given.spec() {
            let (recorded, given) = (arpa::note(recorded), arpa::note(&given));
            warnings.extend(tokenizer_mismatch(path, &recorded, &given));
        }
        model.vocab.set_tokenizer(given);
    }
    Ok(Loaded { model, warnings })
}

/// The warning for a model read with a tokenizer other than its own (each
/// named as an ARPA comment names it).
pub(crate) fn tokenizer_mismatch(path: &Path, recorded: &str, given: &str) -> Option<String> {
    (given != recorded).then(|| {
        format!(
            "{} was trained with the tokenizer {recorded:?} but is read with {given:?}: \
             scores and predictions will be wrong unless text is tokenized as in training",
            path.display()
        )
    })
}

/// Write a model, atomically: ARPA when the name ends in `.arpa` or `.lm`
/// (`.gz` after either compresses), else the binary format.
pub fn save(model: &NGramModel, path: &Path) -> Result<()> {
    save_with(model, path, &Control::default())
}

/// [`save`], reporting progress to `control` and stopping when it is cancelled
/// (no file is left behind then).
pub fn save_with(model: &NGramModel, path: &Path, control: &Control) -> Result<()> {
    save_as(model, path, None, control)
}

/// [`save_with`] in a chosen binary `layout` (None: the hash layout). A
/// layout given with an ARPA name is refused: ARPA is text.
pub fn save_as(
    model: &NGramModel,
    path: &Path,
    layout: Option<binary::Layout>,
    control: &Control,
) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let arpa_names = [".arpa", ".arpa.gz", ".lm", ".lm.gz"];
    if arpa_names.iter().any(|s| name.ends_with(s)) {
        if layout.is_some() {
            return Err(Error::InvalidArgument(format!(
                "{}: an ARPA file has no binary layout; name the file .nwlm for layout/quantize",
                path.display()
            )));
        }
        arpa::save_arpa(&model.hash_layout(), path, control)
    } else {
        binary::save_layout_with(model, path, layout.unwrap_or_default(), control)
    }
}
