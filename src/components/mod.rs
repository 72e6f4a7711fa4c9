//! The page's components, one per file, each with its `Props`.

pub mod stage_table;
pub mod status_line;

pub use stage_table::StageTable;
pub use status_line::StatusLine;
