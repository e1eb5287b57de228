//! Readers of feature vectors, subject ids and score files.
//!
//! Feature vectors come as `.npy` (float32 or float64, 1-D for one vector,
//! 2-D for one vector per row) or as CSV: `subject,x1,...,xd` per line for
//! enrolment, or a probe's values separated by commas or whitespace.
//! Messages name files, lines and positions, never values. Feature values
//! are biometric data: the buffers that hold them are zeroized when dropped.
//! Every buffer is sized by what the file holds (an `.npy` header is checked
//! against the file's length first), with checked arithmetic.
//!
//! Subject ids follow one rule wherever they come from (a CSV's first
//! column, a `--subjects` file, `--subject`): surrounding whitespace is
//! removed and an empty id is refused; the core checks the rest (length,
//! control characters).

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{CliError, Result};
use crate::files::{read_input, read_text, reserve_zeroizing};
use crate::npy;

/// Row-major feature vectors.
#[derive(Debug, Default)]
pub struct Rows {
    /// `rows() * dim` values.
    pub values: Zeroizing<Vec<f32>>,
    /// Values per row.
    pub dim: usize,
    /// Where each row came from (`line 3`), for messages.
    pub origin: Vec<String>,
}

impl Rows {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.origin.len()
    }
}

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// A subject id as given on the command line or in a file: surrounding
/// whitespace removed, empty refused.
pub fn subject_id(raw: &str) -> Result<String> {
    let id = raw.trim();
    if id.is_empty() {
        return Err(CliError::input("empty subject id"));
    }
    Ok(id.to_owned())
}

/// Appends `value`, growing `v` with a checked reservation.
fn push<T>(v: &mut Vec<T>, value: T, what: &'static str) -> Result<()> {
    v.try_reserve(1).map_err(|_| btp::Error::OutOfMemory {
        what,
        bytes: (v.len() as u128 + 1) * std::mem::size_of::<T>() as u128,
    })?;
    v.push(value);
    Ok(())
}

/// `n` row labels (`row 0`, ...), the list sized with a checked reservation.
fn labels(n: usize, label: impl Fn(usize) -> String) -> Result<Vec<String>> {
    let mut v = btp::alloc::with_capacity(n, "the row labels")?;
    v.extend((0..n).map(label));
    Ok(v)
}

/// Feature vectors of an `.npy` file: 1-D is one vector, 2-D one per row.
pub fn read_npy(path: &Path) -> Result<Rows> {
    let bytes = read_input(path, "the .npy file")?;
    let a = npy::parse::<f32>(path, &bytes)?;
    let (n, dim) = match a.shape[..] {
        [d] => (1, d),
        [n, d] => (n, d),
        ref s => {
            return Err(CliError::input(format!(
                "{}: a 1-D or 2-D array expected, found {} dimensions",
                path.display(),
                s.len()
            )))
        }
    };
    if n == 0 || dim == 0 {
        return Err(CliError::input(format!(
            "{}: the array is empty",
            path.display()
        )));
    }
    Ok(Rows {
        values: a.values,
        dim,
        origin: labels(n, |i| format!("row {i}"))?,
    })
}

/// Enrolment input: rows of features with a subject id each.
///
/// `.npy` rows take their ids from `subjects` (one id per line) or, for a
/// single row, from `subject`; CSV lines are `subject,x1,...,xd`.
pub fn read_enrolment(
    path: &Path,
    subjects: Option<&Path>,
    subject: Option<&str>,
) -> Result<(Rows, Vec<String>)> {
    if is_npy(path) {
        let ids = match (subjects, subject) {
            (Some(file), None) => read_ids(file)?,
            (None, Some(s)) => vec![subject_id(s)?],
            _ => {
                return Err(CliError::usage(
                    "an .npy input needs its subject ids: --subjects FILE (one per line) or --subject ID",
                ))
            }
        };
        let rows = read_npy(path)?;
        if ids.len() != rows.rows() {
            return Err(CliError::input(format!(
                "{} has {} rows but {} subject ids were given",
                path.display(),
                rows.rows(),
                ids.len()
            )));
        }
        return Ok((rows, ids));
    }
    if subjects.is_some() || subject.is_some() {
        return Err(CliError::usage(
            "a CSV input carries its subject ids in the first column: drop --subjects/--subject",
        ));
    }
    read_csv(path)
}

/// `subject,x1,...,xd` lines; `#` starts a comment line.
fn read_csv(path: &Path) -> Result<(Rows, Vec<String>)> {
    let bytes = read_input(path, "the CSV file")?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(&bytes[..]);
    let mut rows = Rows::default();
    let mut ids = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(CliError::input(format!(
                    "{} line {line}: not valid CSV (or not UTF-8)",
                    path.display()
                )));
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let at = || format!("{} line {line}", path.display());
        let id = subject_id(record.get(0).unwrap_or("")).map_err(|e| e.context(at()))?;
        let dim = record.len().saturating_sub(1);
        if dim == 0 {
            return Err(CliError::input(format!("{}: no feature values", at())));
        }
        if rows.dim == 0 {
            rows.dim = dim;
        } else if dim != rows.dim {
            return Err(CliError::input(format!(
                "{}: {dim} feature values, the first line has {}",
                at(),
                rows.dim
            )));
        }
        reserve_zeroizing(&mut rows.values, dim, "the CSV feature values")?;
        for (i, f) in record.iter().skip(1).enumerate() {
            let v: f32 = f
                .parse()
                .map_err(|_| CliError::input(format!("{}: feature {i} is not a number", at())))?;
            rows.values.push(v);
        }
        push(&mut rows.origin, format!("line {line}"), "the row labels")?;
        push(&mut ids, id, "the subject ids")?;
    }
    if ids.is_empty() {
        return Err(CliError::input(format!(
            "{}: no data lines",
            path.display()
        )));
    }
    Ok((rows, ids))
}

/// Subject ids, one per non-blank line.
fn read_ids(path: &Path) -> Result<Vec<String>> {
    let text = read_text(path, "the subject ids file")?;
    let mut ids = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        push(&mut ids, subject_id(line)?, "the subject ids")?;
    }
    Ok(ids)
}

/// One probe vector: a 1-D `.npy` (or 2-D with one row), or text with the
/// values separated by commas or whitespace.
pub fn read_probe(path: &Path) -> Result<Zeroizing<Vec<f32>>> {
    if is_npy(path) {
        let rows = read_npy(path)?;
        if rows.rows() != 1 {
            return Err(CliError::input(format!(
                "{}: one probe vector expected, found {} rows",
                path.display(),
                rows.rows()
            )));
        }
        return Ok(rows.values);
    }
    let text = read_text(path, "the probe file")?;
    let mut values = Zeroizing::new(Vec::new());
    for (i, t) in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        let v = t.parse::<f32>().map_err(|_| {
            CliError::input(format!("{}: value {i} is not a number", path.display()))
        })?;
        reserve_zeroizing(&mut values, 1, "the probe values")?;
        values.push(v);
    }
    if values.is_empty() {
        return Err(CliError::input(format!("{}: no values", path.display())));
    }
    Ok(values)
}

/// Scores: a 1-D `.npy` or text with one number per line (blank lines and
/// `#` comments skipped).
pub fn read_scores(path: &Path) -> Result<Vec<f64>> {
    if is_npy(path) {
        let bytes = read_input(path, "the score file")?;
        let mut a = npy::parse::<f64>(path, &bytes)?;
        if a.shape.len() != 1 {
            return Err(CliError::input(format!(
                "{}: a 1-D array of scores expected",
                path.display()
            )));
        }
        return Ok(std::mem::take(&mut *a.values));
    }
    let text = read_text(path, "the score file")?;
    let mut scores = Zeroizing::new(Vec::new());
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let v = t.parse::<f64>().map_err(|_| {
            CliError::input(format!("{} line {}: not a number", path.display(), n + 1))
        })?;
        reserve_zeroizing(&mut scores, 1, "the scores")?;
        scores.push(v);
    }
    Ok(std::mem::take(&mut *scores))
}
