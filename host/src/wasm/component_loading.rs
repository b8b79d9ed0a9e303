//! Loading a component for a host: the one path providers and apps share.
//!
//! The component is read (or taken from the compile cache), the host's
//! linker is built (once per process and host kind), the component is
//! linked against it and its exports are checked against the world the
//! host runs; each failure is worded for an operator, with wasmtime's
//! reason on one line, escaped and capped (it may quote the file). A file
//! that is not a component at all is told by its header before wasmtime
//! reads it (see `compile_cache.rs`).
//!
//! A process's first load builds the linker on a second thread while the
//! component is read, checked and mapped: the linker does not depend on the
//! component, so a command's first load waits for the slower of the two
//! instead of both.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};

use crate::error::{Error, Result};
use crate::wasm::compile_cache::CompileCache;
use crate::wasm::guest_text::escaped;
use crate::wasm::host_error::HostError;

/// A host's linker: what its guests import, built once per process.
pub(crate) struct HostLinker<T: 'static> {
    built: OnceLock<std::result::Result<Linker<T>, Arc<HostError>>>,
    add_imports: fn(&mut Linker<T>) -> std::result::Result<(), HostError>,
}

impl<T: 'static> HostLinker<T> {
    /// A linker whose imports `add_imports` adds, when first asked for.
    pub(crate) const fn new(
        add_imports: fn(&mut Linker<T>) -> std::result::Result<(), HostError>,
    ) -> Self {
        Self {
            built: OnceLock::new(),
            add_imports,
        }
    }

    /// The linker, built on first use (for the process's one engine).
    fn get(&self, engine: &Engine) -> std::result::Result<&Linker<T>, HostError> {
        self.built
            .get_or_init(|| {
                let mut linker = Linker::new(engine);
                (self.add_imports)(&mut linker).map_err(Arc::new)?;
                Ok(linker)
            })
            .as_ref()
            .map_err(|e| HostError::Shared(Arc::clone(e)))
    }
}

/// What a host expects of a component: the world it runs, and how its
/// failures to fit are worded.
pub(crate) struct World<T: 'static, P> {
    /// Why a component with an import the linker lacks cannot be used
    /// ("needs an import this host does not grant").
    pub(crate) missing_import: &'static str,
    /// Why a component without the world's exports cannot be used.
    pub(crate) missing_export: &'static str,
    /// The world's pre-instance, made from the linked component; fails
    /// when the exports are missing.
    pub(crate) typed: fn(InstancePre<T>) -> wasmtime::Result<P>,
}

/// A component loaded, linked and checked: the world's pre-instance, and
/// how long reading (or compiling) and linking took.
pub(crate) struct Loaded<P> {
    /// The pre-instance every instance is made from.
    pub(crate) pre: P,
    /// Time to read or compile the component.
    pub(crate) compiled: Duration,
    /// Time to link and check it after that.
    pub(crate) linked: Duration,
}

/// Loads the component at `path` for a host with `linker`, expecting
/// `world`; a failure is made an [`Error`] by `failed` (a backend's, an
/// app's).
pub(crate) fn load_component<T: 'static, P>(
    engine: &Engine,
    cache: &CompileCache,
    path: &Path,
    linker: &'static HostLinker<T>,
    world: &World<T, P>,
    failed: impl Fn(String) -> Error,
) -> Result<Loaded<P>>
where
    Linker<T>: Sync,
{
    let started = Instant::now();
    let (component, linker) = read_and_link(engine, cache, path, linker, &failed);
    let component = component?;
    let compiled = started.elapsed();
    let linker = linker.map_err(|e| failed(e.report()))?;
    let linked = linker
        .instantiate_pre(&component)
        .map_err(|e| failed(problem(path, world.missing_import, &e)))?;
    let pre = (world.typed)(linked).map_err(|e| failed(problem(path, world.missing_export, &e)))?;
    Ok(Loaded {
        pre,
        compiled,
        linked: started.elapsed() - compiled,
    })
}

/// The component at `path` and the linker, the linker built on a second
/// thread the first time.
fn read_and_link<T: 'static>(
    engine: &Engine,
    cache: &CompileCache,
    path: &Path,
    linker: &'static HostLinker<T>,
    failed: &impl Fn(String) -> Error,
) -> (
    Result<Component>,
    std::result::Result<&'static Linker<T>, HostError>,
)
where
    Linker<T>: Sync,
{
    let read = || cache.load_file(engine, path, failed);
    if linker.built.get().is_some() {
        return (read(), linker.get(engine));
    }
    std::thread::scope(|scope| {
        let linking = std::thread::Builder::new()
            .name("pp-secrets-link".into())
            .spawn_scoped(scope, || linker.get(engine));
        let component = read();
        let linked = match linking {
            Ok(handle) => handle.join().unwrap_or(Err(HostError::LinkerPanicked)),
            // No second thread to be had: build it here.
            Err(_) => linker.get(engine),
        };
        (component, linked)
    })
}

/// Why the component at `path` cannot be used (`what`), with wasmtime's
/// reason on one line (some of its reasons are pretty-printed over
/// several), without the bytes of the file it may list, escaped and capped.
pub(crate) fn problem(path: &Path, what: &str, error: &wasmtime::Error) -> String {
    let reason = format!("{error:#}");
    let one_line = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "{} {what}: {}",
        path.display(),
        escaped(&without_byte_lists(&one_line))
    )
}

/// `text` with each list of numbers in it (wasmtime lists a file's bytes,
/// as in `actual=[ 0x6e, 0x6f, ]`) cut to `[..]`: a message quotes no part
/// of the file.
fn without_byte_lists(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|len| open + len) else {
            break;
        };
        out.push_str(&rest[..open]);
        let mut items = rest[open + 1..close]
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .peekable();
        let numbers = items.peek().is_some()
            && items.all(|item| match item.strip_prefix("0x") {
                Some(hex) => !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()),
                None => item.chars().all(|c| c.is_ascii_digit()),
            });
        out.push_str(if numbers { "[..]" } else { &rest[open..=close] });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::without_byte_lists;

    #[test]
    fn lists_of_bytes_are_cut_and_other_brackets_kept() {
        assert_eq!(
            without_byte_lists(
                "bad magic number - expected=[ 0x0, 0x61, 0x73, 0x6d, ] actual=[ 0x6e, 0x6f, ] \
                 (at offset 0x0)"
            ),
            "bad magic number - expected=[..] actual=[..] (at offset 0x0)"
        );
        assert_eq!(without_byte_lists("list [1, 2, 255]"), "list [..]");
        for kept in [
            "import `wasi:cli/run` [method]x",
            "an empty list []",
            "[unclosed 0x1",
            "[a[0x1]",
            "[cafe]",
        ] {
            assert_eq!(without_byte_lists(kept), kept);
        }
    }
}
