// The WIT the SDK builds against: its copy of processpype:secrets@0.2.0 is
// the repository's, and the WASI packages the world imports come from the
// pinned jco, at the version the world names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PACKAGE_DIR, WASI_VERSION, WORLD, writeWit } from '../src/build.js';

const REPOSITORY_WIT = join(PACKAGE_DIR, '..', '..', 'wit');
const COPY = join(PACKAGE_DIR, 'wit', 'deps', 'processpype-secrets');

test("the SDK's copy of the provider WIT is the repository's", (t) => {
  if (!existsSync(join(REPOSITORY_WIT, 'provider.wit'))) {
    // Outside the repository (an installed copy of the package) there is
    // nothing to compare with; in it, the file must be there.
    assert.notEqual(process.env.CI, 'true', `${REPOSITORY_WIT} is missing`);
    t.skip(`not in the pp-secrets repository: ${REPOSITORY_WIT} is missing`);
    return;
  }
  const copied = readdirSync(COPY).filter((file) => file.endsWith('.wit')).sort();
  assert.deepEqual(copied, ['provider.wit', 'types.wit']);
  for (const file of copied) {
    assert.equal(
      readFileSync(join(COPY, file), 'utf8'),
      readFileSync(join(REPOSITORY_WIT, file), 'utf8'),
      `guest-sdk/js/wit/deps/processpype-secrets/${file} differs from wit/${file}: copy it again`,
    );
  }
});

test('the world exports the provider and imports wasi:filesystem at the version built with', () => {
  const world = readFileSync(join(PACKAGE_DIR, 'wit', 'world.wit'), 'utf8');
  assert.match(world, new RegExp(`world ${WORLD} \\{`));
  assert.match(world, /export processpype:secrets\/provider@0\.2\.0;/);
  const versions = [...world.matchAll(/import wasi:[a-z-]+\/[a-z-]+@([0-9.]+);/g)].map((m) => m[1]);
  assert.deepEqual(versions, [WASI_VERSION, WASI_VERSION]);
  const fs = readFileSync(join(PACKAGE_DIR, 'src', 'fs.js'), 'utf8');
  assert.ok(fs.includes(`'wasi:filesystem/preopens@${WASI_VERSION}'`), 'src/fs.js imports the same version');
});

test('the whole WIT is put together from the package and the pinned jco', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-secrets-provider-wit-'));
  try {
    await writeWit(dir);
    for (const name of ['wasi-io', 'wasi-clocks', 'wasi-filesystem']) {
      const text = readFileSync(join(dir, 'deps', name, 'package.wit'), 'utf8');
      const pkg = name.replace('-', ':');
      assert.ok(text.includes(`package ${pkg}@${WASI_VERSION}`), `${name} is ${pkg}@${WASI_VERSION}`);
    }
    assert.ok(existsSync(join(dir, 'world.wit')));
    assert.ok(existsSync(join(dir, 'deps', 'processpype-secrets', 'provider.wit')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
