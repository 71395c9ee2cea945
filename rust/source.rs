//! Byte sources: a memory-mapped file, or bytes owned in memory (file-like objects, the inflated
//! body of a deflated file). Everything above this module sees a `&[u8]`.
#![allow(unsafe_code)]

use memmap2::{Mmap, MmapOptions};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// The bytes one dataset is read from.
pub enum Source {
    /// A read-only private mapping of a whole file.
    Mapped(Mmap),
    /// Bytes held in memory.
    Owned(Vec<u8>),
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
        Ok(Source::Mapped(map))
    }

    /// Read at most `limit` bytes from the start of `file` (whose length is `len`), wherever
    /// its cursor is. Cheaper than a mapping when only the header is wanted.
    pub fn read_head(file: &File, len: u64, limit: usize) -> io::Result<Source> {
        let want = limit.min(usize::try_from(len).unwrap_or(usize::MAX));
        let mut bytes = Vec::with_capacity(want);
        let mut reader = file;
        reader.seek(SeekFrom::Start(0))?;
        reader.take(want as u64).read_to_end(&mut bytes)?;
        Ok(Source::Owned(bytes))
    }

    /// The source's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(map) => map,
            Source::Owned(vec) => vec,
        }
    }
}
