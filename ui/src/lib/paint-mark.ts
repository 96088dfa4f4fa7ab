// The moment something first reached the screen, as a User Timing mark the benchmarks read
// back through WebDriver (`performance.getEntriesByName`): start-up is measured to the
// countdown painted (src-tauri/scripts/bench-window.sh). A mark costs nothing and shows nothing.
//
// A requestAnimationFrame callback runs just before the frame is drawn; a task queued from it
// runs after that frame, so the mark falls after the paint, not before it.

export function markFirstPaint(name: string): void {
  if (typeof performance === "undefined" || typeof requestAnimationFrame !== "function") return;
  if (performance.getEntriesByName(name, "mark").length > 0) return;
  requestAnimationFrame(() =>
    setTimeout(() => {
      if (performance.getEntriesByName(name, "mark").length === 0) performance.mark(name);
    }, 0),
  );
}
