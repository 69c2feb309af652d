# Build: install the dependencies, then vite build into dist/.
FROM local/node-build:bookworm AS build
WORKDIR /app
# Trust the platform's extra CA bundle in this stage's downloads.
COPY berth-ca.crt /etc/ssl/berth-build-ca.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/berth-build-ca.crt \
    SSL_CERT_FILE=/etc/ssl/berth-build-ca.crt \
    PIP_CERT=/etc/ssl/berth-build-ca.crt \
    npm_config_cafile=/etc/ssl/berth-build-ca.crt
COPY package.json package-lock.json* ./
RUN if [ -f package-lock.json ]; then npm ci; else npm install; fi
COPY . .
# The built files get the time of the release's own (index.html's): it is
# their Last-Modified, and part of their ETag.
RUN npm run build && find dist -exec touch -h -r index.html {} +

# Run: nginx serves dist/; a path that is no file gets index.html, for
# the client-side router. Browsers ask for the HTML again on every load;
# Vite's files under /assets/, whose names change with their content,
# they keep for a year.
FROM local/nginx:bookworm
RUN printf '%s\n' \
      'server {' \
      '    listen 8080 default_server;' \
      '    root /usr/share/nginx/html;' \
      '    absolute_redirect off;' \
      '    add_header Cache-Control "no-cache";' \
      '    location / { try_files $uri $uri/ /index.html; }' \
      '    location /assets/ { add_header Cache-Control "public, max-age=31536000, immutable"; }' \
      '}' > /etc/nginx/conf.d/default.conf
COPY --from=build /app/dist/ /usr/share/nginx/html/
EXPOSE 8080
