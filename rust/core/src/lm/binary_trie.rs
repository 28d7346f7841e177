//! The trie layout's side of the binary model format ([`super::binary`]):
//! the arrays each order writes, what its metadata records, and building an
//! order back from the mapped arrays with every length checked.

use super::array::Array;
use super::binary::{section, Section};
use super::packed::{Packed, Pointers};
use super::ranking::{DirRow, Rankings};
use super::slots::SlotTable;
use super::trie::{TrieLevel, Values};
use crate::binfmt::{Reader, Writer};
use crate::Result;
use std::sync::Arc;

fn packed(p: &Packed) -> Section<'_> {
    section::<u64>(&p.words)
}

/// The arrays of `v`; backoffs in a slot table share the probabilities'
/// record numbers when those are in it too (`probs`).
fn values_sections<'a>(v: &'a Values, probs: Option<&Values>) -> (Section<'a>, Section<'a>) {
    let shared = matches!(probs, Some(Values::Slotted { .. }));
    match v {
        Values::Absent => (section::<u64>(&[]), section::<f32>(&[])),
        Values::Raw { bits, .. } => (packed(bits), section::<f32>(&[])),
        Values::Quantized { codes, centers } => (packed(codes), section::<f32>(centers)),
        Values::Slotted { .. } if shared => (section::<u64>(&[]), section::<f32>(&[])),
        Values::Slotted { at, .. } => (packed(at), section::<f32>(&[])),
    }
}

/// A trie order's arrays: words, probabilities (bits or codes) and their
/// centres, backoffs and theirs, child pointers (low bits, high-part table),
/// unigrams' by-probability order and cumulative probabilities, and from
/// version 8 the stored rankings (directory, permutations, running sums).
pub(super) fn trie_sections(level: &TrieLevel, version: u32) -> Vec<Section<'_>> {
    let (probs, prob_centers) = values_sections(&level.probs, None);
    let (backoffs, backoff_centers) = values_sections(&level.backoffs, Some(&level.probs));
    let mut out = vec![
        packed(&level.words),
        probs,
        prob_centers,
        backoffs,
        backoff_centers,
        packed(&level.next.low),
        section::<u32>(&level.next.first),
        section::<u32>(&level.by_prob),
        section::<f32>(&level.cum),
    ];
    if version >= RANKED_VERSION {
        let r = &level.rankings;
        out.push(section::<DirRow>(&r.dir));
        out.push(section::<u64>(&r.ranks));
        out.push(section::<f64>(&r.sums));
    }
    if version >= HASHED_VERSION {
        let words = level.slots.as_ref().map_or(&[][..], |t| &t.words[..]);
        out.push(section::<u64>(words));
    }
    out
}

/// The first format version with layout 2, the hash layout as a trie whose
/// values lie in [`SlotTable`]s (one more array per order, and the table's
/// shape in the order's metadata).
pub(super) const HASHED_VERSION: u32 = 9;

/// The first format version whose trie orders store rankings.
pub(super) const RANKED_VERSION: u32 = 8;

/// How many arrays a trie order has in format `version`.
pub(super) fn trie_arrays(version: u32) -> usize {
    if version >= HASHED_VERSION {
        13
    } else if version >= RANKED_VERSION {
        12
    } else {
        9
    }
}

fn values_meta(w: &mut Writer, v: &Values) {
    match v {
        Values::Absent => {
            w.u8(0);
            w.u8(0);
            w.u32(0);
        }
        Values::Raw { bits, sign } => {
            w.u8(1);
            w.u8(bits.bits);
            w.u32(*sign);
        }
        Values::Quantized { codes, .. } => {
            w.u8(2);
            w.u8(codes.bits);
            w.u32(0);
        }
        Values::Slotted { at, field, .. } => {
            w.u8(3);
            w.u8(at.bits);
            w.u32(u32::from(*field));
        }
    }
}

/// What a trie order records beside its arrays.
pub(super) fn trie_level_meta(w: &mut Writer, level: &TrieLevel, version: u32) {
    w.u64(level.len as u64);
    w.u8(level.words.bits);
    values_meta(w, &level.probs);
    values_meta(w, &level.backoffs);
    w.u8(level.next.low.bits);
    w.u64(level.next.len() as u64);
    if version >= RANKED_VERSION {
        w.u32(level.rankings.stored_from);
        w.u32(level.rankings.cum_every);
    }
    if version >= HASHED_VERSION {
        let t = level.slots.as_deref();
        w.u64(t.map_or(0, |t| t.cap as u64));
        w.u8(t.map_or(0, |t| t.rec as u8));
        w.u64(t.map_or(0, |t| t.seed));
    }
}

/// What a trie order's metadata records (see `trie_level_meta`).
pub(super) struct TrieShape {
    len: usize,
    word_bits: u8,
    probs: (u8, u8, u32),
    backoffs: (u8, u8, u32),
    next_bits: u8,
    next_len: usize,
    /// Version 8 on: the rankings' `stored_from` and `cum_every` (0, 0 before).
    ranked: (u32, u32),
    /// Version 9 on: the slot table's records, bytes per record and seed
    /// (no table: 0 records).
    slots: (usize, usize, u64),
}

impl TrieShape {
    pub(super) fn read(r: &mut Reader<'_>, version: u32) -> Result<Self> {
        let len = r.u64()? as usize;
        let word_bits = r.u8()?;
        let probs = (r.u8()?, r.u8()?, r.u32()?);
        let backoffs = (r.u8()?, r.u8()?, r.u32()?);
        let next_bits = r.u8()?;
        let next_len = r.u64()? as usize;
        let ranked = if version >= RANKED_VERSION {
            (r.u32()?, r.u32()?)
        } else {
            (0, 0)
        };
        let slots = if version >= HASHED_VERSION {
            (r.u64()? as usize, r.u8()? as usize, r.u64()?)
        } else {
            (0, 0, 0)
        };
        Ok(Self {
            slots,
            ranked,
            len,
            word_bits,
            probs,
            backoffs,
            next_bits,
            next_len,
        })
    }

    fn values(
        &self,
        (kind, bits, sign): (u8, u8, u32),
        codes: Array<u64>,
        centers: Array<f32>,
        table: Option<&Arc<SlotTable>>,
        shared: Option<&Packed>,
    ) -> std::result::Result<Values, String> {
        let packed = |bits: u8| {
            Packed::from_words(codes.clone(), bits, self.len)
                .ok_or_else(|| "packed values do not match their count".to_string())
        };
        match kind {
            0 => Ok(Values::Absent),
            1 if (bits == 31 && sign == 0x8000_0000) || (bits == 32 && sign == 0) => {
                Ok(Values::Raw {
                    bits: packed(bits)?,
                    sign,
                })
            }
            2 if (1..=super::quantize::MAX_BITS).contains(&bits) && centers.len() == 1 << bits => {
                Ok(Values::Quantized {
                    codes: packed(bits)?,
                    centers,
                })
            }
            3 if sign <= 1 && centers.is_empty() => {
                let Some(table) = table else {
                    return Err("values in a slot table the order lacks".into());
                };
                // Backoffs share the probabilities' record numbers when
                // those are in the table too.
                let at = match shared {
                    Some(at) if sign == 1 && codes.is_empty() => at.clone(),
                    _ => packed(bits)?,
                };
                if u64::from(bits) < u64::from(super::packed::bits_for(table.cap as u64 - 1)) {
                    return Err("record numbers too narrow for their slot table".into());
                }
                Ok(Values::Slotted {
                    at,
                    table: table.clone(),
                    field: sign as u8,
                })
            }
            _ => Err(format!("bad value encoding (kind {kind}, {bits} bits)")),
        }
    }

    /// The order from its arrays, checking every length against the metadata.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn build(
        &self,
        first: bool,
        last: bool,
        words: Array<u64>,
        probs: Array<u64>,
        prob_centers: Array<f32>,
        backoffs: Array<u64>,
        backoff_centers: Array<f32>,
        next: Array<u64>,
        highs: Array<u32>,
        by_prob: Array<u32>,
        cum: Array<f32>,
        rankings: Option<(Array<DirRow>, Array<u64>, Array<f64>)>,
        slots: Array<u64>,
    ) -> std::result::Result<TrieLevel, String> {
        let (cap, rec, seed) = self.slots;
        let slots = match cap {
            0 if slots.is_empty() => None,
            _ => Some(Arc::new(
                SlotTable::from_words(slots, cap, rec, seed)
                    .ok_or("the slot table does not match its shape")?,
            )),
        };
        if first && slots.is_some() {
            return Err("a slot table out of place".into());
        }
        // What scoring reads at random goes on huge pages (see `Array::on_huge_pages`).
        let words = Packed::from_words(words.on_huge_pages(), self.word_bits, self.len)
            .ok_or("word ids do not match their count")?;
        let table = slots.as_ref();
        let probs = self.values(self.probs, probs.on_huge_pages(), prob_centers, table, None)?;
        let shared = match &probs {
            Values::Slotted { at, .. } => Some(at),
            _ => None,
        };
        let backoffs = self.values(
            self.backoffs,
            backoffs.on_huge_pages(),
            backoff_centers,
            table,
            shared,
        )?;
        if matches!(probs, Values::Absent) || matches!(backoffs, Values::Absent) != last {
            return Err("values missing or out of place".into());
        }
        let want_next = if last { 0 } else { self.len + 1 };
        if self.next_len != want_next {
            return Err("child pointers do not match the entry count".into());
        }
        let next = if last {
            Pointers::default()
        } else {
            let low = Packed::from_words(next.on_huge_pages(), self.next_bits, self.next_len)
                .ok_or("child pointers do not match their count")?;
            if highs.is_empty() {
                return Err("child pointers lack their table".into());
            }
            Pointers::from_parts(low, highs)
        };
        let want = if first { self.len } else { 0 };
        if by_prob.len() != want || cum.len() != want {
            return Err("by-probability arrays do not match the unigram count".into());
        }
        // What each range's rows promise is checked when a query reads it.
        let rankings = match rankings {
            Some((dir, ranks, sums)) if self.ranked.0 > 0 => {
                if first || self.ranked.1 == 0 || dir.is_empty() {
                    return Err("stored rankings out of place or without a directory".into());
                }
                Rankings {
                    stored_from: self.ranked.0,
                    cum_every: self.ranked.1,
                    dir,
                    ranks,
                    sums,
                }
            }
            _ => Rankings::default(),
        };
        Ok(TrieLevel {
            len: self.len,
            words,
            probs,
            backoffs,
            next,
            by_prob,
            cum,
            rankings,
            slots,
        })
    }
}
