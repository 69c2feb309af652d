# Build: install the production dependencies.
FROM local/node-build:bookworm AS build
WORKDIR /app
# Trust the platform's extra CA bundle in this stage's downloads.
COPY berth-ca.crt /etc/ssl/berth-build-ca.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/berth-build-ca.crt \
    SSL_CERT_FILE=/etc/ssl/berth-build-ca.crt \
    PIP_CERT=/etc/ssl/berth-build-ca.crt \
    npm_config_cafile=/etc/ssl/berth-build-ca.crt
COPY package.json package-lock.json* ./
RUN if [ -f package-lock.json ]; then npm ci --omit=dev; else npm install --omit=dev; fi
COPY . .
RUN rm -f berth-ca.crt

# Run: the app on Node without npm.
FROM local/node:bookworm
WORKDIR /app
ENV NODE_ENV=production PORT=3000
COPY --from=build /app ./
EXPOSE 3000
CMD ["node", "server.js"]
