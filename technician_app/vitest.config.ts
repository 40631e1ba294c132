import { defineConfig } from "vitest/config";

// Unit tests of the app's own rules and storage: Node with fake-indexeddb, no browser.
export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify("test") },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    setupFiles: ["fake-indexeddb/auto"],
  },
});
