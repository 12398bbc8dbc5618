//! The input of `yida import`: a regular file or standard input, read line by line with a cap
//! on the length of a line, so every input line gets an outcome and memory stays bounded.

use crate::fail::Fail;
use std::io::BufRead;

/// Default cap on one input line (one record as JSON).
pub const DEFAULT_MAX_LINE_BYTES: u64 = 4 << 20;

/// One line of the input.
pub enum Line {
    /// The line's bytes, without the line end.
    Text(Vec<u8>),
    /// A line longer than the cap: its length in bytes (read and dropped, never held).
    TooLong(u64),
}

/// Opens `path` (`None` or `-`: standard input). Anything but a regular file is refused (a
/// directory, a FIFO, a device), before anything is sent.
pub fn open(path: Option<&str>) -> Result<Box<dyn BufRead>, Fail> {
    let Some(path) = path.filter(|p| *p != "-") else {
        return Ok(Box::new(std::io::BufReader::with_capacity(
            64 << 10,
            std::io::stdin(),
        )));
    };
    let meta =
        std::fs::metadata(path).map_err(|e| Fail::usage(format!("cannot read {path}: {e}")))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "a special file"
        };
        return Err(Fail::usage(format!(
            "{path} is not a regular file ({what}); give a file of NDJSON records, or `-` for \
             standard input"
        )));
    }
    let file =
        std::fs::File::open(path).map_err(|e| Fail::usage(format!("cannot read {path}: {e}")))?;
    Ok(Box::new(std::io::BufReader::with_capacity(64 << 10, file)))
}

/// Reads the next line (without `\n` or `\r\n`), holding at most `max` bytes of it. `None` at
/// the end of the input.
pub fn next_line(reader: &mut dyn BufRead, max: u64) -> std::io::Result<Option<Line>> {
    let mut text = Vec::new();
    let mut len: u64 = 0;
    let mut any = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        any = true;
        let (piece, done) = match memchr_nl(buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        len += piece.len() as u64;
        if len <= max {
            text.extend_from_slice(piece);
        } else if !text.is_empty() {
            text = Vec::new();
        }
        let used = done.unwrap_or(buf.len());
        reader.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if len > max {
        return Ok(Some(Line::TooLong(len)));
    }
    if text.last() == Some(&b'\r') {
        text.pop();
    }
    Ok(Some(Line::Text(text)))
}

fn memchr_nl(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|b| *b == b'\n')
}
