//! Integration tests, one module per area of the contract. All of them
//! compile into this one binary so the suite links the library once.

mod support;

mod application;
#[cfg(feature = "aws")]
mod aws;
mod backends;
mod binary;
mod cli;
mod cli_conveniences;
mod config;
mod embedding;
mod leaks;
mod manager;
mod operator;
mod readme;
mod rotation;
mod supervisor;
mod tokens;
#[cfg(feature = "wasm")]
mod wasm;
