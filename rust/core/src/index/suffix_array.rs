//! Stage 2: the suffix array of the token stream, packed.
//!
//! Input: the token stream (ids below `alphabet`, [`SEP`] between documents).
//! Output: the start positions of all suffixes in lexicographic order (the
//! separator sorting after every token), each stored in `width` little-endian
//! bytes, the fewest that hold the stream's length (4 up to 4 G tokens, 5 up
//! to 1 T), followed by 8 zero bytes so that a reader can load any entry with
//! one unaligned 8-byte read.
//!
//! Sorting is SA-IS (induced sorting, linear time whatever the repetition in
//! the text) by libsais: on 16-bit tokens directly, on larger vocabularies
//! over an integer alphabet. A comparison sort would degrade to quadratic
//! time on repetitive text.

use libsais::{suffix_array::AlphabetSize, SuffixArrayConstruction, ThreadCount};

use super::SEP;
use crate::{Error, Result};

/// The bytes a position of a stream of `n` tokens needs.
pub fn pointer_width(n: u64) -> u8 {
    let bits = 64 - n.leading_zeros();
    bits.div_ceil(8).max(1) as u8
}

fn sais_error(e: impl std::fmt::Debug) -> Error {
    Error::InvalidArgument(format!("suffix array construction failed: {e:?}"))
}

/// The suffix array of `ids` (tokens below `alphabet`, or [`SEP`]), packed
/// into [`pointer_width`] bytes per entry plus 8 bytes of padding.
/// `wide` says whether the stream is stored with 32-bit tokens; `threads` 0
/// means all cores.
pub fn build(ids: &[u32], alphabet: u32, wide: bool, threads: usize) -> Result<(Vec<u8>, u8)> {
    let n = ids.len();
    let width = pointer_width(n as u64);
    let mut packed = Vec::with_capacity(n * width as usize + 8);
    let mut push = |p: u64| packed.extend_from_slice(&p.to_le_bytes()[..width as usize]);
    let threads = match threads {
        0 => ThreadCount::openmp_default(),
        t => ThreadCount::fixed(t.min(u16::MAX as usize) as u16),
    };
    let small = n < i32::MAX as usize;
    if !wide {
        let text: Vec<u16> = ids.iter().map(|&t| to_u16(t)).collect();
        let run = SuffixArrayConstruction::for_text(&text[..]);
        if small {
            let sa = run.in_owned_buffer32().multi_threaded(threads).run();
            sa.map_err(sais_error)?
                .suffix_array()
                .iter()
                .for_each(|&p| push(p as u64));
        } else {
            let sa = run.in_owned_buffer64().multi_threaded(threads).run();
            sa.map_err(sais_error)?
                .suffix_array()
                .iter()
                .for_each(|&p| push(p as u64));
        }
    } else {
        // The integer alphabet: the separator becomes `alphabet`, the largest symbol.
        let k = alphabet as i64 + 1;
        if small {
            let mut text: Vec<i32> = ids.iter().map(|&t| to_dense(t, alphabet) as i32).collect();
            let run = SuffixArrayConstruction::for_text_mut(&mut text[..])
                .in_owned_buffer32()
                .multi_threaded(threads);
            // SAFETY: every symbol of `text` is in 0..k (see `to_dense`).
            let sa = unsafe { run.with_alphabet_size(AlphabetSize::new(k as i32)) }.run();
            sa.map_err(sais_error)?
                .suffix_array()
                .iter()
                .for_each(|&p| push(p as u64));
        } else {
            let mut text: Vec<i64> = ids.iter().map(|&t| to_dense(t, alphabet)).collect();
            let run = SuffixArrayConstruction::for_text_mut(&mut text[..])
                .in_owned_buffer64()
                .multi_threaded(threads);
            // SAFETY: every symbol of `text` is in 0..k (see `to_dense`).
            let sa = unsafe { run.with_alphabet_size(AlphabetSize::new(k)) }.run();
            sa.map_err(sais_error)?
                .suffix_array()
                .iter()
                .for_each(|&p| push(p as u64));
        }
    }
    packed.extend_from_slice(&[0u8; 8]);
    Ok((packed, width))
}

/// A token as stored in a 16-bit stream (the separator as `u16::MAX`).
pub fn to_u16(t: u32) -> u16 {
    if t == SEP {
        u16::MAX
    } else {
        t as u16
    }
}

/// A token in `0..=alphabet`: ids as they are, the separator as `alphabet`
/// (ids are below `alphabet` by the stream's contract; anything else is
/// clamped there too, so the alphabet-size promise to libsais always holds).
fn to_dense(t: u32, alphabet: u32) -> i64 {
    t.min(alphabet) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpack(packed: &[u8], width: u8, n: usize) -> Vec<u64> {
        (0..n)
            .map(|i| {
                let at = i * width as usize;
                let mut b = [0u8; 8];
                b.copy_from_slice(&packed[at..at + 8]);
                u64::from_le_bytes(b) & (u64::MAX >> (64 - 8 * width as u32))
            })
            .collect()
    }

    fn naive(ids: &[u32]) -> Vec<u64> {
        let mut sa: Vec<u64> = (0..ids.len() as u64).collect();
        sa.sort_by(|&a, &b| ids[a as usize..].cmp(&ids[b as usize..]));
        sa
    }

    #[test]
    fn widths() {
        assert_eq!(pointer_width(0), 1);
        assert_eq!(pointer_width(255), 1);
        assert_eq!(pointer_width(256), 2);
        assert_eq!(pointer_width(u32::MAX as u64), 4);
        assert_eq!(pointer_width(1 << 32), 5);
    }

    #[test]
    fn both_alphabets_sort_like_a_comparison_sort() {
        let mut x: u64 = 7;
        for len in [1usize, 2, 5, 40, 300, 2000] {
            let ids: Vec<u32> = (0..len)
                .map(|i| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    if i + 1 == len || (x >> 60) == 0 {
                        SEP
                    } else {
                        ((x >> 33) % 4) as u32
                    }
                })
                .collect();
            let want = naive(&ids);
            for wide in [false, true] {
                let (packed, width) = build(&ids, 4, wide, 1).unwrap();
                assert_eq!(packed.len(), len * width as usize + 8);
                assert_eq!(unpack(&packed, width, len), want, "len {len} wide {wide}");
            }
        }
    }
}
