//! Printing rows. Every format but `table` streams: a million rows never sit
//! in memory at once.

use std::io::{self, Write};

use rusqlite::types::ValueRef;

use crate::args::Format;

/// A cell copied out of SQLite.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl Cell {
    pub fn from_sql(v: ValueRef<'_>) -> Cell {
        let mut cell = Cell::Null;
        cell.set(v);
        cell
    }

    /// Overwrites the cell with `v`, reusing its text buffer: a row loop
    /// then allocates nothing per cell.
    pub fn set(&mut self, v: ValueRef<'_>) {
        match v {
            ValueRef::Null => *self = Cell::Null,
            ValueRef::Integer(i) => *self = Cell::Integer(i),
            ValueRef::Real(f) => *self = Cell::Real(f),
            ValueRef::Text(t) => {
                let text = String::from_utf8_lossy(t);
                match self {
                    Cell::Text(s) => {
                        s.clear();
                        s.push_str(&text);
                    }
                    _ => *self = Cell::Text(text.into_owned()),
                }
            }
            // Blobs are rare here (digests are hex text); show them as hex.
            ValueRef::Blob(b) => *self = Cell::Text(b.iter().map(|x| format!("{x:02x}")).collect()),
        }
    }

    fn display(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Integer(i) => i.to_string(),
            Cell::Real(f) => f.to_string(),
            Cell::Text(s) => s.clone(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Integer(i) => (*i).into(),
            Cell::Real(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
            Cell::Text(s) => s.clone().into(),
        }
    }
}

/// Receives the rows of one statement.
pub trait RowSink {
    fn begin(&mut self, columns: &[String]) -> io::Result<()>;
    fn row(&mut self, cells: &[Cell]) -> io::Result<()>;
    fn end(&mut self) -> io::Result<()>;
}

pub fn sink<'w>(format: Format, out: &'w mut dyn Write) -> Box<dyn RowSink + 'w> {
    match format {
        Format::Table => Box::new(TableSink { out, columns: vec![], rows: vec![] }),
        Format::Json => Box::new(JsonSink { out, columns: vec![], lines: false, first: true }),
        Format::Jsonl => Box::new(JsonSink { out, columns: vec![], lines: true, first: true }),
        Format::Csv => Box::new(CsvSink { writer: csv::Writer::from_writer(out) }),
        Format::Line => Box::new(LineSink { out, columns: vec![], width: 0, first: true }),
    }
}

struct JsonSink<'w> {
    out: &'w mut dyn Write,
    /// Each column's `"name": `, escaped once.
    columns: Vec<Vec<u8>>,
    lines: bool,
    first: bool,
}

impl RowSink for JsonSink<'_> {
    fn begin(&mut self, columns: &[String]) -> io::Result<()> {
        self.columns = columns
            .iter()
            .map(|c| {
                let mut key = serde_json::to_vec(c).unwrap_or_default();
                key.extend_from_slice(b": ");
                key
            })
            .collect();
        self.first = true;
        if !self.lines {
            self.out.write_all(b"[")?;
        }
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        if !self.lines {
            self.out.write_all(if self.first { b"\n  " } else { b",\n  " })?;
        }
        self.first = false;
        self.out.write_all(b"{")?;
        for (i, (key, cell)) in self.columns.iter().zip(cells).enumerate() {
            if i > 0 {
                self.out.write_all(b", ")?;
            }
            self.out.write_all(key)?;
            match cell {
                Cell::Null => self.out.write_all(b"null")?,
                Cell::Integer(v) => write!(self.out, "{v}")?,
                Cell::Text(t) => serde_json::to_writer(&mut *self.out, t)?,
                Cell::Real(_) => serde_json::to_writer(&mut *self.out, &cell.to_json())?,
            }
        }
        self.out.write_all(b"}")?;
        if self.lines {
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        if !self.lines {
            self.out.write_all(if self.first { b"]\n" } else { b"\n]\n" })?;
        }
        Ok(())
    }
}

struct CsvSink<'w> {
    writer: csv::Writer<&'w mut dyn Write>,
}

impl RowSink for CsvSink<'_> {
    fn begin(&mut self, columns: &[String]) -> io::Result<()> {
        self.writer.write_record(columns).map_err(io::Error::other)
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.writer.write_record(cells.iter().map(Cell::display)).map_err(io::Error::other)
    }

    fn end(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

struct LineSink<'w> {
    out: &'w mut dyn Write,
    columns: Vec<String>,
    width: usize,
    first: bool,
}

impl RowSink for LineSink<'_> {
    fn begin(&mut self, columns: &[String]) -> io::Result<()> {
        self.width = columns.iter().map(|c| c.chars().count()).max().unwrap_or(0);
        self.columns = columns.to_vec();
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        if !self.first {
            writeln!(self.out)?;
        }
        self.first = false;
        for (name, cell) in self.columns.iter().zip(cells) {
            writeln!(self.out, "{name:>w$} = {}", cell.display(), w = self.width)?;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Boxed columns, as osqueryi prints them. Needs every row before the first
/// line, to know the widths.
struct TableSink<'w> {
    out: &'w mut dyn Write,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl RowSink for TableSink<'_> {
    fn begin(&mut self, columns: &[String]) -> io::Result<()> {
        self.columns = columns.to_vec();
        self.rows.clear();
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.rows.push(cells.iter().map(|c| c.display().replace(['\n', '\r', '\t'], " ")).collect());
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        if self.columns.is_empty() {
            return Ok(());
        }
        let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
        let mut widths: Vec<usize> = self.columns.iter().map(|c| width(c)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let rule: String = widths.iter().map(|w| format!("+{}", "-".repeat(w + 2))).collect::<String>() + "+";
        let line = |cells: &[String]| -> String {
            let mut s = String::new();
            for (cell, w) in cells.iter().zip(&widths) {
                s.push_str("| ");
                s.push_str(cell);
                s.push_str(&" ".repeat(w - width(cell) + 1));
            }
            s.push('|');
            s
        };
        writeln!(self.out, "{rule}")?;
        writeln!(self.out, "{}", line(&self.columns))?;
        writeln!(self.out, "{rule}")?;
        for row in &self.rows {
            writeln!(self.out, "{}", line(row))?;
        }
        writeln!(self.out, "{rule}")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format) -> String {
        let mut buf = Vec::new();
        {
            let mut s = sink(format, &mut buf);
            s.begin(&["name".into(), "n".into()]).unwrap();
            s.row(&[Cell::Text("a\"b".into()), Cell::Integer(3)]).unwrap();
            s.row(&[Cell::Text("ü".into()), Cell::Null]).unwrap();
            s.end().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn json_keeps_types() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(v, serde_json::json!([{"name": "a\"b", "n": 3}, {"name": "ü", "n": null}]));
        let lines: Vec<serde_json::Value> =
            render(Format::Jsonl).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[1], serde_json::json!({"name": "ü", "n": null}));
    }

    #[test]
    fn text_formats() {
        assert_eq!(render(Format::Csv), "name,n\n\"a\"\"b\",3\nü,\n");
        assert_eq!(render(Format::Line), "name = a\"b\n   n = 3\n\nname = ü\n   n = \n");
        assert_eq!(
            render(Format::Table),
            "+------+---+\n| name | n |\n+------+---+\n| a\"b  | 3 |\n| ü    |   |\n+------+---+\n"
        );
    }
}
