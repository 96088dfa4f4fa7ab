// The same end point as the app's countdown (ui/src/lib/paint-mark.ts): a User Timing mark
// after the frame that shows the text.
requestAnimationFrame(() => setTimeout(() => performance.mark("page-painted"), 0));
