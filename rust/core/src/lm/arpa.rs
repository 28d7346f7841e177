//! ARPA files: write (plain or `.gz`) and read, interoperable with KenLM and SRILM.
//!
//! Values are written as the shortest decimal that reads back as the same f32
//! (what lmplz prints); log10(0) is written as -99, the SRILM convention.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use super::level::Level;
use super::model::{NGramModel, Remainder};
use crate::control::Control;
use crate::tokenize::{Tokenizer, Vocab, BOS, EOS, UNK};
use crate::{Error, Result};

fn fmt(v: f32) -> String {
    if v == f32::NEG_INFINITY || v < -99.0 {
        return "-99".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    if v.abs() < 1e-6 {
        return format!("{v:e}");
    }
    let shortest = format!("{v}");
    even_tie(&shortest, v).unwrap_or(shortest)
}

/// Rust prints the shortest round-trip decimal, breaking exact ties upward;
/// lmplz (double-conversion) breaks them to the even digit. When the exact
/// value lies exactly halfway between two shortest candidates, return the even one.
fn even_tie(shortest: &str, v: f32) -> Option<String> {
    let (_, frac) = shortest.split_once('.')?;
    let digits = frac.len();
    let exact = format!("{:.80}", v as f64);
    let (int_part, exact_frac) = exact.split_once('.')?;
    let rest = exact_frac.get(digits..)?;
    let tie = rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0');
    if !tie {
        return None;
    }
    let trunc = format!("{int_part}.{}", &exact_frac[..digits]);
    let last = trunc.bytes().last()? - b'0';
    if last.is_multiple_of(2) {
        return Some(trunc);
    }
    if last == 9 {
        return None;
    }
    let mut up = trunc.into_bytes();
    let n = up.len();
    up[n - 1] += 1;
    String::from_utf8(up).ok()
}

/// Write `model` as ARPA to `out`.
pub fn write_arpa(model: &NGramModel, out: &mut dyn Write) -> std::io::Result<()> {
    let words = model.vocab.words();
    writeln!(out, "\\data\\")?;
    for level in &model.levels {
        writeln!(out, "ngram {}={}", level.n, level.len())?;
    }
    let top = model.order();
    for level in &model.levels {
        writeln!(out, "\n\\{}-grams:", level.n)?;
        let mut line = String::new();
        // lmplz's order: by last word, then the word before it, and so on.
        let mut order: Vec<usize> = (0..level.len()).collect();
        order.sort_unstable_by(|&a, &b| level.key(a).iter().rev().cmp(level.key(b).iter().rev()));
        for i in order {
            line.clear();
            line.push_str(&fmt(level.logprob[i]));
            line.push('\t');
            for (j, &id) in level.key(i).iter().enumerate() {
                if j > 0 {
                    line.push(' ');
                }
                line.push_str(words.get(id as usize).map_or(UNK, String::as_str));
            }
            if level.n < top {
                line.push('\t');
                line.push_str(&fmt(level.backoff[i]));
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    writeln!(out, "\n\\end\\")?;
    Ok(())
}

/// Write `model` as ARPA to `path` (gzipped when it ends in `.gz`), atomically.
///
/// ARPA's backoff semantics cannot express add-k's uniform remainder or
/// stupid backoff's alpha for unseen contexts: those models refuse, and are
/// saved in the binary format instead.
pub fn save_arpa(model: &NGramModel, path: &Path) -> Result<()> {
    let expressible = matches!(model.remainder, Remainder::LowerOrder { unseen_context } if unseen_context == 0.0);
    if !expressible {
        return Err(Error::InvalidArgument(format!(
            "a {} model cannot be written as ARPA (its backoff rule is not ARPA's); save it as .nwlm",
            model.smoothing
        )));
    }
    let gzip = path.to_string_lossy().ends_with(".gz");
    crate::binfmt::write_atomic(path, |out| {
        if gzip {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::new(6));
            write_arpa(model, &mut gz)?;
            gz.finish()?.flush()
        } else {
            write_arpa(model, out)
        }
    })
}

fn parse_f32(s: &str) -> Option<f32> {
    match s {
        "-inf" | "-Infinity" => Some(f32::NEG_INFINITY),
        // +inf (an overflowing "1e999") or NaN is no log-probability.
        _ => s
            .parse::<f32>()
            .ok()
            .filter(|v| !v.is_nan() && *v != f32::INFINITY),
    }
}

/// Read an ARPA file (plain, `.gz` or `.zst`). Tokens are mapped through a
/// vocabulary built from the unigrams in file order after `<unk>`, `<s>`, `</s>`.
pub fn load_arpa(path: &Path, tokenizer: Tokenizer) -> Result<NGramModel> {
    let control = Control::new();
    let reader = BufReader::with_capacity(1 << 20, crate::corpus::read::open(path, &control)?);
    let bad = |line: usize, msg: String| Error::format(path, format!("line {line}: {msg}"));
    let mut declared: Vec<usize> = Vec::new();
    let mut declared_at: Vec<usize> = Vec::new();
    let mut vocab = Vocab::new(tokenizer);
    let mut section = 0usize; // 0 = header, n = in \n-grams:, usize::MAX = after \end\
    let mut seen_data = false;
    let mut raw: Vec<Vec<(Vec<u32>, f32, f32)>> = Vec::new();
    let mut ids = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let lineno = index + 1;
        let line = line.map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                bad(lineno, format!("invalid UTF-8 or compressed data: {e}"))
            }
            // A truncated or corrupt .gz/.zst fails mid-read: the file is bad.
            _ => bad(lineno, format!("cannot read: {e}")),
        })?;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            continue;
        }
        if line == "\\data\\" {
            seen_data = true;
            continue;
        }
        if line == "\\end\\" {
            section = usize::MAX;
            break;
        }
        if let Some(rest) = line
            .strip_prefix('\\')
            .and_then(|r| r.strip_suffix("-grams:"))
        {
            let n: usize = rest
                .parse()
                .map_err(|_| bad(lineno, format!("bad section header {line:?}")))?;
            if n != section + 1 || n > declared.len() {
                return Err(bad(lineno, format!("unexpected section \\{n}-grams:")));
            }
            section = n;
            raw.push(Vec::with_capacity(declared[n - 1]));
            continue;
        }
        if section == 0 {
            if !seen_data {
                return Err(bad(lineno, "not an ARPA file (no \\data\\ header)".into()));
            }
            let spec = line
                .strip_prefix("ngram ")
                .and_then(|r| r.split_once('='))
                .ok_or_else(|| bad(lineno, format!("bad header line {line:?}")))?;
            let n: usize = spec
                .0
                .trim()
                .parse()
                .map_err(|_| bad(lineno, "bad order".into()))?;
            let count: usize = spec
                .1
                .trim()
                .parse()
                .map_err(|_| bad(lineno, "bad count".into()))?;
            if n != declared.len() + 1 {
                return Err(bad(
                    lineno,
                    format!("header declares order {n} out of sequence"),
                ));
            }
            declared.push(count);
            declared_at.push(lineno);
            continue;
        }
        let n = section;
        let mut fields = line.split(['\t', ' ']).filter(|f| !f.is_empty());
        let logprob = fields
            .next()
            .and_then(parse_f32)
            .ok_or_else(|| bad(lineno, format!("bad probability in {line:?}")))?;
        ids.clear();
        for _ in 0..n {
            let word = fields
                .next()
                .ok_or_else(|| bad(lineno, format!("expected {n} words in {line:?}")))?;
            let id = if n == 1 {
                vocab.add(word, 0)
            } else {
                vocab
                    .get(word)
                    .ok_or_else(|| bad(lineno, format!("word {word:?} is not a unigram")))?
            };
            ids.push(id);
        }
        let backoff = match fields.next() {
            Some(f) => {
                parse_f32(f).ok_or_else(|| bad(lineno, format!("bad backoff in {line:?}")))?
            }
            None => 0.0,
        };
        if fields.next().is_some() {
            return Err(bad(lineno, format!("too many fields in {line:?}")));
        }
        raw[n - 1].push((ids.clone(), logprob, backoff));
    }
    if section != usize::MAX {
        return Err(Error::format(
            path,
            "truncated ARPA file: no \\end\\ marker",
        ));
    }
    if raw.len() != declared.len() || declared.is_empty() {
        return Err(Error::format(
            path,
            "ARPA file misses n-gram sections its header declares",
        ));
    }
    for (k, entries) in raw.iter().enumerate() {
        if entries.len() != declared[k] {
            return Err(bad(
                declared_at[k],
                format!(
                    "header declares {} {}-grams, file holds {}",
                    declared[k],
                    k + 1,
                    entries.len()
                ),
            ));
        }
    }
    let _ = (BOS, EOS);
    let mut levels = Vec::with_capacity(raw.len());
    for (k, mut entries) in raw.into_iter().enumerate() {
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Error::format(path, format!("duplicate {}-gram", k + 1)));
        }
        let mut keys = Vec::with_capacity(entries.len() * (k + 1));
        let mut logprob = Vec::with_capacity(entries.len());
        let mut backoff = Vec::with_capacity(entries.len());
        for (key, p, b) in entries {
            keys.extend_from_slice(&key);
            logprob.push(p);
            backoff.push(b);
        }
        levels.push(Level::new(k + 1, keys, logprob, backoff));
    }
    // Specials missing from the file (an ARPA without <unk>) stay in the
    // vocabulary but have no unigram: they score as -inf, as in KenLM.
    Ok(NGramModel::from_levels(
        vocab,
        levels,
        Remainder::LowerOrder {
            unseen_context: 0.0,
        },
        "arpa",
        true,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_lmplz() {
        // -2.14453125 is exactly halfway between -2.1445312 and -2.1445313.
        assert_eq!(fmt(-(2.0 + 37.0 / 256.0)), "-2.1445312");
        assert_eq!(fmt(-1.0664062), "-1.0664062");
        assert_eq!(fmt(-0.92275405), "-0.92275405");
        assert_eq!(fmt(0.0), "0");
        assert_eq!(fmt(f32::NEG_INFINITY), "-99");
    }
}
