import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";
import pkg from "./package.json" with { type: "json" };

// Built into dist/, which Flask serves at /app/ (server/technician_app.py).
export default defineConfig({
  base: "/app/",
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    // No inline scripts or styles: the CSP allows only our own files.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a local `make run`.
    proxy: { "/api": "http://127.0.0.1:5000" },
  },
  plugins: [
    VitePWA({
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      // Registered by src/main.tsx (scope /app/), not by an injected inline script.
      injectRegister: false,
      scope: "/app/",
      base: "/app/",
      manifestFilename: "manifest.webmanifest",
      injectManifest: {
        rollupFormat: "iife",
        globPatterns: ["**/*.{js,css,html,png,svg,webmanifest}"],
      },
      manifest: {
        id: "/app/",
        name: "Fieldwork — technician",
        short_name: "Fieldwork",
        description: "Your jobs for the day, online or offline.",
        lang: "en",
        start_url: "/app/",
        scope: "/app/",
        display: "standalone",
        orientation: "portrait",
        background_color: "#ffffff",
        theme_color: "#0b5cad",
        icons: [
          { src: "icons/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "icons/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
    }),
  ],
});
