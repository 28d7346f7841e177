//! Files other tools read: HF tokenizers' `tokenizer.json` (byte-level BPE in
//! GPT-2's layout) and tiktoken's rank files (`BASE64-TOKEN RANK` per line).
//!
//! Both are written atomically. Reading checks every field this model needs
//! and names the one that is wrong (`model.merges[12]`, `line 40`); what a
//! byte-level BPE cannot express (a normalizer, `add_prefix_space`,
//! `ignore_merges`, another model type) is refused by name, not ignored.
//!
//! A rank file holds no merges: they are rebuilt as every split of a token
//! into two tokens, ranked by the token (tiktoken merges the adjacent pair
//! whose concatenation has the lowest rank). Our own merges can differ from
//! that rule only where a token is reachable by a split that was not a merge;
//! on ordinary text both give the same ids.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::{byte_level, pretokenize, BpeModel, BpeTokenizer};
use crate::binfmt::write_atomic;
use crate::{Error, Result};

fn format_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn read_text(path: &Path) -> Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            format_error(
                path,
                format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::NotFound(path.to_path_buf()))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Token bytes by id with the special flags, from entries that must cover
/// 0..N exactly once each.
fn assemble(
    entries: Vec<(u32, Vec<u8>, bool)>,
    what: &str,
) -> std::result::Result<(Vec<Vec<u8>>, Vec<u32>), String> {
    let n = entries.iter().map(|e| e.0 as usize + 1).max().unwrap_or(0);
    // Dense ids: the largest is below the number of entries (checked before
    // allocating, so a corrupt id cannot ask for gigabytes).
    if n > entries.len() {
        let mut present = vec![false; entries.len()];
        for e in &entries {
            if let Some(p) = present.get_mut(e.0 as usize) {
                *p = true;
            }
        }
        let missing = present.iter().position(|&p| !p).unwrap_or(entries.len());
        let len = entries.len();
        return Err(format!(
            "{what}: no token has id {missing} (ids must be 0..{len})"
        ));
    }
    let mut tokens: Vec<Option<Vec<u8>>> = vec![None; n];
    let mut specials = Vec::new();
    for (id, bytes, special) in entries {
        if tokens[id as usize].replace(bytes).is_some() {
            return Err(format!("{what}: id {id} given twice"));
        }
        if special {
            specials.push(id);
        }
    }
    let tokens = tokens
        .into_iter()
        .enumerate()
        .map(|(id, t)| {
            t.ok_or_else(|| format!("{what}: no token has id {id} (ids must be 0..{n})"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((tokens, specials))
}

/// Write `tok` as an HF `tokenizer.json` that `tokenizers.Tokenizer.from_file` loads.
pub fn save_tokenizer_json(tok: &BpeTokenizer, path: &Path) -> Result<()> {
    let model = tok.model();
    let mut vocab = Map::new();
    let mut added = Vec::new();
    for id in 0..model.len() as u32 {
        let bytes = model.token(id).unwrap_or_default();
        if model.is_special(id) {
            let content = String::from_utf8_lossy(bytes);
            added.push(
                json!({"id": id, "content": content, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true}),
            );
        } else {
            vocab.insert(byte_level::encode(bytes), json!(id));
        }
    }
    let merges: Vec<String> = model
        .merges()
        .iter()
        .map(|&(a, b)| {
            let part = |id| byte_level::encode(model.token(id).unwrap_or_default());
            format!("{} {}", part(a), part(b))
        })
        .collect();
    let byte_level = |use_regex: bool| json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex});
    let pre_tokenizer = if tok.pattern() == pretokenize::GPT2 {
        byte_level(true)
    } else {
        json!({"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": tok.pattern()}, "behavior": "Isolated", "invert": false},
            byte_level(false)]})
    };
    let doc = json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": null, "pre_tokenizer": pre_tokenizer, "post_processor": null,
        "decoder": byte_level(true),
        "model": {"type": "BPE", "dropout": null, "unk_token": null,
            "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": false,
            "byte_fallback": false, "ignore_merges": false, "vocab": vocab, "merges": merges}
    });
    write_atomic(path, |f| {
        serde_json::to_writer_pretty(&mut *f, &doc).map_err(std::io::Error::other)?;
        f.write_all(b"\n")
    })
}

/// Read a byte-level BPE `tokenizer.json` (ours, or GPT-2's layout from HF).
pub fn load_tokenizer_json(path: &Path) -> Result<BpeTokenizer> {
    let text = read_text(path)?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format_error(path, format!("not JSON: {e}")))?;
    let err = |m: String| format_error(path, m);
    let model = doc
        .get("model")
        .ok_or_else(|| err("no field \"model\"".into()))?;
    let field_is = |v: &Value, name: &str, ok: &dyn Fn(&Value) -> bool| -> Result<()> {
        match v.get(name) {
            Some(x) if !ok(x) => Err(err(format!(
                "{name} = {x} is not supported by a byte-level BPE"
            ))),
            _ => Ok(()),
        }
    };
    field_is(model, "type", &|x| x == "BPE")?;
    field_is(model, "ignore_merges", &|x| x.is_null() || x == false)?;
    field_is(model, "byte_fallback", &|x| x.is_null() || x == false)?;
    field_is(model, "dropout", &Value::is_null)?;
    for affix in ["continuing_subword_prefix", "end_of_word_suffix"] {
        field_is(model, affix, &|x| x.is_null() || x == "")?;
    }
    field_is(&doc, "normalizer", &Value::is_null)?;
    let pattern =
        pattern_of_pre_tokenizer(doc.get("pre_tokenizer").unwrap_or(&Value::Null)).map_err(err)?;
    let vocab = model
        .get("vocab")
        .and_then(Value::as_object)
        .ok_or_else(|| err("model.vocab is missing or not an object".into()))?;
    let mut entries = Vec::with_capacity(vocab.len());
    for (key, id) in vocab {
        let id = id
            .as_u64()
            .filter(|&i| i < u32::MAX as u64)
            .ok_or_else(|| err(format!("model.vocab[{key:?}]: id {id} is not a u32")))?;
        let bytes = byte_level::decode(key)
            .ok_or_else(|| err(format!("model.vocab[{key:?}]: not a byte-level token")))?;
        entries.push((id as u32, bytes, false));
    }
    let added = doc
        .get("added_tokens")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, a) in added.iter().enumerate() {
        let id = a
            .get("id")
            .and_then(Value::as_u64)
            .filter(|&i| i < u32::MAX as u64);
        let content = a.get("content").and_then(Value::as_str);
        let (Some(id), Some(content)) = (id, content) else {
            return Err(err(format!(
                "added_tokens[{i}]: needs an integer id and a string content"
            )));
        };
        for flag in ["lstrip", "rstrip", "single_word"] {
            if a.get(flag) == Some(&Value::Bool(true)) {
                return Err(err(format!(
                    "added_tokens[{i}].{flag} = true is not supported"
                )));
            }
        }
        // The same id in model.vocab (GPT-2 lists <|endoftext|> in both) is the special token.
        entries.retain(|e| e.0 != id as u32);
        entries.push((id as u32, content.as_bytes().to_vec(), true));
    }
    let (tokens, specials) = assemble(entries, "model.vocab").map_err(err)?;
    let merges_json = model
        .get("merges")
        .and_then(Value::as_array)
        .ok_or_else(|| err("model.merges is missing or not a list".into()))?;
    let index = ordinary_index(&tokens, &specials);
    let mut merges = Vec::with_capacity(merges_json.len());
    for (i, m) in merges_json.iter().enumerate() {
        let parts: Option<(&str, &str)> = match m {
            Value::String(s) => s.split_once(' '),
            Value::Array(a) if a.len() == 2 => a[0].as_str().zip(a[1].as_str()),
            _ => None,
        };
        let id = |s: &str| byte_level::decode(s).and_then(|b| index.get(b.as_slice()).copied());
        match parts.map(|(a, b)| (id(a), id(b))) {
            Some((Some(a), Some(b))) => merges.push((a, b)),
            _ => {
                return Err(err(format!(
                    "model.merges[{i}]: {m} is not two tokens of model.vocab"
                )))
            }
        }
    }
    drop(index);
    let model = BpeModel::new(tokens, &specials, merges).map_err(|e| err(format!("model: {e}")))?;
    BpeTokenizer::new(model, &pattern)
}

fn pattern_of_pre_tokenizer(pre: &Value) -> std::result::Result<String, String> {
    let kind = pre.get("type").and_then(Value::as_str).unwrap_or("");
    let no_prefix = |p: &Value| match p.get("add_prefix_space") {
        Some(Value::Bool(true)) => {
            Err("pre_tokenizer.add_prefix_space = true is not supported".to_string())
        }
        _ => Ok(()),
    };
    match kind {
        "ByteLevel" => {
            no_prefix(pre)?;
            if pre.get("use_regex") == Some(&Value::Bool(false)) {
                return Err("pre_tokenizer: ByteLevel without a regex is not supported".into());
            }
            Ok(pretokenize::GPT2.into())
        }
        "Sequence" => {
            let parts = pre
                .get("pretokenizers")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            match parts {
                [split, level]
                    if split.get("type") == Some(&json!("Split"))
                        && level.get("type") == Some(&json!("ByteLevel")) =>
                {
                    no_prefix(level)?;
                    let regex = split.pointer("/pattern/Regex").and_then(Value::as_str);
                    let isolated = split.get("behavior") == Some(&json!("Isolated"));
                    match regex {
                        Some(r) if isolated && split.get("invert") != Some(&Value::Bool(true)) => {
                            Ok(r.to_string())
                        }
                        _ => Err(
                            "pre_tokenizer: Split must be an Isolated, non-inverted Regex".into(),
                        ),
                    }
                }
                _ => Err("pre_tokenizer: a Sequence must be [Split, ByteLevel]".into()),
            }
        }
        _ => Err(format!(
            "pre_tokenizer: type {kind:?} is not a byte-level pre-tokenizer"
        )),
    }
}

/// Write the ordinary tokens as a tiktoken rank file (`BASE64 RANK` lines).
pub fn save_tiktoken(tok: &BpeTokenizer, path: &Path) -> Result<()> {
    let model = tok.model();
    write_atomic(path, |f| {
        for id in 0..model.len() as u32 {
            if !model.is_special(id) {
                writeln!(
                    f,
                    "{} {id}",
                    BASE64.encode(model.token(id).unwrap_or_default())
                )?;
            }
        }
        Ok(())
    })
}

/// Read a tiktoken rank file; `pattern` is the pre-tokenizer (not in the
/// file) and `specials` the special tokens with their ids.
pub fn load_tiktoken(
    path: &Path,
    pattern: &str,
    specials: &[(String, u32)],
) -> Result<BpeTokenizer> {
    let text = read_text(path)?;
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| format_error(path, format!("line {}: {what}: {line:?}", i + 1));
        let (b64, rank) = line
            .split_once(' ')
            .ok_or_else(|| bad("expected BASE64-TOKEN RANK"))?;
        let bytes = BASE64.decode(b64.trim()).map_err(|_| bad("bad base64"))?;
        let rank: u32 = rank.trim().parse().map_err(|_| bad("rank is not a u32"))?;
        entries.push((rank, bytes, false));
    }
    entries.extend(
        specials
            .iter()
            .map(|(s, id)| (*id, s.as_bytes().to_vec(), true)),
    );
    let (tokens, special_ids) = assemble(entries, "ranks").map_err(|e| format_error(path, e))?;
    let merges = merges_of_ranks(&tokens, &special_ids);
    let model = BpeModel::new(tokens, &special_ids, merges).map_err(|e| format_error(path, e))?;
    BpeTokenizer::new(model, pattern)
}

/// Bytes -> id of the tokens that are not special.
fn ordinary_index<'a>(
    tokens: &'a [Vec<u8>],
    specials: &[u32],
) -> hashbrown::HashMap<&'a [u8], u32> {
    tokens
        .iter()
        .enumerate()
        .filter(|(id, _)| !specials.contains(&(*id as u32)))
        .map(|(id, t)| (t.as_slice(), id as u32))
        .collect()
}

/// Every split of each ordinary token into two ordinary tokens, ranked by
/// the token, then by the parts' ids.
fn merges_of_ranks(tokens: &[Vec<u8>], specials: &[u32]) -> Vec<(u32, u32)> {
    let index = ordinary_index(tokens, specials);
    let mut merges = Vec::new();
    for (id, t) in tokens.iter().enumerate() {
        if specials.contains(&(id as u32)) {
            continue;
        }
        let mut splits: Vec<(u32, u32)> = (1..t.len())
            .filter_map(|k| Some((*index.get(&t[..k])?, *index.get(&t[k..])?)))
            .collect();
        splits.sort_unstable();
        merges.extend(splits);
    }
    merges
}

#[cfg(test)]
mod tests {
    use super::super::trainer::{train, TrainOptions};
    use super::*;
    use crate::control::Control;
    use crate::corpus::Corpus;

    fn trained() -> BpeTokenizer {
        let corpus = Corpus::from_texts(vec![
            "the cat sat on the mat, the end 123 ünïcödé 家族"
                .into();
            4
        ]);
        let options = TrainOptions {
            vocab_size: 300,
            special_tokens: vec!["<|endoftext|>".into()],
            ..TrainOptions::default()
        };
        train(&corpus, &options, &Control::new(), 1).unwrap().0
    }

    #[test]
    fn tokenizer_json_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        let tok = trained();
        save_tokenizer_json(&tok, &path).unwrap();
        let back = load_tokenizer_json(&path).unwrap();
        let s = "the cat<|endoftext|> ünï 家";
        assert_eq!(back.encode(s), tok.encode(s));
        assert_eq!(back.model().merges(), tok.model().merges());
    }

    #[test]
    fn tiktoken_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ranks.tiktoken");
        let tok = trained();
        save_tiktoken(&tok, &path).unwrap();
        let n = tok.vocab_size() as u32 - 1;
        let back = load_tiktoken(&path, "gpt2", &[("<|endoftext|>".into(), n)]).unwrap();
        let s = "the cat sat<|endoftext|> on ünïcödé 家族";
        assert_eq!(back.encode(s), tok.encode(s));
    }

    #[test]
    fn bad_files_name_the_field_or_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        let tok = trained();
        save_tokenizer_json(&tok, &path).unwrap();
        let good = std::fs::read_to_string(&path).unwrap();
        for (from, to, expect) in [
            ("\"type\": \"BPE\"", "\"type\": \"WordPiece\"", "type"),
            (
                "\"merges\": [",
                "\"merges\": [\"zz qq\",",
                "model.merges[0]",
            ),
            (
                "\"vocab\": {",
                "\"vocab\": {\"zzq\": 9999,",
                "no token has id",
            ),
            (
                "\"add_prefix_space\": false",
                "\"add_prefix_space\": true",
                "add_prefix_space",
            ),
            ("\"dropout\": null", "\"dropout\": 0.1", "dropout"),
            (
                "\"lstrip\": false",
                "\"lstrip\": true",
                "added_tokens[0].lstrip",
            ),
        ] {
            std::fs::write(&path, good.replacen(from, to, 1)).unwrap();
            let e = match load_tokenizer_json(&path) {
                Ok(_) => panic!("{expect}: loaded"),
                Err(e) => e.to_string(),
            };
            assert!(e.contains(expect), "{expect}: {e}");
        }
        std::fs::write(&path, "AA== 4000000000\n").unwrap();
        let e = load_tiktoken(&path, "gpt2", &[]).unwrap_err().to_string();
        assert!(e.contains("no token has id 0"), "{e}");
        std::fs::write(&path, "AA== 0\nnot base64! 1\n").unwrap();
        let e = load_tiktoken(&path, "gpt2", &[]).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
