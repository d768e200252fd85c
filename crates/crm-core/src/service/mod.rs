//! use cases
