import { resolve } from "node:path";
import { defineConfig } from "vite";

// /widget.js: the few lines a customer's site runs. It only draws the frame
// (/widget.html, served by Raasel) and resizes it; the chat lives inside the frame.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: false,
    lib: {
      entry: resolve(import.meta.dirname, "src/widget/loader.ts"),
      formats: ["iife"],
      name: "RaaselWidget",
      fileName: () => "widget.js",
    },
  },
});
