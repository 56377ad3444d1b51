// The backend names an experiment may ask for, apart from backend.ts so the config schema (and
// `dtemu validate`) does not load tfjs.
export type BackendChoice = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'];
