import { defineConfig } from "vite";

// Built into the package (platform/wasmbed/dashboard, git-ignored) by ./run, so a wheel
// ships it; the API server serves it at /.
// `npm run dev` proxies the API to a local `wasmbed up` on :8080.
export default defineConfig({
  build: { outDir: "../wasmbed/dashboard", emptyOutDir: true, sourcemap: false },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8080", ws: true },
    },
  },
});
