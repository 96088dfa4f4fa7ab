// jsdom lays nothing out, so it has no ResizeObserver; Svelte's `bind:clientHeight` (the log's
// virtual list) needs one. This one never reports a size: the list then uses its fallback
// height, as on the first paint in the app.
class NoLayoutResizeObserver implements ResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}

globalThis.ResizeObserver ??= NoLayoutResizeObserver;
