//! Statements: which there are and how to find them, who signed each, and how
//! editors add, correct and delete them.

mod reading;
mod signatories;
mod writing;
