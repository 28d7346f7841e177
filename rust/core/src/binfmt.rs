//! The framing shared by nextword's binary files (vocabularies, counts, models).
//!
//! Layout: 8-byte magic, u32 format version, u64 payload length, the payload,
//! then the CRC-32 of everything before it. All integers are little-endian.
//! Files are written to a temporary name beside the target and renamed into
//! place, so a crash never leaves a half-written file under the real name.
//! Reading checks magic, version, length and checksum before parsing, and the
//! [`Reader`] bounds-checks every field, so corrupt bytes give
//! [`Error::Format`], never a panic or a huge allocation.

use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// The magic numbers of every file nextword writes, with what each file is,
/// so that a file given where another kind is expected is named for what it
/// is ("this is an n-gram counts file, not a model") instead of failing to parse.
const FILE_KINDS: [(&[u8; 8], &str); 6] = [
    (b"NWCOUNT\0", "an n-gram counts file"),
    (b"NWLMBIN\0", "a binary n-gram model"),
    (b"NWVOCAB\0", "a vocabulary file"),
    (b"NWVECTS\0", "a word-vectors file"),
    (b"NWTOKEN\0", "a tokenizer file"),
    (b"NWINDEX\0", "a corpus index"),
];

/// What kind of nextword file starts with `head` (its first bytes), if any:
/// `"an n-gram counts file"`, `"a binary n-gram model"`, ...
pub fn file_kind(head: &[u8]) -> Option<&'static str> {
    FILE_KINDS
        .iter()
        .find(|(magic, _)| head.starts_with(&magic[..]))
        .map(|&(_, kind)| kind)
}

/// The error for a file of another kind than the `what` expected, when its
/// magic number says which (None: not one of nextword's files).
pub fn wrong_kind(path: &Path, head: &[u8], what: &str) -> Option<Error> {
    file_kind(head).map(|kind| Error::format(path, format!("this is {kind}, not {what}")))
}

/// Append-only payload builder.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }
    /// Append a u8.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// Append a u32.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// Append a u64.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// Append a length-prefixed UTF-8 string.
    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }
    /// Append length-prefixed raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
    /// Append raw bytes (no length prefix).
    pub fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    /// Append a slice of u32 (no length prefix).
    pub fn u32s(&mut self, v: &[u32]) {
        self.buf.reserve(v.len() * 4);
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }
    /// Append a slice of u64 (no length prefix).
    pub fn u64s(&mut self, v: &[u64]) {
        self.buf.reserve(v.len() * 8);
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }

    /// The payload bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Frame the payload and write it atomically to `path`.
    pub fn save(&self, path: &Path, magic: &[u8; 8], version: u32) -> Result<()> {
        let mut head = Vec::with_capacity(20);
        head.extend_from_slice(magic);
        head.extend_from_slice(&version.to_le_bytes());
        head.extend_from_slice(&(self.buf.len() as u64).to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        crc.update(&self.buf);
        let crc = crc.finalize();

        write_atomic(path, |file| {
            file.write_all(&head)?;
            file.write_all(&self.buf)?;
            file.write_all(&crc.to_le_bytes())
        })
    }
}

/// Write a file through `fill` into a temporary name beside `path`, flush it to
/// disk and rename it into place: a crash or an error never leaves a partial
/// file under the real name (and removes the temporary one).
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<SyncingFile>) -> std::io::Result<()>,
) -> Result<()> {
    write_atomic_unless_cancelled(path, &crate::control::Control::new(), fill)
}

/// [`write_atomic`] for a long write: once `control` is cancelled (by `fill`
/// noticing it, or while the file is flushed to disk) the temporary file is
/// removed, nothing is renamed into place and the result is
/// [`Error::Cancelled`].
pub fn write_atomic_unless_cancelled(
    path: &Path,
    control: &crate::control::Control,
    fill: impl FnOnce(&mut std::io::BufWriter<SyncingFile>) -> std::io::Result<()>,
) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let file = SyncingFile::new(std::fs::File::create(&tmp)?);
        let mut file = std::io::BufWriter::with_capacity(1 << 20, file);
        fill(&mut file)?;
        control.set_stage("flushing to disk");
        file.into_inner()
            .map_err(|e| e.into_error())?
            .file
            .sync_all()?;
        if control.is_cancelled() {
            // Stopped after the last byte but before the rename: still no file.
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        control.check()?;
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// A file being written that asks the system to start writing its pages to
/// disk every [`SyncingFile::EVERY`] bytes (without waiting for them), so
/// that the final `fsync` of a file of gigabytes (an ARPA model) waits for
/// its last pages only instead of for the whole file: the disk works while
/// the rest is computed.
pub struct SyncingFile {
    file: std::fs::File,
    /// Where the next write goes, and where the last writeback started.
    at: u64,
    started: u64,
}

impl SyncingFile {
    /// Bytes between two writeback requests.
    pub const EVERY: u64 = 32 << 20;

    fn new(file: std::fs::File) -> Self {
        Self {
            file,
            at: 0,
            started: 0,
        }
    }

    /// Start writing back what was written since the last request.
    fn start_writeback(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a valid descriptor and range; the flag only starts
            // writeback (its failure changes nothing: fsync comes at the end).
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    self.started as libc::off64_t,
                    (self.at - self.started) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.started = self.at;
    }
}

impl Write for SyncingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.at += n as u64;
        if self.at - self.started >= Self::EVERY {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl std::io::Seek for SyncingFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        // Moved back (a header rewritten): count from there.
        self.at = self.file.seek(pos)?;
        self.started = self.started.min(self.at);
        Ok(self.at)
    }
}

/// Read a framed file: check magic, version, length and checksum; return the payload.
pub fn load(path: &Path, magic: &[u8; 8], version: u32, what: &str) -> Result<Vec<u8>> {
    load_versions(path, magic, version..=version, what).map(|(_, payload)| payload)
}

/// Read a framed file of any version in `versions` (a format that still reads
/// its older versions): check magic, version, length and checksum; return the
/// version found and the payload.
pub fn load_versions(
    path: &Path,
    magic: &[u8; 8],
    versions: std::ops::RangeInclusive<u32>,
    what: &str,
) -> Result<(u32, Vec<u8>)> {
    let mut bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.len() < 24 || &bytes[..8] != magic {
        // "an n-gram counts file": n-gram is said "en-gram".
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u', 'n']) {
            "an"
        } else {
            "a"
        };
        if let Some(e) = wrong_kind(path, &bytes, &format!("{article} {what} file")) {
            return Err(e);
        }
        return Err(Error::format(
            path,
            format!("not a nextword {what} file (bad magic number)"),
        ));
    }
    let found = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
    if !versions.contains(&found) {
        let (low, high) = (versions.start(), versions.end());
        let reads = if low == high {
            format!("version {high}")
        } else {
            format!("versions {low} to {high}")
        };
        return Err(Error::format(
            path,
            format!("{what} file format version {found}; this nextword reads {reads}"),
        ));
    }
    let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap_or_default());
    if len != (bytes.len() - 24) as u64 {
        return Err(Error::format(
            path,
            format!(
                "truncated or padded {what} file: header says {len} payload bytes, file holds {}",
                bytes.len() - 24
            ),
        ));
    }
    let body = bytes.len() - 4;
    let stored = u32::from_le_bytes(bytes[body..].try_into().unwrap_or_default());
    if crc32fast::hash(&bytes[..body]) != stored {
        return Err(Error::format(
            path,
            format!("{what} file is corrupt (checksum mismatch)"),
        ));
    }
    bytes.truncate(body);
    bytes.drain(..20);
    Ok((found, bytes))
}

/// Bounds-checked cursor over a payload.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`; `path` names the file in errors.
    pub fn new(buf: &'a [u8], path: &'a Path) -> Self {
        Self { buf, pos: 0, path }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| Error::format(self.path, "unexpected end of data"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    /// Read a u8.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    /// Read a u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }
    /// Read a u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }
    /// Read a length that must fit in the bytes left, `elem` bytes per element.
    pub fn len(&mut self, elem: usize) -> Result<usize> {
        let n = self.u64()?;
        let left = (self.buf.len() - self.pos) as u64;
        if n.saturating_mul(elem.max(1) as u64) > left {
            return Err(Error::format(
                self.path,
                "length field larger than the file",
            ));
        }
        Ok(n as usize)
    }
    /// Read a length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str> {
        let n = self.len(1)?;
        std::str::from_utf8(self.take(n)?)
            .map_err(|_| Error::format(self.path, "invalid UTF-8 in string"))
    }
    /// Read length-prefixed raw bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(1)?;
        self.take(n)
    }
    /// Read `n` u32 values.
    pub fn u32s(&mut self, n: usize) -> Result<Vec<u32>> {
        let bytes = self.take(
            n.checked_mul(4)
                .ok_or_else(|| Error::format(self.path, "overflow"))?,
        )?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    /// Read `n` u64 values.
    pub fn u64s(&mut self, n: usize) -> Result<Vec<u64>> {
        let bytes = self.take(
            n.checked_mul(8)
                .ok_or_else(|| Error::format(self.path, "overflow"))?,
        )?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }
    /// Every byte not read yet (the cursor moves to the end).
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }
    /// Fail unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(Error::format(self.path, "trailing bytes after the data"))
        }
    }
    /// A format error at this file.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::format(self.path, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file longer than a writeback interval, with its head rewritten
    /// after a seek back (as the corpus index does), reads back exactly.
    #[test]
    fn long_atomic_writes_with_a_seek_back_read_back() {
        use std::io::{Seek, SeekFrom};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.bin");
        let block: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
        let blocks = (SyncingFile::EVERY >> 20) as usize * 2 + 3;
        write_atomic(&path, |out| {
            out.write_all(&[0; 8])?;
            for _ in 0..blocks {
                out.write_all(&block)?;
            }
            out.seek(SeekFrom::Start(0))?;
            out.write_all(b"HEADHEAD")?;
            out.seek(SeekFrom::End(0))?;
            out.write_all(b"tail")
        })
        .unwrap();
        let got = std::fs::read(&path).unwrap();
        assert_eq!(got.len(), 8 + blocks * block.len() + 4);
        assert_eq!(&got[..8], b"HEADHEAD");
        assert!(got[8..8 + blocks * block.len()]
            .chunks(block.len())
            .all(|c| c == block.as_slice()));
        assert_eq!(&got[got.len() - 4..], b"tail");
        // Only the file itself: the temporary name is gone.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_of_another_kind_is_named_for_what_it_is() {
        let dir = std::env::temp_dir().join(format!("nw-binfmt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("counts.bin");
        let mut w = Writer::new();
        w.u32(7);
        w.save(&path, b"NWCOUNT\0", 1).unwrap();
        let err = load(&path, b"NWVOCAB\0", 1, "vocabulary").unwrap_err();
        assert!(
            err.to_string()
                .contains("this is an n-gram counts file, not a vocabulary file"),
            "{err}"
        );
        assert_eq!(file_kind(b"NWLMBIN\0rest"), Some("a binary n-gram model"));
        assert_eq!(file_kind(b"\\data\\"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
