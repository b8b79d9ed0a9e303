// pp-secrets-provider: write pp-secrets providers in JavaScript.
//
// A provider is one class, default-exported by its module; the build
// command (`npx pp-secrets-provider build provider.js -o provider.wasm`)
// makes it a WebAssembly component of processpype:secrets@0.2.0
// (wit/provider.wit in this repository; the SDK's world is wit/world.wit).
// See README.md beside this package for the whole contract.

export { ProviderError, NotFound, BackendError, AccessDenied, toWitError } from './errors.js';
export { Pattern, PatternError, isGlob } from './pattern.js';
export { Value, toValue } from './value.js';
export { ChangeSet, toWitChanges } from './changes.js';
export { exportProvider } from './export.js';
