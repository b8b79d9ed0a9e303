// The ini provider: serves the secrets of one INI file (README.md beside
// this file), written in JavaScript with the SDK in guest-sdk/js. Build it
// from the repository root with
//
//   (cd guest-sdk/js && npm ci && npx pp-secrets-provider build \
//     ../../providers/ini/provider.js -o ../../target/components/ini_provider.wasm)

import { BackendError, ChangeSet, NotFound, Value } from 'pp-secrets-provider';
import { readFileWithStat, stat } from 'pp-secrets-provider/fs';

import { IniError, parseIni } from './ini.js';

/**
 * The largest file the provider reads: 4 MiB fits the default memory limit
 * (64 MiB; 8 MiB does not). Parsing takes the engine about 0.3-0.5 s a MiB,
 * so past about 1 MiB raise `limits.timeout_ms` too.
 */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * How long after a file's last change its size and times can be trusted to
 * tell a later change apart: file times are coarse (a clock tick, a second
 * on some file systems), so a file written twice within one tick can show
 * the same times twice. A file changed more recently is read again on every
 * call, and its values come without a version.
 */
const SETTLED_AFTER_NS = 2_000_000_000n;

/** The settings the provider takes. */
const SETTINGS = ['file'];

/**
 * The identity of a file's content: its size and modification and
 * status-change times. It changes whenever the file is written or replaced,
 * and tells nothing about the values in it.
 */
function identity(status) {
  const time = (ns) => (ns === null ? '-' : String(ns));
  return `${status.size}:${time(status.modifiedNs)}:${time(status.changedNs)}`;
}

/** Whether both times are known and at least SETTLED_AFTER_NS before now. */
function settled(status) {
  const cutoff = BigInt(Date.now()) * 1_000_000n - SETTLED_AFTER_NS;
  return status.modifiedNs !== null && status.changedNs !== null &&
    status.modifiedNs < cutoff && status.changedNs < cutoff;
}

/** Serves the secrets of the INI file `config.file`. */
export default class IniProvider {
  /** The file's absolute path. @type {string} */
  #file;
  /**
   * The file as last read: its identity, whether that identity could be
   * trusted (see SETTLED_AFTER_NS) and its secrets.
   * @type {{ identity: string, settled: boolean, entries: Map<string, string> }}
   */
  #read;

  /** Set-up: checks the config and reads the file, so a bad one fails here. */
  constructor(config) {
    for (const key of Object.keys(config)) {
      if (!SETTINGS.includes(key)) {
        throw new BackendError(
          `unknown setting ${JSON.stringify(key)}: the ini provider takes config: { file: PATH }`,
        );
      }
    }
    const file = config.file;
    if (file === undefined || file === '') {
      throw new BackendError(
        'the ini provider needs config: { file: PATH }, the absolute path of the INI file',
      );
    }
    if (!file.startsWith('/')) {
      throw new BackendError(`config file ${file} must be an absolute path`);
    }
    this.#file = file;
    this.#read = this.#readFile();
  }

  /** Reads and parses the file. */
  #readFile() {
    const { bytes, stat: status } = readFileWithStat(this.#file, { maxBytes: MAX_FILE_BYTES });
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new BackendError(`${this.#file} is not UTF-8 text`);
    }
    let entries;
    try {
      entries = parseIni(text);
    } catch (e) {
      if (e instanceof IniError) {
        throw new BackendError(`${this.#file}: ${e.message}`);
      }
      throw e;
    }
    return { identity: identity(status), settled: settled(status), entries };
  }

  /**
   * The file as it is now: one `stat`, and a read only when its identity
   * changed since the last read or could not be trusted then.
   */
  #current() {
    const now = identity(stat(this.#file));
    if (!this.#read.settled || this.#read.identity !== now) {
      this.#read = this.#readFile();
    }
    return this.#read;
  }

  /** The version of the values of `read`: its identity once settled. */
  static #version(read) {
    return read.settled ? read.identity : null;
  }

  get(name) {
    const read = this.#current();
    const value = read.entries.get(name);
    if (value === undefined) {
      throw new NotFound(name);
    }
    return Value.text(value, IniProvider.#version(read));
  }

  list(pattern) {
    return [...this.#current().entries.keys()].filter((name) => pattern.matches(name));
  }

  /** Lists and reads in one look at the file. */
  getMatching(pattern) {
    const read = this.#current();
    const version = IniProvider.#version(read);
    const matched = [];
    for (const [name, value] of read.entries) {
      if (pattern.matches(name)) {
        matched.push({ name, value: Value.text(value, version) });
      }
    }
    return matched;
  }

  /**
   * One `stat` of the file; when it is the settled file last read, the
   * answer comes from what was read (nothing changed for a name held with
   * that version), else the file is read once and compared.
   */
  changes(held, patterns) {
    const read = this.#current();
    const version = IniProvider.#version(read);
    const heldNames = new Set(held.map((h) => h.name));
    const current = [];
    for (const name of read.entries.keys()) {
      if (heldNames.has(name) || patterns.some((pattern) => pattern.matches(name))) {
        current.push([name, version]);
      }
    }
    return ChangeSet.compare(held, current);
  }
}
