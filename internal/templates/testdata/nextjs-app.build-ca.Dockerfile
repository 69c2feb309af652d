# Build: install the dependencies, then next build (output: "standalone").
FROM local/node-build:bookworm AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
# Trust the platform's extra CA bundle in this stage's downloads.
COPY berth-ca.crt /etc/ssl/berth-build-ca.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/berth-build-ca.crt \
    SSL_CERT_FILE=/etc/ssl/berth-build-ca.crt \
    PIP_CERT=/etc/ssl/berth-build-ca.crt \
    npm_config_cafile=/etc/ssl/berth-build-ca.crt
COPY package.json package-lock.json* ./
RUN if [ -f package-lock.json ]; then npm ci; else npm install; fi
COPY . .
RUN mkdir -p public && npm run build
RUN test -f .next/standalone/server.js \
 || { echo 'no .next/standalone/server.js: next.config.mjs must set output: "standalone"' >&2; exit 1; }

# Run: the standalone server and its static files, on Node without npm.
FROM local/node:bookworm
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HOSTNAME=0.0.0.0 PORT=3000
COPY --from=build /app/public ./public
COPY --from=build /app/.next/standalone ./
COPY --from=build /app/.next/static ./.next/static
EXPOSE 3000
CMD ["node", "server.js"]
