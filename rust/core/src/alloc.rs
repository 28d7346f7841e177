//! A global allocator for gigabyte-scale tables: transparent huge pages on
//! large blocks, and the largest blocks kept for reuse once freed.
//!
//! Counting a big corpus allocates gigabytes of hash tables and arrays; with
//! 4 KiB pages the kernel takes millions of page faults to hand them out (we
//! measured a third of all CPU time in the kernel on the Gutenberg set). Where
//! THP is in `madvise` mode, `madvise(MADV_HUGEPAGE)` on blocks of 4 MiB and
//! more makes those faults 512 times rarer.
//!
//! Even with huge pages, every page the kernel hands out is zeroed first, and
//! on a virtual machine it is often backed by the host only when touched: the
//! Gutenberg 5-gram spent 18% of its CPU time in `clear_page_erms`, on the
//! sorted runs, merges and per-order arrays that each stage frees and the next
//! allocates again. So blocks of [`POOLED`] bytes and more are mapped here
//! directly, and a freed one is kept (up to [`POOL_LIMIT`] bytes in all) for
//! the next large block, which then reuses pages already resident: a best
//! fit, split if larger, or, when no freed block is large enough, several
//! moved side by side into one (`mremap` moves their pages: no copy, no
//! fault), the rest mapped fresh. The pool never holds more than the most the process
//! ever had in large blocks less what it has in use now, so large blocks
//! never take more than at their own peak (the process's peak can still rise
//! a little, where smaller allocations peak at another time). A job within a
//! memory budget starts with an empty pool and a peak reset to what is in use
//! ([`begin_budget`]), so the pool stays within the job's own peak, which the
//! budget bounds; [`release_pool`] empties it at the end of a job.
//!
//! Everything else is the system allocator unchanged. Binaries opt in with
//! `#[global_allocator] static A: HugePageAlloc = HugePageAlloc;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;

/// The system allocator plus `MADV_HUGEPAGE` on large blocks, and the
/// largest blocks mapped and pooled here (Linux only).
pub struct HugePageAlloc;

const LARGE: usize = 4 << 20;

/// How many [`SmallPages`] guards live: while any does, no block is
/// advised to take huge pages.
static SMALL_PAGES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// While it lives, the large blocks mapped are left to small pages (no
/// `MADV_HUGEPAGE`), for a job that writes a gigabyte of fresh memory once,
/// mostly in order, rather than reading large tables at random.
///
/// On a virtual machine, a huge page fault needs 2 MiB of contiguous guest
/// memory, which after another large process has exited is often memory the
/// host no longer backs: on this project's 2-core VM, counting the Gutenberg
/// orders 1..3 right after the plain-Python reference (a 560 MB process) spent
/// 2.1-2.5 s in the kernel with huge pages and 0.7 s with small ones (wall
/// 3.1-3.7 s against 2.5-2.7 s); in a steady state both took 2.3-2.8 s.
/// Blocks already pooled keep how they were mapped.
pub struct SmallPages(());

impl SmallPages {
    /// Small pages for the blocks mapped from now until the guard drops
    /// (in every thread: the advice is a hint, so other jobs meanwhile are
    /// only backed differently, never wrongly).
    pub fn begin() -> Self {
        SMALL_PAGES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(())
    }
}

impl Drop for SmallPages {
    fn drop(&mut self) {
        SMALL_PAGES.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[inline]
fn advise(ptr: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if size >= LARGE
        && !ptr.is_null()
        && SMALL_PAGES.load(std::sync::atomic::Ordering::Relaxed) == 0
    {
        // Align inward to 2 MiB: madvise wants page-aligned ranges, and only
        // whole huge pages can be backed by huge pages anyway.
        const HUGE: usize = 2 << 20;
        let start = (ptr as usize).div_ceil(HUGE) * HUGE;
        let end = (ptr as usize + size) / HUGE * HUGE;
        if end > start {
            // SAFETY: the range lies inside a block this allocator just handed
            // out; MADV_HUGEPAGE only changes how the kernel backs it.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, size);
}

/// Blocks of this size and more are mapped here and pooled when freed.
pub const POOLED: usize = 8 << 20;
/// Bytes the pool holds at most.
const POOL_LIMIT: usize = 8 << 30;
const HUGE: usize = 2 << 20;
/// Free blocks the pool holds at most (a fixed array: the pool never allocates).
const SLOTS: usize = 256;

/// Freed large blocks kept for reuse.
struct Pool {
    free: Mutex<Free>,
    /// Bytes the pool may hold.
    limit: usize,
}

struct Free {
    /// Free blocks (address, length), `n` of them in use.
    blocks: [(usize, usize); SLOTS],
    n: usize,
    /// Bytes in `blocks`.
    bytes: usize,
    /// Bytes of mapped blocks in use, and the most there ever were.
    live: usize,
    peak: usize,
}

impl Free {
    /// The first `len` bytes of pooled block `i` (at most its length), now
    /// in use: the block shrinks, or leaves the pool when used whole.
    fn use_from(&mut self, i: usize, len: usize) -> usize {
        let (at, have) = self.blocks[i];
        if have > len {
            self.blocks[i] = (at + len, have - len);
        } else {
            self.n -= 1;
            self.blocks[i] = self.blocks[self.n];
        }
        self.bytes -= len;
        self.live += len;
        at
    }
}

/// The pool of [`HugePageAlloc`].
static POOL: Pool = Pool::new(POOL_LIMIT);

impl Pool {
    /// An empty pool that keeps up to `limit` bytes.
    const fn new(limit: usize) -> Self {
        Self {
            free: Mutex::new(Free {
                blocks: [(0, 0); SLOTS],
                n: 0,
                bytes: 0,
                live: 0,
                peak: 0,
            }),
            limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Free> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A pooled block of exactly `len` bytes (the best fit, split when larger).
    fn take(&self, len: usize) -> Option<*mut u8> {
        let mut free = self.lock();
        let best = (0..free.n)
            .filter(|&i| free.blocks[i].1 >= len)
            .min_by_key(|&i| free.blocks[i].1)?;
        Some(free.use_from(best, len) as *mut u8)
    }

    /// Count `len` more bytes in use that are not from the pool (a fresh
    /// mapping, or one grown), first unmapping what of the pool would make
    /// the mapped bytes, in use and pooled, more than the most ever in use:
    /// so the pool never raises the peak of mapped blocks, it only saves
    /// faulting pages in again below it.
    fn grow(&self, len: usize) {
        let keep = {
            let mut free = self.lock();
            free.live += len;
            free.peak = free.peak.max(free.live);
            free.peak - free.live
        };
        self.shrink_to(keep);
    }

    /// Count `len` bytes in use no longer (unmapped, or a failed mapping).
    fn shrink(&self, len: usize) {
        let mut free = self.lock();
        free.live = free.live.saturating_sub(len);
    }

    /// A block of `len` bytes and how many of its first bytes were reused
    /// (the rest freshly mapped): one pooled block when one is large enough,
    /// else pooled blocks moved side by side ([`Pool::stitch`]), else a
    /// fresh mapping.
    fn block(&self, len: usize) -> (*mut u8, usize) {
        if let Some(p) = self.take(len) {
            return (p, len);
        }
        if let Some(stitched) = self.stitch(len) {
            return stitched;
        }
        self.grow(len);
        let p = map(len);
        if p.is_null() {
            self.shrink(len);
        }
        (p, 0)
    }

    /// A block of `len` bytes whose first bytes are pooled blocks moved side
    /// by side (`mremap` moves their pages: no copy, no fault), the largest
    /// first, and the rest freshly mapped; and how many bytes were reused.
    /// None when the pool is empty (or a mapping fails).
    ///
    /// No pooled block fits `len` alone here. Without this, the blocks a
    /// stage frees (a count's key buffers and word tables, 400 MB on the
    /// Gutenberg trigrams) stayed pooled while the next stage's larger arrays
    /// faulted in fresh pages, which on a VM cost about 2 ms a megabyte.
    fn stitch(&self, len: usize) -> Option<(*mut u8, usize)> {
        let mut moved = [(0usize, 0usize); SLOTS];
        let (mut k, mut filled) = (0, 0);
        {
            let mut free = self.lock();
            while filled < len {
                let Some(i) = (0..free.n).max_by_key(|&i| free.blocks[i].1) else {
                    break;
                };
                let got = free.blocks[i].1.min(len - filled);
                moved[k] = (free.use_from(i, got), got);
                k += 1;
                filled += got;
            }
        }
        if k == 0 {
            return None;
        }
        let fresh = len - filled;
        if fresh > 0 {
            self.grow(fresh);
        }
        let base = map(len);
        if base.is_null() {
            self.shrink(fresh);
            for &(at, got) in &moved[..k] {
                self.give_back(at as *mut u8, got);
            }
            return None;
        }
        let mut off = 0;
        for &(at, got) in &moved[..k] {
            move_pages(at, got, base as usize + off);
            off += got;
        }
        Some((base, filled))
    }

    /// Keep a freed block of `len` mapped bytes for reuse, or unmap it.
    fn give_back(&self, ptr: *mut u8, len: usize) {
        {
            let mut free = self.lock();
            free.live = free.live.saturating_sub(len);
            if free.n < SLOTS && free.bytes + len <= self.limit {
                let n = free.n;
                free.blocks[n] = (ptr as usize, len);
                free.n += 1;
                free.bytes += len;
                return;
            }
        }
        unmap(ptr, len);
    }

    /// Unmap pooled blocks until at most `keep` bytes stay.
    fn shrink_to(&self, keep: usize) {
        loop {
            let (at, len) = {
                let mut free = self.lock();
                if free.bytes <= keep || free.n == 0 {
                    return;
                }
                let n = free.n - 1;
                free.n = n;
                free.bytes -= free.blocks[n].1;
                free.blocks[n]
            };
            unmap(at as *mut u8, len);
        }
    }

    /// Bytes held (freed, resident, kept for reuse).
    fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

/// Whether a block of `layout` is mapped here (and pooled when freed).
#[inline]
fn mapped(size: usize, align: usize) -> bool {
    cfg!(target_os = "linux") && size >= POOLED && align <= HUGE
}

/// Bytes mapped for a block of `size` bytes: whole huge pages.
#[inline]
fn mapped_len(size: usize) -> usize {
    size.div_ceil(HUGE) * HUGE
}

#[cfg(target_os = "linux")]
fn unmap(ptr: *mut u8, len: usize) {
    // SAFETY: `ptr..ptr + len` is a range this allocator mapped and no block uses.
    unsafe {
        libc::munmap(ptr.cast(), len);
    }
}

/// Move the pages of pooled bytes `from..from + len` to `to..to + len`, part
/// of a fresh mapping, which they replace (`from` is unmapped). A range that
/// spans mappings (a block stitched before) moves a huge page at a time; a
/// page that cannot move is unmapped, and its place stays fresh.
#[cfg(target_os = "linux")]
fn move_pages(from: usize, len: usize, to: usize) {
    let flags = libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED;
    let at = |off: usize, len: usize| {
        // SAFETY: `from + off..` is pooled, used by no block, and `to + off..`
        // is part of a mapping just made that no block uses yet.
        unsafe {
            libc::mremap(
                (from + off) as *mut libc::c_void,
                len,
                len,
                flags,
                (to + off) as *mut libc::c_void,
            )
        }
    };
    if at(0, len) != libc::MAP_FAILED {
        return;
    }
    for off in (0..len).step_by(HUGE) {
        let n = HUGE.min(len - off);
        if at(off, n) == libc::MAP_FAILED {
            unmap((from + off) as *mut u8, n);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn move_pages(_from: usize, _len: usize, _to: usize) {}

#[cfg(not(target_os = "linux"))]
fn unmap(_ptr: *mut u8, _len: usize) {}

/// `len` fresh bytes (a multiple of [`HUGE`]), aligned to a huge page.
#[cfg(target_os = "linux")]
fn map(len: usize) -> *mut u8 {
    let Some(span) = len.checked_add(HUGE) else {
        return std::ptr::null_mut();
    };
    // SAFETY: an anonymous private mapping; the unaligned ends are unmapped.
    unsafe {
        let base = libc::mmap(
            std::ptr::null_mut(),
            span,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if base == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        let base = base as usize;
        let at = base.div_ceil(HUGE) * HUGE;
        if at > base {
            libc::munmap(base as *mut libc::c_void, at - base);
        }
        let end = base + span;
        if end > at + len {
            libc::munmap((at + len) as *mut libc::c_void, end - at - len);
        }
        advise(at as *mut u8, len);
        at as *mut u8
    }
}

#[cfg(not(target_os = "linux"))]
fn map(_len: usize) -> *mut u8 {
    std::ptr::null_mut()
}

/// Hand the whole pages inside `items` back to the system while their block
/// stays allocated: a stage that has read part of a large array for the last
/// time frees that part at once, so that the arrays it writes take those
/// pages rather than fresh ones (on a VM, faulting pages the host has not
/// backed yet costs about 2 s a gigabyte: see docs/scaling.md).
///
/// A block so freed may then go to the pool, which counts it as resident
/// until reused; budgeted jobs, which plan by [`crate::count::runs::resident_bytes`],
/// empty the pool when they start ([`begin_budget`]) and free nothing this way.
///
/// # Safety
/// Nothing may read `items` afterwards: their pages read as zeros (or as
/// whatever is written there next). Dropping the block is fine.
pub unsafe fn discard<T>(items: &[T]) {
    const PAGE: usize = 4096;
    let from = items.as_ptr() as usize;
    let start = from.div_ceil(PAGE) * PAGE;
    let end = (from + std::mem::size_of_val(items)) / PAGE * PAGE;
    // SAFETY: whole pages inside `items`, which the caller no longer reads.
    unsafe { dont_need(start, end) };
}

/// Hand pages `start..end` (page-aligned addresses; nothing when empty)
/// back to the system: they read as zeros afterwards.
///
/// # Safety
/// Nothing reads the range afterwards, and it lies in memory the caller owns.
unsafe fn dont_need(start: usize, end: usize) {
    #[cfg(target_os = "linux")]
    if end > start {
        // SAFETY: as the caller promises.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, end);
}

/// [`discard`] for an array freed from its start, bit by bit: `prefix` is
/// the part read for the last time so far (a prefix of the array, growing
/// from call to call), and `done` the address up to which earlier calls
/// freed it (0 at first). Only whole huge pages go, so none is split (a
/// partial release makes the kernel split a huge page into small ones, a
/// cost on every later fault there).
///
/// # Safety
/// As for [`discard`]: nothing reads `prefix` afterwards.
pub unsafe fn discard_prefix<T>(prefix: &[T], done: &mut usize) {
    let from = prefix.as_ptr() as usize;
    let start = from.div_ceil(HUGE).max(done.div_ceil(HUGE)) * HUGE;
    let end = (from + std::mem::size_of_val(prefix)) / HUGE * HUGE;
    if end > start {
        // SAFETY: whole pages inside `prefix`, which the caller no longer reads.
        unsafe { dont_need(start, end) };
        *done = end;
    }
}

/// Unmap every block [`HugePageAlloc`]'s pool holds (the end of a job: what
/// it freed goes back to the system rather than staying resident).
pub fn release_pool() {
    POOL.shrink_to(0);
}

/// Bytes [`HugePageAlloc`]'s pool holds.
pub fn pooled_bytes() -> usize {
    POOL.bytes()
}

/// The start of a job within a memory budget: [`HugePageAlloc`]'s pool is
/// emptied and its peak reset to what is in use now, so from here on what it
/// pools never takes the resident size past the job's own peak (which the
/// budget bounds). Budgeted code measures what it uses with
/// [`crate::count::runs::resident_bytes`], which leaves pooled bytes out:
/// they are free for the job's next blocks.
pub fn begin_budget() {
    {
        let mut free = POOL.lock();
        free.peak = free.live;
    }
    POOL.shrink_to(0);
}

// SAFETY: blocks below `POOLED` are forwarded to `System` (`advise` never
// touches memory); larger ones are whole mappings or pooled parts of them,
// handed to one owner at a time, and told apart by the layout's size, which
// the caller passes unchanged to `dealloc` and `realloc`.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if mapped(layout.size(), layout.align()) {
            let len = mapped_len(layout.size());
            return POOL.block(len).0;
        }
        let p = System.alloc(layout);
        advise(p, layout.size());
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if mapped(layout.size(), layout.align()) {
            let len = mapped_len(layout.size());
            let (p, reused) = POOL.block(len);
            if !p.is_null() && reused > 0 {
                // Reused pages: zeroing them is far cheaper than faulting
                // fresh ones (which come zeroed).
                std::ptr::write_bytes(p, 0, reused.min(layout.size()));
            }
            return p;
        }
        let p = System.alloc_zeroed(layout);
        advise(p, layout.size());
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if mapped(layout.size(), layout.align()) {
            POOL.give_back(ptr, mapped_len(layout.size()));
            return;
        }
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (old, new) = (
            mapped(layout.size(), layout.align()),
            mapped(new_size, layout.align()),
        );
        if !old && !new {
            let p = System.realloc(ptr, layout, new_size);
            advise(p, new_size);
            return p;
        }
        if old && new {
            let (from, to) = (mapped_len(layout.size()), mapped_len(new_size));
            if from == to {
                return ptr;
            }
            // The kernel moves the pages themselves: no copy, no fresh faults.
            #[cfg(target_os = "linux")]
            {
                if to > from {
                    POOL.grow(to - from);
                }
                let p = libc::mremap(ptr.cast(), from, to, libc::MREMAP_MAYMOVE);
                if to > from && p == libc::MAP_FAILED {
                    POOL.shrink(to - from);
                }
                if p != libc::MAP_FAILED {
                    if to < from {
                        POOL.shrink(from - to);
                    }
                    advise(p.cast(), to);
                    return p.cast();
                }
            }
        }
        // Between classes, or to another length: a new block, the bytes
        // copied, the old block freed (to the pool when large).
        let Ok(to) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        let p = self.alloc(to);
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool reuses the best-fitting freed block (split when larger),
    /// keeps no more than its limit, and unmaps on shrinking.
    #[test]
    fn a_pool_reuses_the_best_fit_within_its_limit() {
        let pool = Pool::new(8 * HUGE);
        let (a, b) = (map(4 * HUGE), map(2 * HUGE));
        assert!(!a.is_null() && !b.is_null());
        assert_eq!(a as usize % HUGE, 0);
        pool.give_back(a, 4 * HUGE);
        pool.give_back(b, 2 * HUGE);
        assert_eq!(pool.bytes(), 6 * HUGE);
        // Past the limit: unmapped, not kept.
        pool.give_back(map(4 * HUGE), 4 * HUGE);
        assert_eq!(pool.bytes(), 6 * HUGE);
        // The best fit for one huge page is `b`, split; then `a` whole.
        assert_eq!(pool.take(HUGE), Some(b));
        assert_eq!(pool.take(4 * HUGE), Some(a));
        assert_eq!(pool.take(2 * HUGE), None);
        assert_eq!(pool.bytes(), HUGE);
        pool.shrink_to(0);
        assert_eq!(pool.bytes(), 0);
        unmap(a, 4 * HUGE);
        unmap(b, HUGE);
    }

    /// Blocks in use and pooled never add up to more than the most ever in
    /// use: a fresh block the pool cannot give first unmaps what is pooled.
    #[test]
    fn the_pool_never_raises_the_peak() {
        let pool = Pool::new(64 * HUGE);
        let in_use_and_pooled = |pool: &Pool| {
            let free = pool.lock();
            (free.live + free.bytes, free.peak)
        };
        let (a, reused) = pool.block(4 * HUGE);
        assert!(reused == 0 && !a.is_null());
        let (b, _) = pool.block(2 * HUGE);
        assert_eq!(in_use_and_pooled(&pool), (6 * HUGE, 6 * HUGE));
        pool.give_back(a, 4 * HUGE);
        pool.give_back(b, 2 * HUGE);
        assert_eq!(pool.bytes(), 6 * HUGE);
        // 9 huge pages fit no pooled block: both are stitched in, 3 fresh.
        let (c, reused) = pool.block(9 * HUGE);
        assert!(!c.is_null());
        assert_eq!(reused, 6 * HUGE);
        assert_eq!(pool.bytes(), 0);
        assert_eq!(in_use_and_pooled(&pool), (9 * HUGE, 9 * HUGE));
        pool.give_back(c, 9 * HUGE);
        // Reused: within the peak, nothing unmapped.
        let (d, reused) = pool.block(3 * HUGE);
        assert_eq!(reused, 3 * HUGE);
        assert_eq!(d, c);
        assert_eq!(in_use_and_pooled(&pool), (9 * HUGE, 9 * HUGE));
        pool.give_back(d, 3 * HUGE);
        pool.shrink_to(0);
    }

    /// Pooled blocks too small alone are moved side by side into a larger
    /// one, their pages and bytes with them (a fresh page would read zero),
    /// largest first; a stitched block, freed and stitched again, moves too
    /// (it spans several mappings: a huge page at a time).
    #[test]
    fn small_pooled_blocks_stitch_into_a_large_one() {
        let pool = Pool::new(64 * HUGE);
        let (a, _) = pool.block(2 * HUGE);
        let (b, _) = pool.block(3 * HUGE);
        unsafe {
            std::ptr::write_bytes(a, 0xA, 2 * HUGE);
            std::ptr::write_bytes(b, 0xB, 3 * HUGE);
        }
        pool.give_back(a, 2 * HUGE);
        pool.give_back(b, 3 * HUGE);
        let (c, reused) = pool.block(6 * HUGE);
        assert_eq!(reused, 5 * HUGE);
        let byte = |p: *mut u8, off: usize| unsafe { *p.add(off) };
        assert_eq!(byte(c, 0), 0xB);
        assert_eq!(byte(c, 3 * HUGE - 1), 0xB);
        assert_eq!(byte(c, 3 * HUGE), 0xA);
        assert_eq!(byte(c, 5 * HUGE - 1), 0xA);
        assert_eq!(byte(c, 5 * HUGE), 0);
        unsafe { std::ptr::write_bytes(c, 0xC, 6 * HUGE) };
        pool.give_back(c, 6 * HUGE);
        let (d, _) = pool.block(HUGE);
        pool.give_back(d, HUGE);
        // The pool holds 5 huge pages of `c` and 1 apart: 7 takes both.
        let (e, reused) = pool.block(7 * HUGE);
        assert_eq!(reused, 6 * HUGE);
        assert!((0..6 * HUGE).step_by(4096).all(|off| byte(e, off) == 0xC));
        assert_eq!(byte(e, 7 * HUGE - 1), 0);
        pool.give_back(e, 7 * HUGE);
        pool.shrink_to(0);
    }

    /// A block mapped while a [`SmallPages`] guard lives is not advised to
    /// take huge pages (its mapping's flags in `/proc/self/smaps` lack `hg`).
    #[cfg(target_os = "linux")]
    #[test]
    fn small_pages_map_without_the_huge_page_advice() {
        let flags_of = |p: *mut u8| -> String {
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            let mut inside = false;
            for line in smaps.lines() {
                if let Some((range, _)) = line.split_once(' ') {
                    if let Some((a, b)) = range.split_once('-') {
                        if let (Ok(a), Ok(b)) =
                            (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                        {
                            inside = (a..b).contains(&(p as usize));
                            continue;
                        }
                    }
                }
                if inside && line.starts_with("VmFlags:") {
                    return line.to_string();
                }
            }
            panic!("no mapping holds {p:?}");
        };
        let p = {
            let _small = SmallPages::begin();
            map(4 * HUGE)
        };
        assert!(!p.is_null());
        let flags = flags_of(p);
        assert!(!flags.split_whitespace().any(|f| f == "hg"), "{flags}");
        unmap(p, 4 * HUGE);
    }

    /// Through the allocator's calls (the test binary's global allocator is
    /// the system's, so these go to `HugePageAlloc` directly): bytes survive
    /// reallocation across both classes, `alloc_zeroed` gives zeros even
    /// from a reused block, and none of it depends on the pool keeping it.
    #[test]
    fn large_blocks_keep_their_bytes_and_zeroed_ones_are_zero() {
        let a = HugePageAlloc;
        let big = Layout::from_size_align(3 * POOLED, 8).unwrap();
        let small = Layout::from_size_align(POOLED + 1, 8).unwrap();
        unsafe {
            let p = a.alloc(big);
            assert!(!p.is_null());
            std::ptr::write_bytes(p, 7, big.size());
            a.dealloc(p, big);
            let q = a.alloc_zeroed(small);
            assert!((0..small.size()).step_by(4093).all(|i| *q.add(i) == 0));
            assert_eq!(*q.add(small.size() - 1), 0);
            *q.add(5) = 42;
            // Within the same huge pages the block stays; past them it moves.
            let r = a.realloc(q, small, small.size() + 100);
            assert_eq!(r, q);
            let grown = Layout::from_size_align(small.size() + 100, 8).unwrap();
            let s = a.realloc(r, grown, 4 * POOLED);
            assert_eq!(*s.add(5), 42);
            let tiny = a.realloc(s, Layout::from_size_align(4 * POOLED, 8).unwrap(), 64);
            assert_eq!(*tiny.add(5), 42);
            let back = a.realloc(tiny, Layout::from_size_align(64, 8).unwrap(), 2 * POOLED);
            assert_eq!(*back.add(5), 42);
            a.dealloc(back, Layout::from_size_align(2 * POOLED, 8).unwrap());
        }
    }
}
