package templates

const nginxDevConf = `daemon off;
pid /tmp/nginx.pid;
error_log stderr;
events {}
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile off;
  etag off;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  fastcgi_temp_path /tmp/nginx-fastcgi;
  uwsgi_temp_path /tmp/nginx-uwsgi;
  scgi_temp_path /tmp/nginx-scgi;
  server {
    listen 8080;
    root /workspace;
    index index.html;
    add_header Cache-Control no-store;
    location / { try_files $uri $uri/ $uri.html =404; }
  }
}
`

// npmDev installs what package.json lists, then runs the dev server; an
// install that fails (no registry) still lets the server say why.
const npmDev = "npm install --no-audit --no-fund; exec npm run dev"

// nextDockerfile builds a Next.js app in its standalone output mode and
// runs the standalone server on Node without npm.
const nextDockerfile = `# Build: install the dependencies, then next build (output: "standalone").
FROM {{image "node-build"}} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
{{- template "build-ca" .}}
{{- template "npm-install" ""}}
COPY . .
RUN mkdir -p public && npm run build
RUN test -f .next/standalone/server.js \
 || { echo 'no .next/standalone/server.js: next.config.mjs must set output: "standalone"' >&2; exit 1; }

# Run: the standalone server and its static files, on Node without npm.
FROM {{image "node"}}
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HOSTNAME=0.0.0.0 PORT={{.Port}}
COPY --from=build /app/public ./public
COPY --from=build /app/.next/standalone ./
COPY --from=build /app/.next/static ./.next/static
EXPOSE {{.Port}}
CMD ["node", "server.js"]
`

const nextDesign = "Next.js 15 with the App Router, React 19, plain JavaScript (JSX). " +
	"Pages live in app/ (app/page.js is /, app/about/page.js is /about); route handlers in " +
	"app/api/*/route.js. Keep next.config.mjs's output: \"standalone\": the image runs " +
	".next/standalone/server.js. Static files go in public/. Read configuration from " +
	"process.env on the server only; a value the browser needs must be named NEXT_PUBLIC_* " +
	"and is fixed at build time. Add a dependency with npm install NAME (it lands in " +
	"package.json); do not fetch fonts or data from the internet at build time. The app " +
	"runs on Node 18.18+ and listens on $PORT (3000)."

func builtin() []*Template {
	return []*Template{
		{
			ID:          "static-html",
			Name:        "Static HTML Site",
			Description: "Plain HTML, CSS and JavaScript served by nginx.",
			Runtime:     "nginx",
			Image:       "nginx",
			Dockerfile: `FROM {{.Image}}
COPY . /usr/share/nginx/html/
EXPOSE 8080
`,
			DevCommand:   "nginx -c /etc/nginx/sandbox-dev.conf",
			StartCommand: "nginx",
			Port:         8080,
			Env:          map[string]string{},
			Volumes:      []string{},
			HealthPath:   "/",
			Requires:     []string{"index.html"},
			Static:       true,
			DesignContext: "A static site: index.html at the root, with relative links to " +
				"CSS, JavaScript and images beside it. No build step and no server code; " +
				"every path is served as a file, and /about serves about.html.",
			SystemFiles: map[string]string{"/etc/nginx/sandbox-dev.conf": nginxDevConf},
		},
		{
			ID:          "express-api",
			Name:        "Express / Node API",
			Description: "A Node.js HTTP API listening on $PORT.",
			Runtime:     "node",
			Image:       "node-build",
			Dockerfile: `# Build: install the production dependencies.
FROM {{image "node-build"}} AS build
WORKDIR /app
{{- template "build-ca" .}}
{{- template "npm-install" " --omit=dev"}}
COPY . .
{{- template "drop-build-ca" .}}

# Run: the app on Node without npm.
FROM {{image "node"}}
WORKDIR /app
ENV NODE_ENV=production PORT={{.Port}}
COPY --from=build /app ./
EXPOSE {{.Port}}
CMD ["node", "server.js"]
`,
			DevCommand:   "npm install --no-audit --no-fund; exec node --watch server.js",
			BuildCommand: "npm install --omit=dev",
			StartCommand: "node server.js",
			Port:         3000,
			Env:          map[string]string{"PORT": "3000"},
			Volumes:      []string{},
			HealthPath:   "/health",
			Requires:     []string{"package.json", "server.js"},
			DesignContext: "A Node.js API: server.js listens on 0.0.0.0:$PORT and answers JSON. " +
				"Keep GET /health answering 200. The starter uses only Node's http module; " +
				"add Express with npm install express when routes grow. Read configuration " +
				"from environment variables; never hard-code secrets. The app runs on Node 18 " +
				"with production dependencies only: a package needed at run time belongs in " +
				"dependencies, not devDependencies.",
		},
		{
			ID:           "nextjs-app",
			Name:         "Next.js App",
			Description:  "A full Next.js application: pages, route handlers and server rendering.",
			Runtime:      "node",
			Image:        "node-build",
			Dockerfile:   nextDockerfile,
			DevCommand:   npmDev,
			BuildCommand: "npm run build",
			StartCommand: "node server.js",
			Port:         3000,
			Env:          map[string]string{"PORT": "3000", "NEXT_TELEMETRY_DISABLED": "1"},
			Volumes:      []string{},
			HealthPath:   "/api/health",
			Requires:     []string{"package.json"},
			Detect:       func(deps map[string]bool) bool { return deps["next"] },
			DesignContext: nextDesign + " Keep app/api/health/route.js answering 200: it is the " +
				"health check.",
		},
		{
			ID:           "nextjs-funnel",
			Name:         "Next.js Funnel / Landing Page",
			Description:  "A fast marketing page or funnel on Next.js: hero, proof, call to action, lead form.",
			Runtime:      "node",
			Image:        "node-build",
			Dockerfile:   nextDockerfile,
			DevCommand:   npmDev,
			BuildCommand: "npm run build",
			StartCommand: "node server.js",
			Port:         3000,
			Env:          map[string]string{"PORT": "3000", "NEXT_TELEMETRY_DISABLED": "1"},
			Volumes:      []string{},
			HealthPath:   "/",
			Requires:     []string{"package.json"},
			DesignContext: nextDesign + " A funnel is one page that converts: a headline that says " +
				"the outcome, proof (numbers, quotes, logos), one call to action repeated, and a " +
				"short lead form that posts to app/api/lead/route.js. Keep / statically rendered " +
				"(no per-request data) so it loads fast; it is also the health check. Style in " +
				"app/globals.css; mobile first.",
		},
		{
			ID:          "vite-react-spa",
			Name:        "Vite React SPA",
			Description: "A React single-page app built with Vite and served by nginx.",
			Runtime:     "nginx",
			Image:       "node-build",
			Dockerfile: `# Build: install the dependencies, then vite build into dist/.
FROM {{image "node-build"}} AS build
WORKDIR /app
{{- template "build-ca" .}}
{{- template "npm-install" ""}}
COPY . .
# The built files get the time of the release's own (index.html's): it is
# their Last-Modified, and part of their ETag.
RUN npm run build && find dist -exec touch -h -r index.html {} +

# Run: nginx serves dist/; a path that is no file gets index.html, for
# the client-side router. Browsers ask for the HTML again on every load;
# Vite's files under /assets/, whose names change with their content,
# they keep for a year.
FROM {{image "nginx"}}
RUN printf '%s\n' \
      'server {' \
      '    listen {{.Port}} default_server;' \
      '    root /usr/share/nginx/html;' \
      '    absolute_redirect off;' \
      '    add_header Cache-Control "no-cache";' \
      '    location / { try_files $uri $uri/ /index.html; }' \
      '    location /assets/ { add_header Cache-Control "public, max-age=31536000, immutable"; }' \
      '}' > /etc/nginx/conf.d/default.conf
COPY --from=build /app/dist/ /usr/share/nginx/html/
EXPOSE {{.Port}}
`,
			DevCommand:   npmDev,
			BuildCommand: "npm run build",
			StartCommand: "nginx",
			Port:         8080,
			Env:          map[string]string{},
			Volumes:      []string{},
			HealthPath:   "/",
			Requires:     []string{"package.json", "index.html"},
			Detect:       func(deps map[string]bool) bool { return deps["vite"] },
			DesignContext: "A React 19 single-page app built by Vite 6: index.html at the root loads " +
				"src/main.jsx, which renders src/App.jsx. Plain JavaScript with JSX. The build is " +
				"static files served by nginx, so there is no server code: call APIs over HTTP " +
				"from the browser, and name build-time settings VITE_* (import.meta.env.VITE_*; " +
				"they are public). Routing is client-side: every unknown path serves index.html. " +
				"Put assets that keep their name in public/. The dev server listens on 8080, as the " +
				"deployed site does. The starter has no React plugin (JSX goes through esbuild); " +
				"add @vitejs/plugin-react for Fast Refresh.",
		},
		{
			ID:          "fastapi-service",
			Name:        "FastAPI Service",
			Description: "A Python HTTP API on FastAPI and uvicorn.",
			Runtime:     "python",
			Image:       "python",
			Dockerfile: `FROM {{.Image}}
WORKDIR /app
{{- template "build-ca" .}}
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
{{- template "drop-build-ca" .}}
ENV PYTHONUNBUFFERED=1 PORT={{.Port}}
EXPOSE {{.Port}}
CMD ["sh", "-c", "exec uvicorn main:app --host 0.0.0.0 --port ${PORT:-{{.Port}}}"]
`,
			DevCommand:   "pip install -r requirements.txt; exec uvicorn main:app --reload --host 0.0.0.0 --port ${PORT:-8000}",
			BuildCommand: "pip install -r requirements.txt",
			StartCommand: "uvicorn main:app --host 0.0.0.0 --port ${PORT:-8000}",
			Port:         8000,
			Env:          map[string]string{"PORT": "8000"},
			Volumes:      []string{},
			HealthPath:   "/health",
			Requires:     []string{"requirements.txt", "main.py"},
			DesignContext: "A Python 3.11 API: main.py defines app = FastAPI(); uvicorn serves it " +
				"on $PORT (8000). Keep GET /health answering 200. Models are Pydantic (v1 API " +
				"here: .dict(), not .model_dump()). List every package in requirements.txt " +
				"with a lower bound (fastapi>=0.92), not an exact pin. Read configuration from " +
				"environment variables (os.environ); DATABASE_URL and REDIS_URL arrive there " +
				"when a data service is linked. Interactive API docs are served at /docs.",
		},
		{
			ID:          "compose-full-stack",
			Name:        "Compose Full-Stack App",
			Description: "Web, API and worker services with Postgres and Redis, from one compose file.",
			Runtime:     "compose",
			Image:       "node-build",
			ComposeFile: "compose.yaml",
			DevCommand:  "cd web && exec node --watch server.js",
			Port:        3000,
			Env:         map[string]string{"POSTGRES_DB": "app", "POSTGRES_USER": "app", "POSTGRES_PASSWORD": ""},
			Volumes:     []string{"db-data:/var/lib/postgresql/data", "redis-data:/data"},
			HealthPath:  "/",
			DesignContext: "Several services from compose.yaml at the root: web (the only service " +
				"users reach, on port 3000, routed at the app's URL), api (port 8000, reached by " +
				"web at http://api:8000), worker (jobs from the Redis list \"jobs\"), db " +
				"(Postgres, as db:5432) and redis (as redis:6379). Each of web/, api/ and worker/ " +
				"has its own Dockerfile. Services reach one another by service name; never " +
				"publish ports (no ports:), use expose:. Keep data in the named volumes. Not " +
				"allowed, and refused at publish: privileged, cap_add, devices, network_mode: " +
				"host, pid/ipc/uts/userns: host, the container engine's socket, bind mounts outside the " +
				"project, external volumes or networks.",
		},
	}
}
