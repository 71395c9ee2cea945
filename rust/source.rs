//! Byte sources: a memory-mapped file, or bytes owned in memory (file-like objects, the inflated
//! body of a deflated file). Everything above this module sees a `&[u8]`.
//!
//! It also makes the copy-on-write mappings native pixel arrays view: a fresh private mapping of
//! a byte range of the file a source was mapped from, so each array can be written without its
//! writes reaching the file, the dataset or any other array.
#![allow(unsafe_code)]

use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Open `path` for reading without blocking in `open`: a named pipe with no writer would
/// block a plain open forever (and a read of one with a writer but no data). Reads of
/// regular files and directories are unaffected; callers check the file type (see
/// `not_regular`) before trusting what a read gives.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(path)
    }
    #[cfg(not(unix))]
    {
        File::open(path)
    }
}

/// The error for a file that is neither a regular file nor a directory (a named pipe, a
/// socket, a device): none of them is read, since a read may block or never end.
pub fn not_regular(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() || file_type.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("not a regular file: a named pipe (FIFO)");
        }
        if file_type.is_socket() {
            return Some("not a regular file: a socket");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("not a regular file: a device");
        }
    }
    Some("not a regular file")
}

/// At most `limit` bytes from the start of `file` (whose length is `len`), wherever its
/// cursor is.
pub fn read_start(file: &File, len: u64, limit: usize) -> io::Result<Vec<u8>> {
    let want = limit.min(usize::try_from(len).unwrap_or(usize::MAX));
    let mut bytes = Vec::with_capacity(want);
    let mut reader = file;
    reader.seek(SeekFrom::Start(0))?;
    reader.take(want as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Fill `buf` from `file` at `offset` (a positional read where the platform has one).
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: usize) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset as u64)
    }
    #[cfg(not(unix))]
    {
        let mut file = file;
        file.seek(SeekFrom::Start(offset as u64))
            .and_then(|_| file.read_exact(buf))
    }
}

/// Which file a mapping shows: device, inode and length when it was mapped. A path is opened
/// again to map pixel data, and only used when it still names the same, unresized file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
}

impl FileId {
    #[cfg(unix)]
    fn of(file: &File) -> io::Result<Option<FileId>> {
        use std::os::unix::fs::MetadataExt;
        let meta = file.metadata()?;
        Ok(Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
        }))
    }

    #[cfg(not(unix))]
    fn of(_: &File) -> io::Result<Option<FileId>> {
        Ok(None)
    }
}

/// The bytes one dataset is read from.
pub enum Source {
    /// A read-only private mapping of a whole file, and which file it was.
    Mapped(Mmap, Option<FileId>),
    /// Bytes held in memory.
    Owned(Vec<u8>),
    /// A mapping of a whole file (as `Mapped`) with a copy of its first bytes, from which
    /// the values within them are read (`bytes_to`): reading a header then faults in, and
    /// later unmaps, none of the mapping's pages. From Python here, a 512 KiB file's open,
    /// mapping, first page and unmapping took 17 µs; a read of 8 KiB and an untouched
    /// mapping, 9 µs.
    Head(Vec<u8>, Mmap, Option<FileId>),
}

impl Source {
    /// Map `file` (whose length is `len`). Empty files are held as empty owned bytes, since
    /// a zero-length mapping is refused by the kernel.
    pub fn map_file(file: &File, len: u64) -> io::Result<Source> {
        if len == 0 {
            return Ok(Source::Owned(Vec::new()));
        }
        // SAFETY: the mapping is read-only and private, and outlives every slice we hand out
        // because slices borrow from `Source`. Memory safety then depends only on the file not
        // being truncated by another process while mapped (which would raise SIGBUS on access);
        // that is the documented risk of every mmap reader, and callers that expect files to
        // change can read into memory instead (`Source::Owned`).
        let map = unsafe { MmapOptions::new().map_copy_read_only(file)? };
        Ok(Source::Mapped(map, FileId::of(file)?))
    }

    /// `map_file`, keeping `head` (the file's first bytes) to read values within it from.
    pub fn map_with_head(file: &File, len: u64, head: Vec<u8>) -> io::Result<Source> {
        Ok(match Source::map_file(file, len)? {
            Source::Mapped(map, id) if head.len() <= map.len() => Source::Head(head, map, id),
            other => other,
        })
    }

    /// Read at most `limit` bytes from the start of `file` (whose length is `len`), wherever
    /// its cursor is. Cheaper than a mapping when only the header is wanted.
    pub fn read_head(file: &File, len: u64, limit: usize) -> io::Result<Source> {
        read_start(file, len, limit).map(Source::Owned)
    }

    /// The source's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(map, _) | Source::Head(_, map, _) => map,
            Source::Owned(vec) => vec,
        }
    }

    /// The source's bytes from the start, at least up to `end` when it has them: a head's
    /// copy when it reaches `end`, else `bytes()`.
    pub fn bytes_to(&self, end: usize) -> &[u8] {
        match self {
            Source::Head(head, _, _) if end <= head.len() => head,
            _ => self.bytes(),
        }
    }

    /// A fresh copy-on-write mapping of `self.bytes()[start..start + len]`, made by opening
    /// `path` again, or None when this source is not a mapping of the file `path` now names
    /// (another file, a changed length, owned bytes), when the range is empty or out of
    /// bounds, or when the file cannot be opened or mapped: the caller then copies.
    pub fn private_range(&self, path: &Path, start: usize, len: usize) -> Option<PrivateRange> {
        let (Source::Mapped(map, Some(id)) | Source::Head(_, map, Some(id))) = self else {
            return None;
        };
        let end = start.checked_add(len)?;
        if len == 0 || end > map.len() {
            return None;
        }
        let file = File::open(path).ok()?;
        if FileId::of(&file).ok()? != Some(*id) {
            return None;
        }
        // Mapping offsets must be page aligned; map from the page holding `start`.
        let aligned = start - start % MAP_ALIGN;
        let skip = start - aligned;
        // SAFETY: a private (copy-on-write) mapping: writes through it go to anonymous pages
        // of this process and never reach the file, the page cache, or any other mapping.
        // The file is the one this source mapped (same device, inode and length, checked
        // above) and the range lies within it. As with `map_file`, only truncation of the
        // file by another process could invalidate pages (SIGBUS); that risk is documented.
        let map = unsafe {
            MmapOptions::new()
                .offset(aligned as u64)
                .len(skip + len)
                .map_copy(&file)
                .ok()?
        };
        Some(PrivateRange { map, skip, len })
    }
}

/// A private, writable mapping of a byte range of a file: `len` bytes from `skip` bytes into
/// the mapping (which starts on a page boundary).
pub struct PrivateRange {
    map: MmapMut,
    skip: usize,
    len: usize,
}

impl PrivateRange {
    /// The range's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map[self.skip..self.skip + self.len]
    }

    /// The range's bytes, writable (writes stay in this process's private pages).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.map[self.skip..self.skip + self.len]
    }
}

/// Mapping offsets are aligned to 64 KiB: a multiple of every page size in use (4, 16,
/// 64 KiB) and Windows' allocation granularity.
const MAP_ALIGN: usize = 64 * 1024;
