// Files in the directories a backend grants (`allow.dirs`), by absolute
// path, for providers built with this SDK. The component has no Node `fs`:
// this module reads through wasi:filesystem (the SDK's world imports it, see
// wit/world.wit), where each granted directory is a preopened descriptor at
// the same absolute path as on the host.
//
// Only for code built into a component: importing it under Node fails
// (there is no `wasi:filesystem` module there), so keep the logic a provider
// wants to unit-test natively in modules that do not import it.

import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';

import { BackendError } from './errors.js';

/** What a file read reads at most, unless told otherwise: 16 MiB. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** How much one read asks for. */
const CHUNK = 1024 * 1024;

/** Explicitly drops a WASI resource (descriptor) instead of waiting for GC. */
const DISPOSE = Symbol.dispose ?? Symbol.for('dispose');

/** What the WASI error codes mean, for messages. */
const MEANINGS = {
  access: 'permission denied',
  'no-entry': 'no such file or directory',
  'is-directory': 'is a directory',
  'not-directory': 'not a directory',
  loop: 'too many levels of symbolic links',
  'name-too-long': 'file name too long',
  'not-permitted': 'operation not permitted',
  'insufficient-memory': 'too many open files, or out of memory (limits.open_files, limits.memory_mb)',
  'would-block': 'would block',
  io: 'input/output error',
  invalid: 'invalid argument',
  'bad-descriptor': 'bad file descriptor',
  'not-granted': 'not in a directory the backend grants in allow.dirs',
  'not-a-file': 'not a regular file',
  'not-utf-8': 'not UTF-8 text',
  'too-large': 'larger than the provider reads',
};

/**
 * A file that could not be looked at or read: a {@link BackendError} whose
 * message names the path and the OS error (never any content), with the
 * WASI error code (`no-entry`, `access`, ...) in `code`. Two codes are this
 * module's own: `not-granted` (the path is in no granted directory),
 * `not-a-file` (a FIFO, a socket, a device), `not-utf-8` and `too-large`.
 */
export class FsError extends BackendError {
  /**
   * @param {string} action what was tried, e.g. `read`
   * @param {string} path the absolute path
   * @param {string} code the WASI error code
   * @param {string} [detail] more on the code, for the message
   */
  constructor(action, path, code, detail) {
    const meaning = detail ?? MEANINGS[code];
    super(`cannot ${action} ${path}: ${meaning ? `${code} (${meaning})` : code}`);
    this.name = 'FsError';
    /** The WASI error code. */
    this.code = code;
    /** The path. */
    this.path = path;
  }
}

/**
 * What {@link stat} finds.
 * @typedef {object} FileStat
 * @property {string} type `regular-file`, `directory`, `symbolic-link`, ...
 * @property {number} size in bytes
 * @property {bigint | null} modifiedNs last data modification, ns since the
 *   Unix epoch (`null` when unknown)
 * @property {bigint | null} changedNs last status change, ns since the Unix
 *   epoch (`null` when unknown; wasmtime gives the file's creation time here)
 */

/** The granted directories, as [descriptor, path parts]; got once. */
let preopens = null;

function granted() {
  if (preopens === null) {
    preopens = getDirectories().map(([descriptor, path]) => [descriptor, parts(path)]);
  }
  return preopens;
}

/** The non-empty, non-`.` parts of a path. */
function parts(path) {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * The granted directory holding the absolute `path` (the innermost when
 * grants nest) and the path relative to it.
 */
function locate(action, path) {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new TypeError(`${JSON.stringify(path)} is not an absolute path`);
  }
  const wanted = parts(path);
  let best = null;
  for (const [descriptor, dir] of granted()) {
    if (dir.length <= wanted.length && dir.every((part, i) => part === wanted[i])) {
      if (best === null || dir.length > best[1].length) {
        best = [descriptor, dir];
      }
    }
  }
  if (best === null) {
    throw new FsError(action, path, 'not-granted');
  }
  const rest = wanted.slice(best[1].length);
  return [best[0], rest.length === 0 ? '.' : rest.join('/')];
}

/** Runs a WASI call, turning its error code into an {@link FsError}. */
function wasi(action, path, call) {
  try {
    return call();
  } catch (e) {
    // The bindings throw an Error whose `payload` is the WASI error code.
    const code = e !== null && typeof e === 'object' && typeof e.payload === 'string'
      ? e.payload
      : 'io';
    throw new FsError(action, path, code);
  }
}

function nanos(timestamp) {
  if (timestamp === undefined || timestamp === null) {
    return null;
  }
  return BigInt(timestamp.seconds) * 1_000_000_000n + BigInt(timestamp.nanoseconds);
}

function fileStat(raw) {
  return {
    type: raw.type,
    size: Number(raw.size),
    modifiedNs: nanos(raw.dataModificationTimestamp),
    changedNs: nanos(raw.statusChangeTimestamp),
  };
}

/**
 * The status of the absolute `path`, following symbolic links (or not, with
 * `{ followSymlinks: false }`). One host call; nothing is opened.
 * @param {string} path
 * @param {{ followSymlinks?: boolean }} [options]
 * @returns {FileStat}
 */
export function stat(path, { followSymlinks = true } = {}) {
  const [dir, relative] = locate('stat', path);
  return fileStat(wasi('stat', path, () => dir.statAt({ symlinkFollow: followSymlinks }, relative)));
}

/**
 * The content of the regular file at the absolute `path`, with the status
 * of the file that was read (taken from the opened file, so the two always
 * belong together, even when the path is replaced meanwhile). A file over
 * `maxBytes` is an {@link FsError} with code `too-large`, and so is one
 * that grows past it while it is read.
 * @param {string} path
 * @param {{ maxBytes?: number }} [options]
 * @returns {{ bytes: Uint8Array, stat: FileStat }}
 */
export function readFileWithStat(path, { maxBytes = DEFAULT_MAX_BYTES } = {}) {
  const [dir, relative] = locate('read', path);
  const file = wasi('open', path, () =>
    dir.openAt({ symlinkFollow: true }, relative, {}, { read: true }),
  );
  try {
    const status = fileStat(wasi('stat', path, () => file.stat()));
    if (status.type === 'directory') {
      throw new FsError('read', path, 'is-directory');
    }
    if (status.type !== 'regular-file') {
      throw new FsError('read', path, 'not-a-file');
    }
    if (status.size > maxBytes) {
      throw new FsError('read', path, 'too-large', `over ${maxBytes} bytes, the most this reads`);
    }
    // Read into one buffer of the size the file has (and grow it if the
    // file grows meanwhile), so a file takes its size once, not twice.
    let bytes = new Uint8Array(status.size);
    let total = 0;
    for (;;) {
      const want = Math.max(Math.min(CHUNK, maxBytes + 1 - total), 1);
      const [chunk, end] = wasi('read', path, () => file.read(BigInt(want), BigInt(total)));
      if (total + chunk.length > maxBytes) {
        throw new FsError('read', path, 'too-large', `over ${maxBytes} bytes, the most this reads`);
      }
      if (total + chunk.length > bytes.length) {
        const grown = new Uint8Array(Math.min(Math.max(bytes.length * 2, total + chunk.length), maxBytes));
        grown.set(bytes.subarray(0, total));
        bytes = grown;
      }
      bytes.set(chunk, total);
      total += chunk.length;
      if (end || chunk.length === 0) {
        break;
      }
    }
    if (total < bytes.length) {
      bytes = bytes.slice(0, total);
    }
    return { bytes, stat: status };
  } finally {
    file[DISPOSE]();
  }
}

/**
 * The content of the regular file at the absolute `path` (see
 * {@link readFileWithStat}).
 * @param {string} path
 * @param {{ maxBytes?: number }} [options]
 * @returns {Uint8Array}
 */
export function readFile(path, options) {
  return readFileWithStat(path, options).bytes;
}

/**
 * The file at the absolute `path` as UTF-8 text; a file that is not UTF-8
 * is an {@link FsError} with code `not-utf-8`. A leading byte order mark is
 * dropped.
 * @param {string} path
 * @param {{ maxBytes?: number }} [options]
 * @returns {string}
 */
export function readTextFile(path, options) {
  const bytes = readFile(path, options);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FsError('read', path, 'not-utf-8');
  }
}
