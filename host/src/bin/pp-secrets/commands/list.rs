//! `list PATTERN`: logical names matching backend:glob, sorted.

use std::path::Path;

use crate::failure::Failure;
use crate::output;

pub async fn run(config: &Path, pattern: &str) -> Result<i32, Failure> {
    let (_, manager) = super::open(config)?;
    for name in manager.list(pattern).await? {
        output::line(&name);
    }
    Ok(0)
}
