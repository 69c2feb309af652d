import { defineConfig } from "vite";

// JSX goes through esbuild with React's automatic runtime. For Fast
// Refresh, npm install -D @vitejs/plugin-react and add it to plugins.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  server: { host: "0.0.0.0", port: 8080, strictPort: true, allowedHosts: true },
});
