//! The `World` typst compiles in: two virtual files (the fixed template and
//! the document as JSON) and the fonts, nothing from the disk, no packages,
//! no clock. What a card or an operator wrote can therefore not reach a file,
//! a package or the network through the template.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::fonts::FontSet;

const TEMPLATE: &str = include_str!("handout.typ");

/// Built once: the standard library is the same for every handout, and a
/// stable one lets typst's memoization reuse work between renders.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

pub(crate) struct HandoutWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

impl HandoutWorld {
    /// `data` is the document as JSON, read by the template as `/data.json`.
    pub(crate) fn new(data: Vec<u8>, fonts: FontSet) -> Result<Self, String> {
        let main_id = file_id("/handout.typ")?;
        let data_id = file_id("/data.json")?;
        Ok(Self {
            main: Source::new(main_id, TEMPLATE.to_owned()),
            data_id,
            data: Bytes::new(data),
            book: LazyHash::new(FontBook::from_infos(fonts.infos)),
            fonts: fonts.fonts,
        })
    }
}

/// File ids are interned for the life of the process; the two paths are
/// constant, so this interns two ids however many handouts are rendered.
fn file_id(path: &str) -> Result<FileId, String> {
    let vpath = VirtualPath::new(path).map_err(|e| format!("virtual path {path}: {e:?}"))?;
    Ok(FileId::new(RootedPath::new(VirtualRoot::Project, vpath)))
}

impl World for HandoutWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(TEMPLATE))
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.get(index).cloned()
    }

    /// The template takes the date as already formatted text; no clock, so
    /// that the same input gives the same PDF.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}
