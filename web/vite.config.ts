import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Vitest 5 wants Node 22; on Debian's Node 20 only its failure report breaks (it calls
// Map.groupBy), which hides why a test failed. This config runs in that process.
if (!("groupBy" in Map)) {
  Object.assign(Map, {
    groupBy<K, V>(items: Iterable<V>, key: (item: V, index: number) => K): Map<K, V[]> {
      const groups = new Map<K, V[]>();
      let index = 0;
      for (const item of items) {
        const k = key(item, index++);
        groups.set(k, [...(groups.get(k) ?? []), item]);
      }
      return groups;
    },
  });
}

// Two pages: the app (index.html) and the widget's frame (widget.html). The loader
// /widget.js is a separate, dependency-free build (vite.widget.config.ts).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: {
      input: {
        app: resolve(import.meta.dirname, "index.html"),
        widget: resolve(import.meta.dirname, "widget.html"),
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
