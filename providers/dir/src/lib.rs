//! A `pp-secrets` provider component that serves secrets mounted as files:
//! Kubernetes secret volumes and Docker secrets (`/run/secrets`).
//!
//! Configured as a `type: wasm` backend of the host:
//!
//! ```yaml
//! secrets:
//!   backends:
//!     mounted:
//!       type: wasm
//!       path: pp_secrets_dir_provider.wasm
//!       config: { dir: /run/secrets }
//!       allow: { dirs: [/run/secrets] }
//! ```
//!
//! - One file per secret: the name is the file name, the value its content,
//!   exactly (a trailing newline is part of the value).
//! - Names starting with `.` are not secrets: that hides Kubernetes' `..data`
//!   link and its timestamped `..2024_...` directories. Directories are not
//!   secrets either.
//! - Symlinks inside the directory work (Kubernetes mounts every secret as a
//!   link into `..data`); a link that leads outside the directory is an
//!   error, never followed. The sandbox refuses such paths too; checking here
//!   as well gives a clear message and keeps the rule when run natively.

use std::fs::Metadata;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use pp_secrets_guest::{Config, Error, Pattern, Provider};

/// How many symlinks one lookup may follow.
const MAX_LINKS: usize = 32;

/// Serves the files of one directory.
pub struct DirProvider {
    dir: PathBuf,
}

impl Provider for DirProvider {
    fn setup(config: Config) -> Result<Self, Error> {
        let dir = config
            .get("dir")
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Error::backend("the dir provider needs `config: { dir: PATH }`"))?;
        let dir = normalize(Path::new(dir));
        if !dir.is_absolute() {
            return Err(Error::backend(format!(
                "config dir {} must be an absolute path",
                dir.display()
            )));
        }
        Ok(DirProvider { dir })
    }

    fn get(&self, name: &str) -> Result<String, Error> {
        if !is_secret_name(name) {
            return Err(Error::not_found(name));
        }
        let (path, meta) = self.resolve(name)?;
        // Only regular files: opening a FIFO or a device could block.
        match meta {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(Error::not_found(name)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::not_found(name));
            }
            Err(e) => return Err(Error::backend(format!("cannot read secret {name}: {e}"))),
        }
        let bytes = read_file(&path)
            .map_err(|e| Error::backend(format!("cannot read secret {name}: {e}")))?;
        String::from_utf8(bytes)
            .map_err(|_| Error::backend(format!("secret {name} is not valid UTF-8")))
    }

    fn list(&self, pattern: &Pattern) -> Result<Vec<String>, Error> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| Error::backend(format!("cannot list {}: {e}", self.dir.display())))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry
                .map_err(|e| Error::backend(format!("cannot list {}: {e}", self.dir.display())))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !is_secret_name(&name) || !pattern.matches(&name) {
                continue;
            }
            // Only files (through links that stay inside) are secrets.
            let is_file = self
                .resolve(&name)
                .is_ok_and(|(_, meta)| meta.is_ok_and(|m| m.is_file()));
            if is_file {
                names.push(name);
            }
        }
        Ok(names)
    }
}

impl DirProvider {
    /// The real path of `name`, following symlinks one path component at a
    /// time; an error if any link leads outside the directory.
    ///
    /// Also gives the metadata of the path it resolved to (without a second
    /// look-up: the last component was examined while resolving).
    fn resolve(&self, name: &str) -> Result<(PathBuf, std::io::Result<Metadata>), Error> {
        let outside = || {
            Error::backend(format!(
                "secret {name} links outside {}",
                self.dir.display()
            ))
        };
        let mut resolved = self.dir.clone();
        let mut last: Option<std::io::Result<Metadata>> = None;
        let mut pending: Vec<PathBuf> = vec![PathBuf::from(name)];
        let mut links = 0;
        while let Some(rest) = pending.pop() {
            let mut components = rest.components();
            let Some(first) = components.next() else {
                continue;
            };
            let remainder: PathBuf = components.collect();
            if !remainder.as_os_str().is_empty() {
                pending.push(remainder);
            }
            match first {
                Component::RootDir | Component::Prefix(_) => {
                    resolved = PathBuf::from("/");
                    last = None;
                }
                Component::CurDir => {}
                Component::ParentDir => {
                    resolved.pop();
                    last = None;
                }
                Component::Normal(part) => {
                    let candidate = resolved.join(part);
                    match std::fs::symlink_metadata(&candidate) {
                        Ok(meta) if meta.file_type().is_symlink() => {
                            links += 1;
                            if links > MAX_LINKS {
                                return Err(Error::backend(format!(
                                    "secret {name}: too many links"
                                )));
                            }
                            let target = std::fs::read_link(&candidate).map_err(|e| {
                                // The WASI sandbox refuses to read a link
                                // whose target is absolute: it leads out.
                                if e.kind() == std::io::ErrorKind::PermissionDenied {
                                    outside()
                                } else {
                                    Error::backend(format!(
                                        "cannot read link for secret {name}: {e}"
                                    ))
                                }
                            })?;
                            pending.push(target);
                        }
                        other => {
                            resolved = candidate;
                            last = Some(other);
                        }
                    }
                }
            }
            if !resolved.starts_with(&self.dir) {
                return Err(outside());
            }
        }
        let meta = last.unwrap_or_else(|| std::fs::metadata(&resolved));
        Ok((resolved, meta))
    }
}

/// Whether `name` can be a secret: a plain file name, not hidden.
/// The bytes of the file at `path`, in as few calls as the platform allows
/// (`std::fs::read` asks for the size first, which under WASI is several
/// more system calls).
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn is_secret_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// `path` with `.` and `..` removed lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

// The component's exports exist only in the Wasm build; natively this crate
// is a library for its unit tests.
#[cfg(target_arch = "wasm32")]
pp_secrets_guest::export_provider!(DirProvider);

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn provider(dir: &Path) -> DirProvider {
        let config = Config::from([("dir".to_owned(), dir.display().to_string())]);
        DirProvider::setup(config).expect("setup")
    }

    fn sorted(mut names: Vec<String>) -> Vec<String> {
        names.sort();
        names
    }

    /// A Kubernetes secret volume: `..2024_...` holds the files, `..data`
    /// links to it, and each secret links into `..data`.
    fn kubernetes_volume() -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("tempdir");
        let stamp = root.path().join("..2026_11_28_12_00_00.000000001");
        std::fs::create_dir(&stamp).expect("mkdir");
        std::fs::write(stamp.join("username"), "admin").expect("write");
        std::fs::write(stamp.join("password"), "s3cret\n").expect("write");
        symlink(
            "..2026_11_28_12_00_00.000000001",
            root.path().join("..data"),
        )
        .expect("link");
        symlink("..data/username", root.path().join("username")).expect("link");
        symlink("..data/password", root.path().join("password")).expect("link");
        root
    }

    #[test]
    fn one_file_per_secret_with_its_exact_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("db_password"), "pw\n").expect("write");
        std::fs::write(dir.path().join("api_key"), r#"{"k": 1}"#).expect("write");
        let p = provider(dir.path());
        assert_eq!(p.get("db_password").as_deref(), Ok("pw\n"));
        assert_eq!(p.get("api_key").as_deref(), Ok(r#"{"k": 1}"#));
        assert_eq!(
            sorted(p.list(&Pattern::new("*").expect("glob")).expect("lists")),
            ["api_key", "db_password"]
        );
        assert_eq!(
            p.list(&Pattern::new("db_*").expect("glob")).expect("lists"),
            ["db_password"]
        );
    }

    #[test]
    fn kubernetes_layout_serves_the_linked_files_and_hides_its_own_entries() {
        let volume = kubernetes_volume();
        let p = provider(volume.path());
        assert_eq!(
            sorted(p.list(&Pattern::new("*").expect("glob")).expect("lists")),
            ["password", "username"]
        );
        assert_eq!(p.get("password").as_deref(), Ok("s3cret\n"));
        assert!(matches!(p.get("..data"), Err(Error::NotFound(_))));
    }

    #[test]
    fn links_outside_the_directory_are_refused() {
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("host-secret"), "nope").expect("write");
        let dir = tempfile::tempdir().expect("tempdir");
        symlink(
            outside.path().join("host-secret"),
            dir.path().join("absolute"),
        )
        .expect("link");
        let relative = format!(
            "../{}/host-secret",
            outside
                .path()
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
        );
        symlink(relative, dir.path().join("relative")).expect("link");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        symlink(outside.path(), dir.path().join("sub/escape")).expect("link");
        let p = provider(dir.path());
        for name in ["absolute", "relative"] {
            let e = p.get(name).expect_err("refused");
            assert!(e.to_string().contains("links outside"), "{name}: {e}");
        }
        assert!(
            p.list(&Pattern::new("*").expect("glob"))
                .expect("lists")
                .is_empty()
        );
    }

    #[test]
    fn missing_hidden_and_path_like_names_are_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".hidden"), "x").expect("write");
        std::fs::create_dir(dir.path().join("a_dir")).expect("mkdir");
        let p = provider(dir.path());
        for name in ["absent", ".hidden", "a_dir", "../etc/passwd", "a/b", ""] {
            assert!(matches!(p.get(name), Err(Error::NotFound(_))), "{name}");
        }
    }

    #[test]
    fn setup_needs_an_absolute_dir() {
        assert!(DirProvider::setup(Config::new()).is_err());
        let relative = Config::from([("dir".to_owned(), "run/secrets".to_owned())]);
        assert!(DirProvider::setup(relative).is_err());
    }

    #[test]
    fn non_utf8_content_is_a_backend_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bin"), [0xff, 0xfe]).expect("write");
        assert!(matches!(
            provider(dir.path()).get("bin"),
            Err(Error::Backend(_))
        ));
    }
}
