//! Files the command reads and writes, with one rule each way.
//!
//! Inputs (`--input`, `--subjects`, `--config`, a centre, score files) are
//! read whole into memory that is zeroized when dropped, grown with checked
//! sizes: a missing file, a folder or a file that is not what it claims is
//! bad input (exit 3); a file that cannot be read for another reason, or
//! that does not fit in memory, is exit 8.
//!
//! Outputs (`--out`, `--det`) are new files, never overwritten (exit 8 when
//! the file exists, its folder is missing, or the disk or a file-size limit
//! stops the write, and then the partial file is removed); `-` is stdout.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::{Zeroize, Zeroizing};

use crate::error::{Class, CliError, Result};

/// The class of a failure to read the input file `path`.
pub fn input_error(path: &Path, e: &io::Error) -> CliError {
    use io::ErrorKind as K;
    let class = match e.kind() {
        K::NotFound
        | K::IsADirectory
        | K::NotADirectory
        | K::InvalidData
        | K::InvalidFilename
        | K::UnexpectedEof => Class::Input,
        _ => Class::Io,
    };
    let what = match e.kind() {
        K::NotFound => "no such file".to_owned(),
        K::IsADirectory => "a folder, not a file".to_owned(),
        _ => e.to_string(),
    };
    CliError::new(class, format!("{}: {what}", path.display()))
}

/// The error of a failure to create or write the output `path` (exit 8).
pub fn output_error(path: &Path, e: &io::Error) -> CliError {
    let what = match e.kind() {
        io::ErrorKind::AlreadyExists => "already exists: refusing to overwrite it".to_owned(),
        io::ErrorKind::NotFound => "its folder does not exist".to_owned(),
        _ => e.to_string(),
    };
    CliError::io(format!("{}: {what}", path.display()))
}

/// Room for `extra` more elements in `v`, growing into a new buffer so that
/// the old one is zeroized (a plain `Vec` would leave copies behind), with
/// the size checked: [`btp::Error::OutOfMemory`] rather than an abort.
pub fn reserve_zeroizing<T: Zeroize + Copy>(
    v: &mut Zeroizing<Vec<T>>,
    extra: usize,
    what: &'static str,
) -> Result<()> {
    if v.capacity() - v.len() >= extra {
        return Ok(());
    }
    let need = v.len().checked_add(extra).ok_or(btp::Error::OutOfMemory {
        what,
        bytes: (v.len() as u128 + extra as u128) * std::mem::size_of::<T>() as u128,
    })?;
    let want = need.max(v.capacity().saturating_mul(2)).max(64);
    let mut grown = Zeroizing::new(
        btp::alloc::with_capacity(want, what).or_else(|_| btp::alloc::with_capacity(need, what))?,
    );
    grown.extend_from_slice(v);
    *v = grown;
    Ok(())
}

/// The whole content of the input file `path` (`what` names it in an
/// out-of-memory message).
pub fn read_input(path: &Path, what: &'static str) -> Result<Zeroizing<Vec<u8>>> {
    let mut file = File::open(path).map_err(|e| input_error(path, &e))?;
    let meta = file.metadata().map_err(|e| input_error(path, &e))?;
    if meta.is_dir() {
        return Err(CliError::input(format!(
            "{}: a folder, not a file",
            path.display()
        )));
    }
    // A regular file says how long it is; a pipe or device does not.
    let hint = if meta.is_file() {
        usize::try_from(meta.len()).unwrap_or(usize::MAX)
    } else {
        0
    };
    let mut bytes = Zeroizing::new(Vec::new());
    reserve_zeroizing(&mut bytes, hint.saturating_add(1), what)?;
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let n = match file.read(&mut chunk[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(input_error(path, &e)),
        };
        reserve_zeroizing(&mut bytes, n, what)?;
        bytes.extend_from_slice(&chunk[..n]);
    }
    Ok(bytes)
}

/// The input file `path` as UTF-8 text.
pub fn read_text(path: &Path, what: &'static str) -> Result<Zeroizing<String>> {
    let mut bytes = read_input(path, what)?;
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(s) => Ok(Zeroizing::new(s)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let mut raw = e.into_bytes();
            raw.zeroize();
            Err(CliError::input(format!(
                "{}: not UTF-8 text (byte {at})",
                path.display()
            )))
        }
    }
}

/// Whether an output path means stdout.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A new output file, removed again unless [`OutputFile::finish`] succeeds.
pub struct OutputFile {
    file: Option<io::BufWriter<File>>,
    path: PathBuf,
    failure: Option<CliError>,
}

impl OutputFile {
    /// Creates `path`, failing if it exists (`O_EXCL`), with `options`'
    /// extra settings (e.g. the mode).
    pub fn create_with(path: &Path, options: &mut OpenOptions) -> Result<Self> {
        let file = options
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| output_error(path, &e))?;
        Ok(Self {
            file: Some(io::BufWriter::new(file)),
            path: path.to_owned(),
            failure: None,
        })
    }

    /// Creates `path`, failing if it exists.
    pub fn create(path: &Path) -> Result<Self> {
        Self::create_with(path, &mut OpenOptions::new())
    }

    /// Writes all of `bytes`.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        Write::write_all(self, bytes).map_err(|e| output_error(&self.path, &e))
    }

    /// The first write error, naming the file: what a caller that wrote
    /// through [`Write`] reports instead of its own error.
    pub fn take_failure(&mut self) -> Option<CliError> {
        self.failure.take()
    }

    fn note<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r {
            if self.failure.is_none() && e.kind() != io::ErrorKind::Interrupted {
                self.failure = Some(output_error(&self.path, e));
            }
        }
        r
    }

    /// Flushes and syncs the file to disk: it is complete.
    pub fn finish(mut self) -> Result<()> {
        let path = self.path.clone();
        let file = self.file.take().expect("open until finished");
        let file = file
            .into_inner()
            .map_err(|e| output_error(&path, e.error()));
        match file.and_then(|f| f.sync_all().map_err(|e| output_error(&path, &e))) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.file.as_mut().expect("open until finished").write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.file.as_mut().expect("open until finished").flush();
        self.note(r)
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        // Not finished: an error stopped the writing. The file is ours
        // (created with O_EXCL): remove the partial content.
        if let Some(file) = self.file.take() {
            drop(file.into_parts());
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Stdout that remembers why a write failed: a reader that went away
/// (`| head`) is not an error, anything else (a full disk, a file-size
/// limit on a redirected stdout) is.
pub struct Stdout {
    inner: io::StdoutLock<'static>,
    failure: Option<io::ErrorKind>,
    message: String,
}

impl Stdout {
    /// Locks stdout.
    pub fn lock() -> Self {
        Self {
            inner: io::stdout().lock(),
            failure: None,
            message: String::new(),
        }
    }

    fn note<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r {
            if self.failure.is_none() && e.kind() != io::ErrorKind::Interrupted {
                self.failure = Some(e.kind());
                self.message = e.to_string();
            }
        }
        r
    }

    /// Whether the reader went away.
    pub fn closed(&self) -> bool {
        self.failure == Some(io::ErrorKind::BrokenPipe)
    }

    /// The error of a failed write, unless the reader went away: `Ok` then.
    pub fn outcome(&self) -> Result<()> {
        match self.failure {
            None | Some(io::ErrorKind::BrokenPipe) => Ok(()),
            Some(_) => Err(CliError::io(format!("writing to stdout: {}", self.message))),
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

/// Writes `text` to stdout; a reader that went away is not an error.
pub fn print(text: &str) -> Result<()> {
    let mut out = Stdout::lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    out.outcome()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_and_output_errors_have_the_tables_classes() {
        let p = Path::new("x");
        let kind = |k: io::ErrorKind| input_error(p, &io::Error::from(k)).class;
        assert_eq!(kind(io::ErrorKind::NotFound), Class::Input);
        assert_eq!(kind(io::ErrorKind::IsADirectory), Class::Input);
        assert_eq!(kind(io::ErrorKind::InvalidData), Class::Input);
        assert_eq!(kind(io::ErrorKind::PermissionDenied), Class::Io);
        for k in [
            io::ErrorKind::NotFound,
            io::ErrorKind::AlreadyExists,
            io::ErrorKind::PermissionDenied,
            io::ErrorKind::FileTooLarge,
            io::ErrorKind::StorageFull,
        ] {
            assert_eq!(output_error(p, &io::Error::from(k)).class, Class::Io);
        }
    }

    #[test]
    fn grown_buffers_keep_their_content() {
        let mut v = Zeroizing::new(vec![1u8, 2, 3]);
        reserve_zeroizing(&mut v, 1000, "test").unwrap();
        assert_eq!(&v[..], &[1, 2, 3]);
        assert!(v.capacity() >= 1003);
        let e = reserve_zeroizing(&mut v, usize::MAX, "test").unwrap_err();
        assert_eq!(e.class, Class::Io);
        assert!(e.message.contains("test"), "{}", e.message);
    }

    #[test]
    fn an_unfinished_output_is_removed_and_an_existing_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.txt");
        let mut out = OutputFile::create(&path).unwrap();
        out.write_bytes(b"partial").unwrap();
        drop(out);
        assert!(!path.exists());
        let mut out = OutputFile::create(&path).unwrap();
        out.write_bytes(b"whole").unwrap();
        out.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        let e = OutputFile::create(&path).err().unwrap();
        assert!(e.message.contains("already exists"), "{}", e.message);
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        let e = OutputFile::create(&dir.path().join("no/such/folder.txt"))
            .err()
            .unwrap();
        assert_eq!(e.class, Class::Io);
        assert!(e.message.contains("folder does not exist"), "{}", e.message);
    }
}
