//! Private memory mappings of files, and detaching them.
//!
//! A mapping shows the file's pages: if the file is truncated while mapped, touching a lost
//! page kills the process with SIGBUS, even a page of a private mapping that was written to
//! (the kernel drops copied-on-write pages past the new end too). Every mapping made here is
//! therefore registered by the file it shows (device and inode), and [`detach_file`] replaces
//! the pages of every live mapping of a file with anonymous memory holding the same bytes, at
//! the same addresses, so that whatever views them (a dataset's pixel data, a numpy array)
//! keeps its values and survives the file being rewritten. The Python layer calls it before
//! this process opens a path for writing.
//!
//! The registry is the one piece of process-wide state in the crate: which files are mapped
//! is a fact about the process (the kernel's mappings), not about any one object.
#![allow(unsafe_code)]

use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Which file a path named and how it was then: a path is trusted to name the same unchanged
/// file only while all of these agree. The one identity of a file: what a mapping shows, what
/// the loader keeps a described file by, and where a dataset's timestamp comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

impl FileId {
    /// The identity of an open file.
    pub fn of(file: &File) -> io::Result<FileId> {
        file.metadata().map(|meta| FileId::from_metadata(&meta))
    }

    /// The identity of the file `path` names now (a symbolic link followed).
    pub fn of_path(path: &Path) -> io::Result<FileId> {
        std::fs::metadata(path).map(|meta| FileId::from_metadata(&meta))
    }

    #[cfg(unix)]
    pub fn from_metadata(meta: &Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        }
    }

    /// Without device and inode numbers, the length and modification time must do.
    #[cfg(not(unix))]
    pub fn from_metadata(meta: &Metadata) -> FileId {
        let since_epoch = meta
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok());
        FileId {
            dev: 0,
            ino: 0,
            len: meta.len(),
            mtime: since_epoch.map_or((0, 0), |d| {
                (d.as_secs() as i64, i64::from(d.subsec_nanos()))
            }),
        }
    }

    /// The modification time as Python's `os.stat(path).st_mtime` gives it: seconds, a
    /// float computed as CPython computes it (where CPython's source of it is known: unix).
    pub fn mtime(&self) -> Option<f64> {
        let (seconds, nanoseconds) = self.mtime;
        cfg!(unix).then(|| seconds as f64 + nanoseconds as f64 * 1e-9)
    }

    /// True when both name the same file (device and inode), whatever its content.
    fn same_file(&self, other: &FileId) -> bool {
        cfg!(unix) && self.dev == other.dev && self.ino == other.ino
    }
}

/// The mapped pages, read-only or copy-on-write writable.
enum Map {
    ReadOnly(Mmap),
    Writable(MmapMut),
}

/// A private mapping of `len` bytes of a file from a page-aligned offset, registered so that
/// [`detach_file`] can detach it.
pub struct Mapping {
    map: Map,
    file: FileId,
    path: Option<PathBuf>,
    /// Set once the pages are anonymous memory: the file no longer matters.
    detached: AtomicBool,
    /// Held while detaching, so that one mapping is copied once.
    detaching: Mutex<()>,
}

/// Why bytes of a mapping cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChanged {
    pub path: PathBuf,
}

impl std::fmt::Display for FileChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "'{}' was changed or truncated by another writer after it was read; its bulk data \
             (pixel data) can no longer be read from it: read the file again",
            self.path.display()
        )
    }
}

impl std::error::Error for FileChanged {}

impl Mapping {
    /// A read-only private mapping of all of `file` (whose length is `len`, not 0), opened
    /// from `path` when known.
    pub fn whole(file: &File, len: u64, path: Option<&Path>) -> io::Result<Arc<Mapping>> {
        // SAFETY: a read-only private mapping. Slices of it borrow from the `Mapping`, so it
        // outlives them. Memory safety then depends on the file not being truncated while
        // mapped (SIGBUS on access, not a wrong read): this process detaches its mappings of
        // a file before writing it (`detach_file`), and readers check that another writer
        // has not changed it (`check`) before reading; what remains (a truncation racing a
        // read) is the documented risk of mapped files.
        let map = unsafe {
            MmapOptions::new()
                .len(len as usize)
                .map_copy_read_only(file)?
        };
        Ok(Mapping::register(Map::ReadOnly(map), file, path))
    }

    /// A writable copy-on-write mapping of `len` (not 0) bytes of `file` from `offset`, which
    /// must be a multiple of [`MAP_ALIGN`].
    pub fn private_range(
        file: &File,
        offset: u64,
        len: usize,
        path: Option<&Path>,
    ) -> io::Result<Arc<Mapping>> {
        // SAFETY: a private (copy-on-write) mapping: writes through it go to anonymous pages
        // of this process and never reach the file or any other mapping. As for `whole`, only
        // truncation of the file could invalidate its pages; this process detaches it first
        // when it writes the file itself.
        let map = unsafe { MmapOptions::new().offset(offset).len(len).map_copy(file)? };
        Ok(Mapping::register(Map::Writable(map), file, path))
    }

    fn register(map: Map, file: &File, path: Option<&Path>) -> Arc<Mapping> {
        let file = FileId::of(file).unwrap_or(FileId {
            dev: 0,
            ino: 0,
            len: 0,
            mtime: (0, 0),
        });
        let mapping = Arc::new(Mapping {
            map,
            file,
            path: path.map(Path::to_path_buf),
            detached: AtomicBool::new(false),
            detaching: Mutex::new(()),
        });
        let mut live = registry();
        // Forget dead entries once the list has doubled since the last sweep, so the sweep
        // costs O(1) per mapping made.
        if live.entries.len() >= live.swept.max(16) * 2 {
            live.entries.retain(|(_, weak)| weak.strong_count() > 0);
            live.swept = live.entries.len();
        }
        live.entries.push((file, Arc::downgrade(&mapping)));
        mapping
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.map {
            Map::ReadOnly(map) => map,
            Map::Writable(map) => map,
        }
    }

    /// The mapped bytes, writable (a copy-on-write mapping's writes stay in this process);
    /// None for a read-only mapping.
    pub fn bytes_mut_ptr(&self) -> Option<*mut u8> {
        match &self.map {
            Map::ReadOnly(_) => None,
            Map::Writable(map) => Some(map.as_ptr() as *mut u8),
        }
    }

    /// The path the file was opened by, if known.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// True when the pages are this process's own memory now.
    pub fn is_detached(&self) -> bool {
        self.detached.load(Ordering::Acquire)
    }

    /// Ok when the mapped file may still be read: detached, or its path names the same file
    /// with the same length and modification time (or another file: the mapped one was then
    /// renamed or removed, which leaves its pages alone). A file truncated or rewritten by
    /// another writer gives `FileChanged` rather than a crash or a silently different value.
    pub fn check(&self) -> Result<(), FileChanged> {
        if self.is_detached() {
            return Ok(());
        }
        match self.path.as_deref().map(FileId::of_path) {
            Some(Ok(now)) => self.check_file(&now),
            _ => Ok(()),
        }
    }

    /// `check`, for the file its path names now being `now`.
    pub fn check_file(&self, now: &FileId) -> Result<(), FileChanged> {
        if !self.is_detached() && now.same_file(&self.file) && *now != self.file {
            let path = self.path.clone().unwrap_or_default();
            return Err(FileChanged { path });
        }
        Ok(())
    }

    /// The file this mapping shows, as `path` names it now (device and inode).
    pub fn shows(&self, file: &FileId) -> bool {
        self.file.same_file(file)
    }

    /// Let go of the pages below `offset` that a read has faulted in (a walk through a
    /// large file then holds a few pages at a time, not the file): later reads fault them in
    /// again from the file. Only a read-only mapping not yet detached has pages that may go.
    pub fn release_before(&self, offset: usize) {
        let Map::ReadOnly(map) = &self.map else {
            return;
        };
        let _guard = self.detaching.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_detached() {
            return;
        }
        release_pages(map.as_ptr(), offset.min(map.len()));
    }

    /// Replace the mapping's pages with anonymous memory holding the same bytes, at the same
    /// addresses.
    fn detach(&self) -> io::Result<()> {
        let _guard = self.detaching.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_detached() {
            return Ok(());
        }
        let (ptr, len, writable) = match &self.map {
            Map::ReadOnly(map) => (map.as_ptr(), map.len(), false),
            Map::Writable(map) => (map.as_ptr(), map.len(), true),
        };
        replace_with_anonymous(ptr, len, writable)?;
        self.detached.store(true, Ordering::Release);
        Ok(())
    }
}

/// Mapping offsets are aligned to 64 KiB: a multiple of every page size in use (4, 16,
/// 64 KiB) and Windows' allocation granularity.
pub const MAP_ALIGN: usize = 64 * 1024;

#[derive(Default)]
struct Registry {
    entries: Vec<(FileId, Weak<Mapping>)>,
    swept: usize,
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    static LIVE: Mutex<Registry> = Mutex::new(Registry {
        entries: Vec::new(),
        swept: 0,
    });
    // Each operation on the registry is one push or retain: a panic cannot leave it torn.
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The live mappings `wanted` selects, taken out of the registry's lock.
fn live_mappings(wanted: impl Fn(&Mapping) -> bool) -> Vec<Arc<Mapping>> {
    registry()
        .entries
        .iter()
        .filter_map(|(_, weak)| weak.upgrade())
        .filter(|m| !m.is_detached() && wanted(m))
        .collect()
}

/// Detach every live mapping of the file `path` names (any of its links), so that writing
/// the file cannot crash this process or change a value read from it. Returns how many were
/// detached; a path that names no file has none.
pub fn detach_file(path: &Path) -> io::Result<usize> {
    let live = live_mappings(|_| cfg!(unix));
    if live.is_empty() {
        return Ok(0); // the usual case: nothing mapped, no need to look at the path
    }
    let Ok(file) = FileId::of_path(path) else {
        return Ok(0);
    };
    detach(live.into_iter().filter(|m| m.shows(&file)).collect())
}

/// Detach every live mapping of every file (before writes this process cannot name in
/// advance, such as a File-set rewriting its directory).
pub fn detach_all() -> io::Result<usize> {
    detach(live_mappings(|_| true))
}

/// How many live mappings are not yet detached (for tests and diagnostics).
pub fn live_count() -> usize {
    registry()
        .entries
        .iter()
        .filter(|(_, weak)| weak.upgrade().is_some_and(|m| !m.is_detached()))
        .count()
}

fn detach(mappings: Vec<Arc<Mapping>>) -> io::Result<usize> {
    for mapping in &mappings {
        mapping.detach()?;
    }
    Ok(mappings.len())
}

/// Put anonymous pages holding the current bytes of `ptr..ptr + len` (a mapping made by
/// memmap2, whose first page starts at or before `ptr`) in place of that mapping's pages.
#[cfg(target_os = "linux")]
fn replace_with_anonymous(ptr: *const u8, len: usize, writable: bool) -> io::Result<()> {
    use rustix::mm::{mmap_anonymous, mprotect, mremap_fixed, munmap};
    use rustix::mm::{MapFlags, MprotectFlags, MremapFlags, ProtFlags};
    let page = rustix::param::page_size();
    let start = ptr as usize & !(page - 1);
    let end = (ptr as usize + len).div_ceil(page) * page;
    let size = end - start;
    // SAFETY: a fresh anonymous mapping that nothing else refers to.
    let fresh = unsafe {
        mmap_anonymous(
            std::ptr::null_mut(),
            size,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE,
        )?
    };
    // SAFETY: `start..end` are the pages of a live mapping (memmap2 maps whole pages from
    // `start`; the caller holds an `Arc` of it, so it is not unmapped meanwhile), readable,
    // and `fresh` is `size` writable bytes of our own; the two do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(start as *const u8, fresh.cast::<u8>(), size) };
    // SAFETY: moves the anonymous pages over `start..end` in one step (MREMAP_FIXED unmaps
    // what was there), so a reader never sees the range unmapped. Every byte reads the same
    // before and after (copied just above; this process is not writing the file, which is
    // why it detaches), so no reference into the range, from Rust or from numpy, observes a
    // change. memmap2 later unmaps the same page range when the mapping is dropped.
    let moved = unsafe {
        mremap_fixed(
            fresh,
            size,
            size,
            MremapFlags::MAYMOVE,
            start as *mut std::ffi::c_void,
        )
    };
    if let Err(err) = moved {
        // SAFETY: `fresh` is still our own unused mapping of `size` bytes.
        let _ = unsafe { munmap(fresh, size) };
        return Err(err.into());
    }
    if !writable {
        // SAFETY: the range is the mapping we just moved in; read-only as it was before.
        unsafe { mprotect(start as *mut std::ffi::c_void, size, MprotectFlags::READ)? };
    }
    Ok(())
}

/// Drop the page-table entries of the whole pages of a read-only private file mapping from
/// `ptr` (page aligned) up to `ptr + len`.
#[cfg(target_os = "linux")]
fn release_pages(ptr: *const u8, len: usize) {
    let page = rustix::param::page_size();
    let len = len - len % page;
    if len > 0 {
        // SAFETY: the range is whole pages of a read-only private mapping of a file that
        // was never written (it is not detached: the caller holds the detach lock and
        // checked), so MADV_DONTNEED only unmaps them and the next access maps the file's
        // same bytes again; no content is lost. Advice that fails changes nothing.
        let _ = unsafe {
            rustix::mm::madvise(
                ptr as *mut std::ffi::c_void,
                len,
                rustix::mm::Advice::LinuxDontNeed,
            )
        };
    }
}

#[cfg(not(target_os = "linux"))]
fn release_pages(_ptr: *const u8, _len: usize) {}

/// Elsewhere a file mapped by a process cannot be truncated (Windows), or the pages are left
/// as they are.
#[cfg(not(target_os = "linux"))]
fn replace_with_anonymous(_ptr: *const u8, _len: usize, _writable: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("dcmfast-{}-{name}", std::process::id()));
        File::create(&path).unwrap().write_all(bytes).unwrap();
        path
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn detached_mappings_keep_their_bytes_after_the_file_is_truncated() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let path = temp_file("detach", &bytes);
        let file = File::open(&path).unwrap();
        let whole = Mapping::whole(&file, bytes.len() as u64, Some(&path)).unwrap();
        let range = Mapping::private_range(&file, MAP_ALIGN as u64, 100_000, Some(&path)).unwrap();
        // A write through the private range stays in it, and survives detaching.
        // SAFETY: the pointer is the first byte of `range`'s writable private mapping, which
        // `range` keeps mapped for this whole test; no slice of it is alive during the write.
        unsafe { *range.bytes_mut_ptr().unwrap() = 7 };
        assert!(whole.check().is_ok());
        assert_eq!(detach_file(&path).unwrap(), 2);
        assert!(whole.is_detached() && range.is_detached());
        File::create(&path).unwrap(); // truncates to 0 bytes
        assert_eq!(whole.bytes(), &bytes[..]);
        assert_eq!(range.bytes()[0], 7);
        assert_eq!(
            &range.bytes()[1..],
            &bytes[MAP_ALIGN + 1..MAP_ALIGN + 100_000]
        );
        assert_eq!(detach_file(&path).unwrap(), 0);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    #[cfg(unix)]
    fn a_file_id_is_the_file_as_it_was_and_its_mtime_is_python_s() {
        let path = temp_file("id", &[1u8; 100]);
        let file = File::open(&path).unwrap();
        let modified = std::time::UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 123_456_789);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let id = FileId::of_path(&path).unwrap();
        assert_eq!(FileId::of(&file).unwrap(), id);
        // `os.stat(path).st_mtime` of this file.
        assert_eq!(id.mtime(), Some(1700000000.1234567));
        // Another modification time or another length: another identity.
        let later = modified + std::time::Duration::from_nanos(1);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_ne!(FileId::of_path(&path).unwrap(), id);
        std::fs::write(&path, [1u8; 101]).unwrap();
        assert_ne!(FileId::of_path(&path).unwrap(), id);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn check_reports_a_file_changed_by_another_writer() {
        let path = temp_file("check", &[1u8; 5000]);
        let file = File::open(&path).unwrap();
        let whole = Mapping::whole(&file, 5000, Some(&path)).unwrap();
        assert!(whole.check().is_ok());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(4096)
            .unwrap();
        assert!(whole.check().is_err());
        // A path that now names another file leaves the mapped one alone.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, [0u8; 10]).unwrap();
        assert!(whole.check().is_ok());
        std::fs::remove_file(&path).unwrap();
    }
}
