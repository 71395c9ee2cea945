//! Frames of many files read into one batch on many threads, and the multi-frame files
//! kept from one batch to the next.

use super::fallback::{BatchError, Fallback};
use super::frames::{Scratch, Slot};
use super::pixel_file::{Data, PixelFile};
use super::{FrameGeometry, Processing};
use crate::pixels::lut::Transform;
use crate::pixels::native::SampleFormat;
use crate::pixels::parallel::map_queued_with;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The caller's batch: raw samples of one type, or float32.
pub enum Batch<'a> {
    Raw(&'a mut [u8], SampleFormat),
    Float(&'a mut [f32]),
}

/// What a batch read found: the frames left to pydicom (item, reason), and pydicom's
/// warnings for frames decoded here (item, messages), each in item order.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub fallbacks: Vec<(usize, Fallback)>,
    pub warnings: Vec<(usize, Vec<String>)>,
}

/// Frames of one file for one thread: (item, frame index, slot).
struct Unit<'p, 'o> {
    path: &'p Path,
    jobs: Vec<(usize, usize, Slot<'o>)>,
}

/// Read frame `items[i].1` of file `items[i].0` into frame `i` of `batch` for every item, on
/// up to `threads` threads (the calling one included). Every frame must have `geometry` (and,
/// raw, the batch's sample type: size and signedness); one that does not, or that this
/// module leaves to pydicom, is a fallback and its slot is left as it was. Errors only for a
/// batch whose size is not `items.len()` frames.
pub fn read_batch(
    items: &[(PathBuf, usize)],
    geometry: FrameGeometry,
    batch: Batch<'_>,
    processing: Processing,
    threads: usize,
    recent: &RecentFiles,
) -> Result<BatchOutcome, BatchError> {
    let samples = geometry.samples().ok_or(BatchError::FrameTooLarge)?;
    let (expected, slots): (Option<SampleFormat>, Vec<Slot>) = match batch {
        Batch::Raw(out, format) => {
            let frame_len = samples
                .checked_mul(format.bytes)
                .ok_or(BatchError::FrameTooLarge)?;
            check_len(out.len(), frame_len, items.len())?;
            let slots = out.chunks_exact_mut(frame_len.max(1)).map(Slot::Raw);
            (Some(format), slots.collect())
        }
        Batch::Float(out) => {
            check_len(out.len(), samples, items.len())?;
            let slots = out.chunks_exact_mut(samples.max(1)).map(Slot::Float);
            (None, slots.collect())
        }
    };
    // One unit per file (in first-seen order), split so no unit holds more than its share.
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_of: HashMap<&Path, usize> = HashMap::new();
    for (item, ((path, index), slot)) in items.iter().zip(slots).enumerate() {
        let u = *unit_of.entry(path.as_path()).or_insert_with(|| {
            units.push(Unit {
                path,
                jobs: Vec::new(),
            });
            units.len() - 1
        });
        units[u].jobs.push((item, *index, slot));
    }
    let threads = threads.max(1);
    // Units of a few frames, taken in turn: a thread the machine stalls holds up one
    // unit, not its share of a long multi-frame file.
    let share = items.len().div_ceil(threads).clamp(1, FRAMES_PER_UNIT);
    let mut queue = Vec::new();
    for unit in units {
        let mut jobs = unit.jobs.into_iter().peekable();
        while jobs.peek().is_some() {
            queue.push(Unit {
                path: unit.path,
                jobs: jobs.by_ref().take(share).collect(),
            });
        }
    }
    let outcomes = map_queued_with(queue, threads, Scratch::default, |scratch, unit| {
        let mut outcome = BatchOutcome::default();
        run_unit(
            unit,
            recent,
            geometry,
            expected,
            processing,
            scratch,
            &mut outcome,
        );
        outcome
    });
    let mut outcome = BatchOutcome::default();
    for unit in outcomes {
        outcome.fallbacks.extend(unit.fallbacks);
        outcome.warnings.extend(unit.warnings);
    }
    outcome.fallbacks.sort_unstable_by_key(|f| f.0);
    outcome.warnings.sort_unstable_by_key(|w| w.0);
    Ok(outcome)
}

/// The most frames of one file in a unit of work of `read_batch`.
const FRAMES_PER_UNIT: usize = 8;

/// Multi-frame files described lately, for the next batch from them: describing one reads
/// every item header of its pixel data, and a kept mapping keeps the pages earlier batches
/// faulted in. An entry is used only while the path still names a file of the same device,
/// inode, length and modification time. Owned by whoever reads batch after batch (a
/// `FrameDataset`), so nothing outlives its user.
#[derive(Default)]
pub struct RecentFiles(Mutex<Vec<(PathBuf, Stamp, Arc<PixelFile>)>>);

/// Entries `RecentFiles` keeps.
const RECENT_FILES: usize = 4;

impl RecentFiles {
    /// `PixelFile::open(path)`, kept from an earlier call when the file is as it was.
    fn open(&self, path: &Path) -> Result<Arc<PixelFile>, Fallback> {
        let stamp = Stamp::of(path);
        let recent = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stamp) = &stamp {
            let found = recent()
                .iter()
                .find(|(p, s, _)| p == path && s == stamp)
                .map(|(_, _, file)| Arc::clone(file));
            if let Some(file) = found {
                return Ok(file);
            }
        }
        let file = Arc::new(PixelFile::open(path)?);
        // Stamped before opening: a file changed in between is opened again next time.
        if let (Some(stamp), true) = (stamp, file.number_of_frames() > 1) {
            if matches!(file.data, Data::Source(_)) {
                let mut recent = recent();
                recent.retain(|(p, _, _)| p != path);
                recent.insert(0, (path.to_path_buf(), stamp, Arc::clone(&file)));
                recent.truncate(RECENT_FILES);
            }
        }
        Ok(file)
    }
}

/// What a path names: the file's identity, length and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    id: (u64, u64),
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let id = (0, 0);
        Some(Stamp {
            id,
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

fn check_len(len: usize, frame: usize, items: usize) -> Result<(), BatchError> {
    match frame.checked_mul(items) {
        Some(total) if total == len => Ok(()),
        _ => Err(BatchError::Length { len, items, frame }),
    }
}

fn run_unit(
    unit: Unit<'_, '_>,
    recent: &RecentFiles,
    geometry: FrameGeometry,
    expected: Option<SampleFormat>,
    processing: Processing,
    scratch: &mut Scratch,
    outcome: &mut BatchOutcome,
) {
    let prepared = recent.open(unit.path).and_then(|file| {
        if file.geometry() != geometry {
            return Err(Fallback::Unsupported(
                "frame shape differs from the batch's",
            ));
        }
        if let Some(format) = expected {
            let ours = file.format;
            if (ours.bytes, ours.signed) != (format.bytes, format.signed) {
                return Err(Fallback::Unsupported(
                    "sample type differs from the batch's",
                ));
            }
            return Ok((file, Transform::default()));
        }
        let transform = file.transform(processing)?;
        Ok((file, transform))
    });
    let (file, transform) = match prepared {
        Ok(prepared) => prepared,
        Err(reason) => {
            for (item, _, _) in unit.jobs {
                outcome.fallbacks.push((item, reason.clone()));
            }
            return;
        }
    };
    for (item, index, slot) in unit.jobs {
        match file.read_frame(index, slot, &transform, scratch) {
            Ok(warnings) if warnings.is_empty() => {}
            Ok(warnings) => outcome.warnings.push((item, warnings)),
            Err(reason) => outcome.fallbacks.push((item, reason)),
        }
    }
}
