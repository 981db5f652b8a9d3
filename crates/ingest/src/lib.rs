//! Inbound alert formats: one pure parser per format, from the raw body and headers to
//! normalised [`klaxon_domain::alert::AlertEvent`]s, plus the signature checks of the
//! formats that sign. No database, no I/O.
#![forbid(unsafe_code)]
