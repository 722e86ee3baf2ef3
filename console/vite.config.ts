/// <reference types="vitest/config" />
import { defineConfig } from "vite";

declare const process: { env: Record<string, string | undefined> };

// Served by thaw at /console/ (src/api/static_files.h); the build output goes where CMake asks
// (THAW_CONSOLE_OUT_DIR: beside the thaw binary), else dist/.
export default defineConfig({
  base: "/console/",
  build: {
    outDir: process.env.THAW_CONSOLE_OUT_DIR || "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
    // Imported files (the Pareto plot) are copied into assets/, never inlined as data: URLs.
    assetsInlineLimit: 0,
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
