//! Readers of feature vectors, subject ids and score files.
//!
//! Feature vectors come as `.npy` (float32 or float64, 1-D for one vector,
//! 2-D for one vector per row) or as CSV: `subject,x1,...,xd` per line for
//! enrolment, or a probe's values separated by commas or whitespace.
//! Messages name files, lines and positions, never values. Feature values
//! are biometric data: the buffers that hold them are zeroized when dropped.

use std::io::Read;
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, ReadNpyExt};
use zeroize::Zeroizing;

use crate::error::{io_error, CliError, Result};

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

fn read_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| io_error(path, &e))?;
    Ok(bytes)
}

fn npy_error(path: &Path, e: &ReadNpyError) -> CliError {
    CliError::input(format!("{}: not a valid .npy file: {e}", path.display()))
}

/// An n-dimensional float array of an `.npy` file, as f64.
fn read_npy_any(path: &Path) -> Result<ArrayD<f64>> {
    let bytes = read_bytes(path)?;
    match ArrayD::<f32>::read_npy(&bytes[..]) {
        Ok(a) => Ok(a.mapv(f64::from)),
        Err(ReadNpyError::WrongDescriptor(_)) => match ArrayD::<f64>::read_npy(&bytes[..]) {
            Ok(a) => Ok(a),
            Err(ReadNpyError::WrongDescriptor(d)) => Err(CliError::input(format!(
                "{}: .npy of type {d}: float32 or float64 expected",
                path.display()
            ))),
            Err(e) => Err(npy_error(path, &e)),
        },
        Err(e) => Err(npy_error(path, &e)),
    }
}

/// Feature vectors of an `.npy` file: 1-D is one vector, 2-D one per row.
pub fn read_npy(path: &Path) -> Result<Rows> {
    let a = read_npy_any(path)?;
    let (n, dim) = match a.shape() {
        [d] => (1, *d),
        [n, d] => (*n, *d),
        s => {
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
    let values = Zeroizing::new(a.iter().map(|&v| v as f32).collect());
    let mut a = a;
    a.fill(0.0);
    Ok(Rows {
        values,
        dim,
        origin: (0..n).map(|i| format!("row {i}")).collect(),
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
        let rows = read_npy(path)?;
        let ids = match (subjects, subject) {
            (Some(file), None) => read_ids(file)?,
            (None, Some(s)) => vec![s.to_owned()],
            _ => {
                return Err(CliError::input(
                    "an .npy input needs its subject ids: --subjects FILE (one per line) or --subject ID",
                ))
            }
        };
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
        return Err(CliError::input(
            "a CSV input carries its subject ids in the first column: drop --subjects/--subject",
        ));
    }
    read_csv(path)
}

/// `subject,x1,...,xd` lines; `#` starts a comment line.
fn read_csv(path: &Path) -> Result<(Rows, Vec<String>)> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(file);
    let mut rows = Rows::default();
    let mut ids = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            CliError::input(format!("{} line {line}: not valid CSV", path.display()))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let at = || format!("{} line {line}", path.display());
        let mut fields = record.iter();
        let id = fields.next().unwrap_or("");
        if id.is_empty() {
            return Err(CliError::input(format!("{}: empty subject id", at())));
        }
        let start = rows.values.len();
        for (i, f) in fields.enumerate() {
            let v: f32 = f
                .parse()
                .map_err(|_| CliError::input(format!("{}: feature {i} is not a number", at())))?;
            rows.values.push(v);
        }
        let dim = rows.values.len() - start;
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
        rows.origin.push(format!("line {line}"));
        ids.push(id.to_owned());
    }
    if ids.is_empty() {
        return Err(CliError::input(format!(
            "{}: no data lines",
            path.display()
        )));
    }
    Ok((rows, ids))
}

/// Subject ids, one per non-empty line.
fn read_ids(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
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
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?);
    let values = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .enumerate()
        .map(|(i, t)| {
            t.parse::<f32>().map_err(|_| {
                CliError::input(format!("{}: value {i} is not a number", path.display()))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if values.is_empty() {
        return Err(CliError::input(format!("{}: no values", path.display())));
    }
    Ok(Zeroizing::new(values))
}

/// Scores: a 1-D `.npy` or text with one number per line (blank lines and
/// `#` comments skipped).
pub fn read_scores(path: &Path) -> Result<Vec<f64>> {
    if is_npy(path) {
        let a = read_npy_any(path)?;
        if a.ndim() != 1 {
            return Err(CliError::input(format!(
                "{}: a 1-D array of scores expected",
                path.display()
            )));
        }
        return Ok(a.iter().copied().collect());
    }
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?;
    let mut scores = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        scores.push(t.parse::<f64>().map_err(|_| {
            CliError::input(format!("{} line {}: not a number", path.display(), n + 1))
        })?);
    }
    Ok(scores)
}
