//! Opening files (plain, gzip, zstd) and cutting streams into chunks of whole lines.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::lines::Chunk;
use super::source::{Input, InputFormat};
use crate::control::Control;
use crate::{Error, Result};

/// Target size of one chunk. Big enough that per-chunk overhead vanishes, small
/// enough that a few chunks in flight per thread keep memory low.
pub const CHUNK_BYTES: usize = 256 << 10;

/// The chunk size in force: [`CHUNK_BYTES`] unless [`set_chunk_bytes`] changed it.
static CHUNK_TARGET: AtomicUsize = AtomicUsize::new(CHUNK_BYTES);

/// The target size of one chunk now in force.
pub fn chunk_bytes() -> usize {
    CHUNK_TARGET.load(Ordering::Relaxed)
}

/// Set the chunk size for every later read in this process (0 restores
/// [`CHUNK_BYTES`]). For tests only: a few bytes make a small corpus cross
/// chunk edges and reach the parallel reader, several workers and the merge
/// of their states, which a real chunk size reserves for big inputs.
pub fn set_chunk_bytes(bytes: usize) {
    let bytes = if bytes == 0 { CHUNK_BYTES } else { bytes };
    CHUNK_TARGET.store(bytes, Ordering::Relaxed);
}

/// Held by the tests that change the process-wide chunk, batch or packing
/// settings ([`set_chunk_bytes`], `count::sorted::set_batch_keys`,
/// `count::sorted::set_pack_limit`) or count on their defaults: tests run
/// at once, and one test's setting must not reach another's count.
#[cfg(test)]
pub(crate) fn settings_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// A reader that reports the bytes it reads to a [`Control`] (progress).
struct Counted<'c, R> {
    inner: R,
    control: &'c Control,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.control.add_bytes(n as u64);
        Ok(n)
    }
}

/// Open a file, decompressing gzip or zstd as detected from its first bytes
/// (so a misnamed file still reads right).
pub fn open<'c>(path: &Path, control: &'c Control) -> Result<Box<dyn Read + 'c>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buffered = BufReader::with_capacity(
        256 * 1024,
        Counted {
            inner: file,
            control,
        },
    );
    let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let size = buffered
            .get_ref()
            .inner
            .metadata()
            .map_or(u64::MAX, |m| m.len());
        if size <= WHOLE_GZIP {
            // Small enough to hold: read whole and inflated in one call.
            let (mut data, text) = SPARE
                .with(|s| s.borrow_mut().as_mut().map(std::mem::take))
                .unwrap_or_default();
            data.clear();
            data.reserve(size as usize);
            buffered
                .read_to_end(&mut data)
                .map_err(|e| Error::io(path, e))?;
            return Ok(match gunzip_whole(&data, text) {
                Some(text) => Box::new(Whole {
                    text: std::io::Cursor::new(text),
                    data,
                }),
                None => Box::new(flate2::bufread::MultiGzDecoder::new(std::io::Cursor::new(
                    data,
                ))),
            });
        }
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder =
            zstd::stream::read::Decoder::with_buffer(buffered).map_err(|e| Error::io(path, e))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(buffered))
    }
}

/// Gzip files of at most this many bytes, inflating to at most
/// [`WHOLE_TEXT`], are read whole and inflated in one call to libdeflate
/// (0.36 s against 0.62 s for the streaming decoder over the 20 Gutenberg
/// files); larger ones stream, so memory stays bounded.
const WHOLE_GZIP: u64 = 32 << 20;
/// Most text a gzip file read whole may inflate to.
const WHOLE_TEXT: usize = 64 << 20;

thread_local! {
    /// While a [`KeepSpare`] lives on this thread: the buffers of the last
    /// gzip file read whole (its bytes and its text), for the next one.
    /// Memory a process has not touched before costs about 2 s of CPU a
    /// gigabyte to fault in on this kind of VM (docs/scaling.md), and fresh
    /// buffers for each of the Gutenberg set's 20 files took 6% of
    /// counting's CPU.
    static SPARE: std::cell::RefCell<Option<(Vec<u8>, Vec<u8>)>> = const { std::cell::RefCell::new(None) };
}

/// While it lives, gzip files read whole on this thread pass their buffers
/// on to the next one; dropped, it frees them.
pub(crate) struct KeepSpare(());

impl KeepSpare {
    /// Start keeping buffers on this thread.
    pub(crate) fn new() -> Self {
        SPARE.with(|s| *s.borrow_mut() = Some(Default::default()));
        Self(())
    }
}

impl Drop for KeepSpare {
    fn drop(&mut self) {
        let _ = SPARE.try_with(|s| s.borrow_mut().take());
    }
}

/// A gzip file read whole: its text, read from memory; on drop, its buffers
/// go to [`SPARE`] while a [`KeepSpare`] lives.
struct Whole {
    text: std::io::Cursor<Vec<u8>>,
    data: Vec<u8>,
}

impl Read for Whole {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.text.read(buf)
    }
}

impl Drop for Whole {
    fn drop(&mut self) {
        let text = std::mem::take(self.text.get_mut());
        let data = std::mem::take(&mut self.data);
        // Kept only while a KeepSpare lives (a thread being torn down has
        // no spare at all).
        let _ = SPARE.try_with(|s| {
            if let Some(spare) = s.borrow_mut().as_mut() {
                *spare = (data, text);
            }
        });
    }
}

/// The text of `data`, one whole gzip member, inflated by libdeflate into
/// `out` (emptied, grown to the size its trailer gives); `None` when that does
/// not hold (a file of several members, text past [`WHOLE_TEXT`], damaged
/// data): the caller then streams it, which also reports where damaged data
/// goes wrong.
fn gunzip_whole(data: &[u8], mut out: Vec<u8>) -> Option<Vec<u8>> {
    let trailer: [u8; 4] = data.get(data.len().checked_sub(4)?..)?.try_into().ok()?;
    let want = u32::from_le_bytes(trailer) as usize;
    if want > WHOLE_TEXT {
        return None;
    }
    out.clear();
    out.reserve(want);
    let (mut used, mut written) = (0usize, 0usize);
    // SAFETY: the decompressor is used by this call alone and freed after;
    // libdeflate reads `data` and writes at most `want` bytes into `out`'s
    // capacity, and `written` bytes of it are initialised when it succeeds.
    let ok = unsafe {
        let d = libdeflate_sys::libdeflate_alloc_decompressor();
        if d.is_null() {
            return None;
        }
        let result = libdeflate_sys::libdeflate_gzip_decompress_ex(
            d,
            data.as_ptr().cast(),
            data.len(),
            out.as_mut_ptr().cast(),
            want,
            &mut used,
            &mut written,
        );
        libdeflate_sys::libdeflate_free_decompressor(d);
        result == libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS
    };
    if !ok || used != data.len() || written != want {
        return None;
    }
    // SAFETY: libdeflate wrote `written` bytes (checked above).
    unsafe { out.set_len(written) };
    Some(out)
}

/// Read until `buf` holds `want` bytes or the stream ends; returns false at
/// EOF. On an error `buf` keeps what was read before it.
pub(crate) fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    while buf.len() < want {
        let old = buf.len();
        buf.resize(want, 0);
        match reader.read(&mut buf[old..]) {
            Ok(0) => {
                buf.truncate(old);
                return Ok(false);
            }
            Ok(n) => buf.truncate(old + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(old),
            Err(e) => {
                buf.truncate(old);
                return Err(e);
            }
        }
    }
    Ok(true)
}

/// Where to cut `buf` so that the head holds only whole lines: just after the
/// last `\n` (only `\n` ends a line, so a CRLF is never split). `None` when the
/// buffer holds no complete line.
pub(crate) fn cut_point(buf: &[u8]) -> Option<usize> {
    memchr::memrchr(b'\n', buf).map(|i| i + 1)
}

/// The number of line terminators in `data`: its `\n` bytes.
pub fn count_lines(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
}

/// Cut one input into chunks of whole lines and hand each to `emit`, in order.
/// `emit` returns false to stop early (cancellation or an error downstream).
pub fn chunk_input(
    input: &Input,
    input_index: usize,
    control: &Control,
    emit: &mut dyn FnMut(Chunk) -> bool,
) -> Result<()> {
    chunk_input_sized(input, input_index, control, chunk_bytes(), emit)
}

/// [`chunk_input`] into chunks of about `chunk_target` bytes.
pub fn chunk_input_sized(
    input: &Input,
    input_index: usize,
    control: &Control,
    chunk_target: usize,
    emit: &mut dyn FnMut(Chunk) -> bool,
) -> Result<()> {
    let name: Arc<str> = Arc::from(input.name());
    let chunk_target = chunk_target.max(1);
    match input {
        Input::Texts(texts) => {
            // Each text ends a line; texts are grouped into chunks of about `chunk_target` bytes.
            let mut data = Vec::new();
            let (mut first_line, mut byte_offset, mut seq) = (1u64, 0u64, 0u32);
            for text in texts.iter() {
                // Each text is split on its own: end its last line unless it is
                // already ended (a trailing "\r" gets "\n", so it ends the line
                // as it would at the end of the text), and add nothing for "".
                data.extend_from_slice(text.as_bytes());
                if !text.is_empty() && !text.ends_with('\n') {
                    data.push(b'\n');
                }
                if data.len() >= chunk_target {
                    let lines = count_lines(&data);
                    let len = data.len() as u64;
                    let chunk = Chunk::new(
                        &name,
                        InputFormat::Text,
                        (input_index, seq),
                        first_line,
                        byte_offset,
                        std::mem::take(&mut data),
                    );
                    if !emit(chunk) {
                        return Ok(());
                    }
                    first_line += lines;
                    byte_offset += len;
                    seq += 1;
                }
            }
            if !data.is_empty() {
                emit(Chunk::new(
                    &name,
                    InputFormat::Text,
                    (input_index, seq),
                    first_line,
                    byte_offset,
                    data,
                ));
            }
            Ok(())
        }
        Input::File { path, format, .. } => {
            let mut reader = open(path, control)?;
            let mut buf: Vec<u8> = Vec::with_capacity(chunk_target + 4096);
            let (mut first_line, mut byte_offset, mut seq) = (1u64, 0u64, 0u32);
            let mut want = chunk_target;
            loop {
                if control.is_cancelled() {
                    return Ok(());
                }
                // A read that fails mid-stream is bad data (a corrupt or
                // truncated .gz/.zst): say where in the text it broke.
                let more = fill(&mut reader, &mut buf, want).map_err(|source| Error::Corpus {
                    location: crate::Location {
                        source: path.display().to_string(),
                        line: first_line + count_lines(&buf),
                        byte: byte_offset + buf.len() as u64,
                    },
                    message: format!("cannot read or decompress: {source}"),
                })?;
                let cut = if more {
                    cut_point(&buf)
                } else {
                    Some(buf.len())
                };
                let Some(cut) = cut else {
                    // One line longer than the buffer: read more before cutting.
                    want *= 2;
                    continue;
                };
                want = chunk_target;
                if cut == 0 {
                    break;
                }
                let rest = buf.split_off(cut);
                let mut data = std::mem::replace(&mut buf, rest);
                if seq == 0 && data.starts_with(b"\xEF\xBB\xBF") {
                    // A UTF-8 byte-order mark is an encoding signature, not text.
                    data.drain(..3);
                    byte_offset = 3;
                }
                let lines = count_lines(&data);
                let len = data.len() as u64;
                if !emit(Chunk::new(
                    &name,
                    *format,
                    (input_index, seq),
                    first_line,
                    byte_offset,
                    data,
                )) {
                    return Ok(());
                }
                first_line += lines;
                byte_offset += len;
                seq += 1;
                if !more {
                    break;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(text: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(text).unwrap();
        e.finish().unwrap()
    }

    /// One member inflates whole; anything else is left to the streaming
    /// decoder (several members, a trailer that lies, damaged or cut data),
    /// and a real file both ways reads the same.
    #[test]
    fn whole_gzip_takes_one_sound_member_only() {
        let text: Vec<u8> = (0..50_000)
            .flat_map(|i| format!("line {i} of some text\n").into_bytes())
            .collect();
        let one = gzip(&text);
        assert_eq!(gunzip_whole(&one, Vec::new()).as_deref(), Some(&text[..]));
        // A buffer kept from a file before: its old bytes are gone.
        let used = vec![7u8; text.len() * 2];
        assert_eq!(gunzip_whole(&one, used).as_deref(), Some(&text[..]));
        assert_eq!(
            gunzip_whole(&gzip(b""), Vec::new()).as_deref(),
            Some(&b""[..])
        );
        let mut two = gzip(b"a b\n");
        two.extend(gzip(b"c d\n"));
        assert_eq!(gunzip_whole(&two, Vec::new()), None);
        let mut lying = one.clone();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(gunzip_whole(&lying, Vec::new()), None);
        let mut damaged = one.clone();
        damaged[n / 2] ^= 0x55;
        assert_eq!(gunzip_whole(&damaged, Vec::new()), None);
        assert_eq!(gunzip_whole(&one[..n - 9], Vec::new()), None);
        assert_eq!(gunzip_whole(&one[..3], Vec::new()), None);

        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [("one.gz", one), ("two.gz", two)] {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let mut got = Vec::new();
            open(&path, &Control::new())
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            let mut want = Vec::new();
            flate2::bufread::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut want)
                .unwrap();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn cut_after_the_last_newline() {
        assert_eq!(cut_point(b"ab\r\ncd"), Some(4));
        assert_eq!(cut_point(b"ab\ncd\r"), Some(3));
        assert_eq!(cut_point(b"ab\rcd"), None);
        assert_eq!(cut_point(b"abcd"), None);
        assert_eq!(cut_point(b"\r"), None);
    }

    #[test]
    fn texts_split_on_their_own() {
        let control = Control::new();
        let input = Input::Texts(Arc::new(vec![
            "a\n".into(),
            "".into(),
            "b\r".into(),
            "\nc".into(),
        ]));
        let mut lines = Vec::new();
        chunk_input(&input, 0, &control, &mut |chunk| {
            for (_, l) in super::super::lines::split_lines(&chunk.data) {
                lines.push(String::from_utf8_lossy(l).into_owned());
            }
            true
        })
        .unwrap();
        assert_eq!(lines, ["a", "b", "", "c"]);
    }

    #[test]
    fn lines_counted_at_newlines_only() {
        assert_eq!(count_lines(b"a\r\nb\rc\nd"), 2);
        assert_eq!(count_lines(b"\r\n\r\n"), 2);
        assert_eq!(count_lines(b"\n\r"), 1);
        assert_eq!(count_lines(b"\r\r\n"), 1);
    }
}
