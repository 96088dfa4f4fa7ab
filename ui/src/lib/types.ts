// The shapes the Rust side sends, generated from the Rust types (ipc.gen.ts, checked by
// `cargo test --test ipc_types`): never written by hand here. Tokens never appear in them,
// except as the return value of the explicit reveal command: fingerprints do.
export type * from "./ipc.gen";
