//! Native adapter (in progress).
