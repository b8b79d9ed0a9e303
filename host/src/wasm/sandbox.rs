//! The sandbox of one guest instance: what the guest can reach, built
//! from the backend's grants.
//!
//! Nothing is reachable unless granted. The guest sees:
//! - environment variables named in `allow.env` (with the host's values,
//!   read when the instance is created; unset ones stay unset);
//! - directories named in `allow.dirs`, read-only, each at the same
//!   absolute path as on the host (read on the calling thread when every
//!   grant is local, through tokio's blocking pool when one could stall:
//!   `stalling_filesystems`);
//! - HTTP requests (wasi:http) to the hosts in `allow.hosts` only
//!   (`http_grants`), over TLS as the `tls` settings say (`tls`); no raw
//!   network: TCP, UDP and name lookup are off;
//! - a provider: no stdin, no arguments; stdout and stderr go to the host
//!   log. An app: its arguments, and stdio as its policy says;
//! - clocks and random numbers (harmless, and needed by ordinary code).

use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use std::os::fd::AsRawFd;

use crate::config::{Grants, Limits, open_granted_dir};
use crate::wasm::component_loading::HostLinker;
use crate::wasm::guest_files::{self, GuestFiles, OpenFiles};
use crate::wasm::guest_http_memory;
use crate::wasm::guest_listings;
use crate::wasm::guest_log::GuestLog;
use crate::wasm::host_error::HostError;
use crate::wasm::http_grants::{CallProblems, HttpGrants};
use crate::wasm::limits::{HostCharge, InstanceLimits, MemoryBudget};
use crate::wasm::stalling_filesystems::any_could_stall;
use crate::wasm::tls::TlsClient;
use crate::wasm::warning_limit::WarningLimit;

/// What a store holds for one guest instance.
pub(crate) struct GuestState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    http_grants: HttpGrants,
    table: ResourceTable,
    files: OpenFiles,
    /// The resource table's share of the memory budget, reserved whole.
    _handles: HostCharge,
    /// The instance's memory limit.
    pub(crate) memory: MemoryBudget,
    /// The instance's stdout and stderr, when they go to the log.
    pub(crate) log: GuestLog,
}

/// Where a guest's stdio goes.
pub(crate) enum GuestStdio {
    /// No stdin; stdout and stderr to the host log (providers).
    Log,
    /// The host process's stdin, stdout and stderr.
    Inherit,
    /// No stdin; stdout and stderr into these buffers.
    Capture {
        stdout: MemoryOutputPipe,
        stderr: MemoryOutputPipe,
    },
}

/// The imports every provider is linked against: WASI and wasi:http, whose
/// every call consults the instance's [`WasiCtx`] and [`HttpGrants`] (and
/// so its grants). Built once per process, for the shared engine.
pub(crate) static PROVIDER_LINKER: HostLinker<GuestState> = HostLinker::new(add_wasi::<GuestState>);

/// Adds WASI (with the host's own `open-at`, `guest_files`) and wasi:http
/// to `linker`, for a store whose data is a guest.
pub(crate) fn add_wasi<T: GuestFiles + WasiHttpView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), HostError> {
    let link = |what: &'static str| move |source| HostError::Link { what, source };
    wasmtime_wasi::p2::add_to_linker_async(linker).map_err(link("WASI"))?;
    guest_files::replace_open_at(linker).map_err(link("the host's open-at"))?;
    guest_listings::replace_read_directory(linker).map_err(link("the host's read-directory"))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker).map_err(link("wasi:http"))?;
    guest_http_memory::charge_http_objects(linker).map_err(link("the host's HTTP objects"))
}

impl WasiHttpView for GuestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_grants,
        }
    }
}

impl GuestFiles for GuestState {
    fn open_files(&self) -> &OpenFiles {
        &self.files
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// What a guest instance's state is made from, owned, so that it can be
/// made on tokio's blocking pool ([`GuestState::build`]).
pub(crate) struct GuestSpec {
    /// The backend's or the app's name.
    pub(crate) name: Arc<str>,
    /// What the guest may reach.
    pub(crate) grants: Grants,
    /// How HTTPS connections are made.
    pub(crate) tls: TlsClient,
    /// Where denials are counted.
    pub(crate) warnings: Arc<WarningLimit>,
    /// The per-instance limits.
    pub(crate) limits: InstanceLimits,
    /// The guest's arguments.
    pub(crate) args: Vec<String>,
    /// Where its stdio goes.
    pub(crate) stdio: GuestStdio,
}

impl GuestState {
    /// The state of a fresh instance as `spec` describes it. Granted
    /// directories are opened and checked on tokio's blocking pool, where
    /// one on a filesystem that stopped answering holds a pool thread and
    /// not the caller, whose timeout then ends the call.
    pub(crate) async fn build(spec: GuestSpec) -> Result<Self, HostError> {
        if spec.grants.dirs.is_empty() {
            return Self::new(spec);
        }
        tokio::task::spawn_blocking(move || Self::new(spec))
            .await
            .map_err(HostError::Setup)?
    }

    /// Whether a granted directory could stall (its filesystem calls run
    /// on tokio's blocking pool; its files are closed there too).
    pub(crate) fn files_could_stall(&self) -> bool {
        !self.files.inline()
    }

    /// The host's accounts of this instance's failed requests.
    pub(crate) fn call_problems(&self) -> &CallProblems {
        self.http_grants.call_problems()
    }

    /// The state of a fresh instance as `spec` describes it, made here.
    /// Fails when a granted directory cannot be opened.
    fn new(spec: GuestSpec) -> Result<Self, HostError> {
        let GuestSpec {
            name,
            grants,
            tls,
            warnings,
            limits,
            args,
            stdio,
        } = spec;
        let log = GuestLog::new(Arc::clone(&name));
        // Each grant opened once and checked (again; it was checked when
        // the grant was made) on the directory itself, which is then what
        // the guest is given (through its /proc/self/fd link): the path
        // cannot be swapped for another between the check and the grant.
        let granted = grants
            .dirs
            .iter()
            .map(|dir| {
                open_granted_dir(dir)
                    .map(|opened| (dir, opened))
                    .map_err(|problem| HostError::Grant {
                        dir: dir.clone(),
                        problem,
                    })
            })
            .collect::<Result<Vec<_>, HostError>>()?;
        // Filesystem calls run on the calling thread, unless a grant could
        // stall (`stalling_filesystems`); `guest_files` makes sure none can
        // block on a FIFO or device. Set before the preopens, which copy it.
        let inline = !any_could_stall(granted.iter().map(|(_, opened)| opened));
        let mut wasi = WasiCtx::builder();
        wasi.allow_blocking_current_thread(inline);
        match stdio {
            GuestStdio::Log => {
                wasi.stdout(log.stdout()).stderr(log.stderr());
            }
            GuestStdio::Inherit => {
                wasi.inherit_stdio();
            }
            GuestStdio::Capture { stdout, stderr } => {
                wasi.stdout(stdout).stderr(stderr);
            }
        }
        wasi.args(&args)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for name in &grants.env {
            if let Some(value) = std::env::var_os(name).and_then(|v| v.into_string().ok()) {
                wasi.env(name, value);
            }
        }
        for (dir, opened) in &granted {
            let host_path = format!("/proc/self/fd/{}", opened.as_raw_fd());
            let Some(guest_path) = dir.to_str() else {
                return Err(HostError::GrantNotUtf8 {
                    dir: dir.to_path_buf(),
                });
            };
            wasi.preopened_dir(&host_path, guest_path, FsPerms::ReadOnly)
                .map_err(|source| HostError::OpenGrant {
                    dir: dir.to_path_buf(),
                    source,
                })?;
        }
        let memory = MemoryBudget::new(limits.memory_mb);
        let handles = memory
            .host()
            .charge(Limits::handle_table_bytes(limits.handles))
            .ok_or(HostError::TableTooLarge {
                handles: limits.handles,
                table_kib: Limits::handle_table_bytes(limits.handles).div_ceil(1024),
                memory_mb: limits.memory_mb,
            })?;
        let files = OpenFiles::new(limits.open_files, inline, memory.host());
        Ok(Self {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            http_grants: HttpGrants::new(name, &grants.hosts, tls, warnings, files.clone()),
            table: capped_table(limits.handles),
            files,
            _handles: handles,
            memory,
            log,
        })
    }
}

/// A resource table that holds at most `handles` entries; a host call that
/// would add one more fails (and with it the guest's call).
fn capped_table(handles: usize) -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(handles);
    table
}
