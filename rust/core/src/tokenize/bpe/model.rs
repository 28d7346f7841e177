//! The BPE model: the bytes of every token id, the merges in priority order,
//! and the two directions between them.
//!
//! Encoding one pre-token starts from its bytes and repeatedly applies the
//! merge of lowest priority among adjacent pairs, the leftmost when a pair
//! occurs more than once (HF tokenizers' rule). The pairs wait in a min-heap
//! keyed (priority, position) over a linked list of symbols, so a piece of n
//! bytes takes O(n log n) whatever its content: a megabyte run of one letter
//! is one piece and must not go quadratic. Stale heap entries (a neighbour
//! merged since) are recognised on pop by re-reading the pair.
//!
//! Two shortcuts give the same ids faster (measured in
//! `benches/report_bpe.py`): a pre-token that is itself a token, and whose
//! bytes are known to merge back into it, is one hash lookup; a piece of at
//! most [`SHORT`] bytes merges in arrays on the stack by a linear scan for the
//! best pair, with no allocation and no heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use hashbrown::HashMap;
use rayon::prelude::*;

/// Marks a symbol merged into its left neighbour.
const DEAD: u32 = u32::MAX;

/// Pieces up to this many bytes merge on the stack ([`BpeModel::merge_short`]).
const SHORT: usize = 64;

/// The (priority, id) of a pair that has no merge.
const NO_MERGE: (u32, u32) = (u32::MAX, 0);

/// Token bytes, special tokens and merges of a byte-level BPE.
#[derive(Debug, Clone)]
pub struct BpeModel {
    // id -> bytes (a special token's bytes are its UTF-8 text).
    tokens: Vec<Vec<u8>>,
    // The special tokens and their ids, in id order.
    specials: Vec<(String, u32)>,
    // bytes -> id of every ordinary token.
    index: HashMap<Vec<u8>, u32>,
    byte_ids: [u32; 256],
    // (left, right) -> (priority, merged id).
    merges: HashMap<(u32, u32), (u32, u32)>,
    merge_list: Vec<(u32, u32)>,
    // id -> whether merging the token's own bytes gives the token back (so a
    // pre-token equal to it is that one id). Not always so: with merges
    // (b, c), (a, b) and a token "abc" from another path, "abc" merges to
    // [a, bc].
    whole: Vec<bool>,
}

impl BpeModel {
    /// A model of `tokens` (id order; ids in `specials` are special tokens,
    /// their bytes are their text) and `merges` in priority order. Every byte
    /// must be an ordinary token, tokens distinct, and each merge's two parts
    /// must concatenate to an ordinary token.
    pub fn new(
        tokens: Vec<Vec<u8>>,
        specials: &[u32],
        merges: Vec<(u32, u32)>,
    ) -> Result<Self, String> {
        if tokens.len() > DEAD as usize {
            return Err(format!(
                "{} tokens: at most {} fit in u32 ids",
                tokens.len(),
                DEAD
            ));
        }
        let mut is_special = vec![false; tokens.len()];
        let mut special_list = Vec::new();
        for &id in specials {
            let slot = is_special
                .get_mut(id as usize)
                .ok_or_else(|| format!("special token id {id} out of range"))?;
            if *slot {
                return Err(format!("special token id {id} given twice"));
            }
            *slot = true;
            let text = String::from_utf8(tokens[id as usize].clone())
                .map_err(|_| format!("special token {id} is not UTF-8"))?;
            special_list.push((text, id));
        }
        special_list.sort_by_key(|&(_, id)| id);
        let mut index = HashMap::with_capacity(tokens.len());
        for (id, bytes) in tokens.iter().enumerate() {
            if is_special[id] {
                continue;
            }
            if bytes.is_empty() {
                return Err(format!("token {id} is empty"));
            }
            if index.insert(bytes.clone(), id as u32).is_some() {
                return Err(format!(
                    "token {id} ({:?}) appears twice",
                    String::from_utf8_lossy(bytes)
                ));
            }
        }
        let mut byte_ids = [0u32; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            *slot = *index.get(&[b as u8][..]).ok_or_else(|| {
                format!("byte 0x{b:02x} has no token: a byte-level BPE needs all 256")
            })?;
        }
        let mut model = Self {
            tokens,
            specials: special_list,
            index,
            byte_ids,
            merges: HashMap::with_capacity(merges.len()),
            merge_list: Vec::with_capacity(merges.len()),
            whole: Vec::new(),
        };
        for (rank, (a, b)) in merges.into_iter().enumerate() {
            let joined = match (model.ordinary(a), model.ordinary(b)) {
                (Some(x), Some(y)) => [x, y].concat(),
                _ => return Err(format!("merge {rank}: ({a}, {b}) names no ordinary token")),
            };
            let new = *model.index.get(&joined).ok_or_else(|| {
                format!(
                    "merge {rank}: {:?} is not a token",
                    String::from_utf8_lossy(&joined)
                )
            })?;
            if model.merges.insert((a, b), (rank as u32, new)).is_some() {
                return Err(format!("merge {rank}: ({a}, {b}) appears twice"));
            }
            model.merge_list.push((a, b));
        }
        model.whole = (0..model.tokens.len() as u32)
            .into_par_iter()
            .map(|id| match model.ordinary(id) {
                Some(bytes) if bytes.len() > 1 => {
                    let mut ids = Vec::new();
                    model.merge(bytes, bytes.len(), &mut ids);
                    ids == [id]
                }
                _ => false,
            })
            .collect();
        Ok(model)
    }

    fn ordinary(&self, id: u32) -> Option<&[u8]> {
        let bytes = self.tokens.get(id as usize)?;
        (self.index.get(bytes) == Some(&id)).then_some(bytes.as_slice())
    }

    /// The number of ids (ordinary and special tokens).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there is no token (never true of a valid model).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The bytes of token `id`.
    pub fn token(&self, id: u32) -> Option<&[u8]> {
        self.tokens.get(id as usize).map(Vec::as_slice)
    }

    /// The id of the ordinary token of `bytes`.
    pub fn id_of(&self, bytes: &[u8]) -> Option<u32> {
        self.index.get(bytes).copied()
    }

    /// The special tokens and their ids, in id order.
    pub fn specials(&self) -> &[(String, u32)] {
        &self.specials
    }

    /// Whether `id` is a special token.
    pub fn is_special(&self, id: u32) -> bool {
        self.specials.iter().any(|&(_, s)| s == id)
    }

    /// The merges in priority order.
    pub fn merges(&self) -> &[(u32, u32)] {
        &self.merge_list
    }

    /// Append the ids of one pre-token's bytes to `out`.
    pub fn encode_piece(&self, piece: &[u8], out: &mut Vec<u32>) {
        match piece.len() {
            0 => {}
            1 => out.push(self.byte_ids[piece[0] as usize]),
            n => {
                // Most pre-tokens of ordinary text are tokens themselves: one
                // lookup, when merging the bytes is known to give that token.
                if let Some(&id) = self.index.get(piece) {
                    if self.whole[id as usize] {
                        out.push(id);
                        return;
                    }
                }
                self.merge(piece, n, out);
            }
        }
    }

    fn merge(&self, piece: &[u8], n: usize, out: &mut Vec<u32>) {
        if n <= SHORT {
            self.merge_short(piece, out)
        } else {
            self.merge_long(piece, out)
        }
    }

    /// (priority, merged id) of the pair `(a, b)`, or `NO_MERGE`.
    #[inline]
    fn pair(&self, a: u32, b: u32) -> (u32, u32) {
        self.merges.get(&(a, b)).copied().unwrap_or(NO_MERGE)
    }

    /// The merges of a piece of at most [`SHORT`] bytes: arrays on the stack,
    /// a linear scan for the best pair (quadratic, but n is small and nothing
    /// is allocated). Same rule as [`Self::merge_long`]: lowest priority,
    /// leftmost on ties (priorities are distinct, so ties are one pair repeated).
    fn merge_short(&self, piece: &[u8], out: &mut Vec<u32>) {
        let mut len = piece.len();
        let mut ids = [0u32; SHORT];
        // pairs[i]: the merge of ids[i] and ids[i + 1].
        let mut pairs = [NO_MERGE; SHORT];
        for (slot, &b) in ids.iter_mut().zip(piece) {
            *slot = self.byte_ids[b as usize];
        }
        for i in 0..len - 1 {
            pairs[i] = self.pair(ids[i], ids[i + 1]);
        }
        loop {
            let mut k = 0;
            let mut best = NO_MERGE.0;
            for (i, &(rank, _)) in pairs[..len - 1].iter().enumerate() {
                if rank < best {
                    best = rank;
                    k = i;
                }
            }
            if best == NO_MERGE.0 {
                break;
            }
            ids[k] = pairs[k].1;
            ids.copy_within(k + 2..len, k + 1);
            pairs.copy_within(k + 2..(len - 1).max(k + 2), k + 1);
            len -= 1;
            if k + 1 < len {
                pairs[k] = self.pair(ids[k], ids[k + 1]);
            }
            if k > 0 {
                pairs[k - 1] = self.pair(ids[k - 1], ids[k]);
            }
            if len == 1 {
                break;
            }
        }
        out.extend_from_slice(&ids[..len]);
    }

    /// The merges of a piece longer than [`SHORT`] bytes, in O(n log n).
    fn merge_long(&self, piece: &[u8], out: &mut Vec<u32>) {
        let n = piece.len();
        let mut ids: Vec<u32> = piece.iter().map(|&b| self.byte_ids[b as usize]).collect();
        // Linked list over positions: next[i] == n and prev[i] == usize::MAX mark the ends.
        let mut next: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut heap = BinaryHeap::with_capacity(n);
        for i in 0..n - 1 {
            if let Some(&(rank, _)) = self.merges.get(&(ids[i], ids[i + 1])) {
                heap.push(Reverse((rank, i)));
            }
        }
        while let Some(Reverse((rank, i))) = heap.pop() {
            let j = next[i];
            if ids[i] == DEAD || j >= n {
                continue;
            }
            let Some(&(now, new)) = self.merges.get(&(ids[i], ids[j])) else {
                continue;
            };
            if now != rank {
                continue; // stale: the pair at i changed since it was pushed
            }
            ids[i] = new;
            ids[j] = DEAD;
            next[i] = next[j];
            if next[i] < n {
                prev[next[i]] = i;
            }
            let p = prev[i];
            if p != usize::MAX {
                if let Some(&(r, _)) = self.merges.get(&(ids[p], new)) {
                    heap.push(Reverse((r, p)));
                }
            }
            if next[i] < n {
                if let Some(&(r, _)) = self.merges.get(&(new, ids[next[i]])) {
                    heap.push(Reverse((r, i)));
                }
            }
        }
        let mut i = 0;
        while i < n {
            out.push(ids[i]);
            i = next[i];
        }
    }

    /// Append the bytes of `ids` to `out`; an id out of range is an error naming it.
    pub fn decode_into(&self, ids: &[u32], out: &mut Vec<u8>) -> Result<(), u32> {
        for &id in ids {
            out.extend_from_slice(self.token(id).ok_or(id)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn bytes_and(extra: &[&str]) -> Vec<Vec<u8>> {
        let mut tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        tokens.extend(extra.iter().map(|s| s.as_bytes().to_vec()));
        tokens
    }

    #[test]
    fn merges_apply_by_priority_then_leftmost() {
        // 256 = "ab", 257 = "bc", 258 = "abc"
        let m = BpeModel::new(
            bytes_and(&["bc", "ab", "abc"]),
            &[],
            vec![(98, 99), (97, 98), (257, 99)],
        )
        .unwrap();
        let mut out = Vec::new();
        m.encode_piece(b"abc", &mut out);
        assert_eq!(out, [97, 256]); // "bc" first, then no (a, bc) merge
        out.clear();
        m.encode_piece(b"abab", &mut out);
        assert_eq!(out, [257, 257]);
        out.clear();
        m.encode_piece(b"", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn runs_merge_left_to_right() {
        let m = BpeModel::new(bytes_and(&["aa", "aaaa"]), &[], vec![(97, 97), (256, 256)]).unwrap();
        let mut out = Vec::new();
        m.encode_piece(b"aaaaaaa", &mut out);
        assert_eq!(out, [257, 256, 97]);
        out.clear();
        m.encode_piece(&vec![b'a'; 1 << 20], &mut out);
        assert_eq!(out.len(), 1 << 18);
    }

    #[test]
    fn short_and_long_merging_agree() {
        // Merges over a three-letter alphabet, in a scrambled priority order,
        // including tokens that their own bytes do not merge back into.
        let mut tokens = bytes_and(&[]);
        let mut merges = Vec::new();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut rand = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut ids: Vec<u32> = vec![97, 98, 99];
        while merges.len() < 40 {
            let (a, b) = (ids[rand(ids.len())], ids[rand(ids.len())]);
            let joined = [tokens[a as usize].clone(), tokens[b as usize].clone()].concat();
            if merges.contains(&(a, b)) || joined.len() > 12 {
                continue;
            }
            let id = match tokens.iter().position(|t| *t == joined) {
                Some(id) => id as u32,
                None => {
                    tokens.push(joined);
                    ids.push(tokens.len() as u32 - 1);
                    tokens.len() as u32 - 1
                }
            };
            let _ = id;
            merges.push((a, b));
        }
        let m = BpeModel::new(tokens, &[], merges).unwrap();
        for _ in 0..2000 {
            let n = 2 + rand(SHORT - 1);
            let piece: Vec<u8> = (0..n).map(|_| b"abc"[rand(3)]).collect();
            let (mut short, mut long, mut whole) = (Vec::new(), Vec::new(), Vec::new());
            m.merge_short(&piece, &mut short);
            m.merge_long(&piece, &mut long);
            m.encode_piece(&piece, &mut whole);
            assert_eq!(short, long, "{:?}", String::from_utf8_lossy(&piece));
            assert_eq!(short, whole);
        }
    }

    #[test]
    fn bad_models_are_named() {
        let e = BpeModel::new(bytes_and(&["ab"]), &[], vec![(97, 99)]).unwrap_err();
        assert!(e.contains("merge 0"), "{e}");
        let e = BpeModel::new(vec![vec![0]], &[], vec![]).unwrap_err();
        assert!(e.contains("byte 0x01"), "{e}");
        let e = BpeModel::new(bytes_and(&["a"]), &[], vec![]).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let m = BpeModel::new(bytes_and(&["<s>"]), &[256], vec![]).unwrap();
        assert_eq!(m.specials(), [("<s>".to_string(), 256)]);
        let mut out = Vec::new();
        assert_eq!(m.decode_into(&[60, 999], &mut out), Err(999));
    }
}
