// Keyboard shortcuts of the window.

/** Ctrl+R (⌘R on macOS) refreshes the session, not the page. */
export function isRefreshShortcut(event: Pick<KeyboardEvent, "ctrlKey" | "metaKey" | "key">): boolean {
  return (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "r";
}
