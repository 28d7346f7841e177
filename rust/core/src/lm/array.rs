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
