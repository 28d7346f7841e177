//! [`Array`]: a slice that is either owned or borrowed from a memory-mapped file.
//!
//! A model loaded from its binary file keeps its big arrays in the page cache:
//! opening is O(1) in the model size and every process that opens the same
//! file shares one copy. Mutation (only done while estimating) copies first.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use memmap2::Mmap;

/// Owned or memory-mapped storage of plain numbers.
#[derive(Debug, Clone)]
pub enum Array<T: bytemuck::Pod> {
    /// Heap storage.
    Owned(Vec<T>),
    /// `len` values at byte `offset` of a mapped file (offset aligned for T).
    Mapped {
        /// The mapping, shared.
        map: Arc<Mmap>,
        /// Byte offset of the first value.
        offset: usize,
        /// Number of values.
        len: usize,
    },
}

impl<T: bytemuck::Pod> Default for Array<T> {
    fn default() -> Self {
        Array::Owned(Vec::new())
    }
}

impl<T: bytemuck::Pod> From<Vec<T>> for Array<T> {
    fn from(v: Vec<T>) -> Self {
        Array::Owned(v)
    }
}

impl<T: bytemuck::Pod> Deref for Array<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Array::Owned(v) => v,
            Array::Mapped { map, offset, len } => {
                // Every query reads arrays through here, several times per
                // token, so the checks are not repeated: `Array::mapped`, the
                // only constructor of this variant, checked that the bytes lie
                // inside the mapping and are aligned for T, and the mapping is
                // read-only and lives as long as `map`.
                // SAFETY: as just said; T is Pod, so any bytes are a valid T.
                unsafe { std::slice::from_raw_parts(map.as_ptr().add(*offset) as *const T, *len) }
            }
        }
    }
}

impl<T: bytemuck::Pod> DerefMut for Array<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        if let Array::Mapped { .. } = self {
            *self = Array::Owned(self.to_vec());
        }
        match self {
            Array::Owned(v) => v,
            Array::Mapped { .. } => &mut [],
        }
    }
}

impl<T: bytemuck::Pod> Array<T> {
    /// A view of `len` values at byte `offset` of `map`, if in bounds and aligned.
    pub fn mapped(map: &Arc<Mmap>, offset: usize, len: usize) -> Option<Self> {
        let end = offset.checked_add(len.checked_mul(std::mem::size_of::<T>())?)?;
        let bytes = map.get(offset..end)?;
        bytemuck::try_cast_slice::<u8, T>(bytes).ok()?;
        Some(Array::Mapped {
            map: map.clone(),
            offset,
            len,
        })
    }
}

/// Bytes in a transparent huge page on x86-64 and most arm64 kernels.
const HUGE_PAGE: usize = 2 << 20;

/// Arrays larger than this stay in the file's pages: copying would cost
/// seconds of opening time and as much memory again.
const MAX_COPY: usize = 1 << 30;

/// Arrays smaller than this stay in the file's pages (a copy takes a whole
/// huge page, so at most twice the array).
const MIN_COPY: usize = HUGE_PAGE / 2;

impl<T: bytemuck::Pod> Array<T> {
    /// The same values copied into anonymous memory the kernel is asked to
    /// back with transparent huge pages (Linux `MADV_HUGEPAGE`), or `self`
    /// unchanged where that is unavailable, the array is under 1 MiB or over
    /// 1 GiB, or the environment sets `NEXTWORD_HUGE_PAGES=0`.
    ///
    /// Why: scoring reads hash slots and trie entries at random over tens or
    /// hundreds of MB. With 4 KiB pages nearly every such read also misses the
    /// TLB, and the page walk, itself a cache miss, cannot be hidden by a
    /// prefetch (a prefetch waits for its walk); with 2 MiB pages the whole
    /// index fits the TLB. KenLM allocates its tables the same way. A file's
    /// page-cache pages cannot be remapped as huge pages on demand, hence the copy
    /// (about 10 ms per 100 MB; the file stays mapped for everything cold).
    pub fn on_huge_pages(self) -> Self {
        let bytes = std::mem::size_of_val::<[T]>(&self);
        // NEXTWORD_HUGE_PAGES=0 keeps the file's pages (what benches/report_trie.py
        // compares against).
        let off = std::env::var_os("NEXTWORD_HUGE_PAGES").is_some_and(|v| v == "0");
        if !(MIN_COPY..=MAX_COPY).contains(&bytes) || off || !cfg!(target_os = "linux") {
            return self;
        }
        self.copy_to_huge(bytes).unwrap_or(self)
    }

    #[cfg(target_os = "linux")]
    fn copy_to_huge(&self, bytes: usize) -> Option<Self> {
        // One spare huge page so the copy can start on a huge-page boundary,
        // and the length rounded up to whole huge pages so the last one is
        // covered too (the kernel backs only aligned 2 MiB spans that lie
        // wholly inside the mapping with huge pages).
        let mut map = memmap2::MmapOptions::new()
            .len(
                bytes
                    .checked_next_multiple_of(HUGE_PAGE)?
                    .checked_add(HUGE_PAGE)?,
            )
            .map_anon()
            .ok()?;
        let offset = map.as_ptr().align_offset(HUGE_PAGE);
        let _ = map.advise(memmap2::Advice::HugePage);
        let src: &[u8] = bytemuck::cast_slice(&self[..]);
        map.get_mut(offset..offset + bytes)?.copy_from_slice(src);
        let map = Arc::new(map.make_read_only().ok()?);
        Array::mapped(&map, offset, self.len())
    }

    #[cfg(not(target_os = "linux"))]
    fn copy_to_huge(&self, _bytes: usize) -> Option<Self> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_page_copy_keeps_every_value() {
        let values: Vec<u32> = (0..(3u32 << 20) / 4 + 7)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let copy = Array::from(values.clone()).on_huge_pages();
        assert_eq!(&copy[..], &values[..]);
        if cfg!(target_os = "linux") {
            assert!(matches!(copy, Array::Mapped { .. }));
        }
        // From 1 MiB an array is copied too (into one whole huge page).
        let mid: Vec<u32> = (0..(3u32 << 20) / 8 + 3).collect();
        let copy = Array::from(mid.clone()).on_huge_pages();
        assert_eq!(&copy[..], &mid[..]);
        if cfg!(target_os = "linux") {
            assert!(matches!(copy, Array::Mapped { .. }));
        }
        // Small arrays stay as they are.
        let small = Array::from(vec![1u32, 2, 3]).on_huge_pages();
        assert!(matches!(small, Array::Owned(_)));
        assert_eq!(&small[..], &[1, 2, 3]);
    }
}
