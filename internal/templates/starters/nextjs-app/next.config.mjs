/** @type {import('next').NextConfig} */
const nextConfig = {
  // The image runs .next/standalone/server.js: keep this.
  output: "standalone",
  poweredByHeader: false,
};

export default nextConfig;
