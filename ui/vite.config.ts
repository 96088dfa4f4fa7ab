import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The app embeds ui/dist at compile time (no dev server): assets must be plain files the
// strict CSP allows ('self'), so nothing is inlined into index.html.
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  // Under Vitest, resolve Svelte to its browser build, as the app does (not the server build).
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    // Component tests: Testing Library mounts each component into jsdom, flushes Svelte after
    // every fired event and unmounts after each test.
    setupFiles: ["@testing-library/svelte/vitest", "./src/test/setup.ts"],
    // Every vi.fn() (the mocked api's commands among them) starts each test afresh, back to
    // its own default implementation.
    mockReset: true,
    // Above the component tests' 5 s deadline for what they wait for (src/test/api.ts), so a
    // wait that never ends fails with what it waited for, not as a timeout.
    testTimeout: 15_000,
  },
}));
