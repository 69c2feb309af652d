package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
)

// The tests in this file hold the server to api/openapi.yaml. Every
// request the package's tests send through a harness, and every answer,
// is validated against it (libopenapi-validator, strict: a body field or
// header the spec does not name is an error too). Besides, the tests
// check the routes, that the client's types have the spec's fields, the
// required request fields, the Idempotency-Key header, authentication and
// the documented problem codes.
const specFile = "../../api/openapi.yaml"

// apiPrefix is where the API is mounted; the spec's server URL ends with
// it and its paths are relative to it.
const apiPrefix = "/api/v1"

// clientSchemas maps each schema of the spec that describes a type of
// package client to that type.
var clientSchemas = map[string]reflect.Type{
	"Org":              reflect.TypeFor[client.Org](),
	"Workspace":        reflect.TypeFor[client.Workspace](),
	"Project":          reflect.TypeFor[client.Project](),
	"Sandbox":          reflect.TypeFor[client.Sandbox](),
	"Process":          reflect.TypeFor[client.Process](),
	"Preview":          reflect.TypeFor[client.Preview](),
	"ExecResult":       reflect.TypeFor[client.ExecResult](),
	"FileEntry":        reflect.TypeFor[client.FileEntry](),
	"Release":          reflect.TypeFor[client.Release](),
	"Build":            reflect.TypeFor[client.Build](),
	"Provenance":       reflect.TypeFor[client.Provenance](),
	"FileDigest":       reflect.TypeFor[client.FileDigest](),
	"Deployment":       reflect.TypeFor[client.Deployment](),
	"HistoryEntry":     reflect.TypeFor[client.HistoryEntry](),
	"Event":            reflect.TypeFor[client.Event](),
	"Template":         reflect.TypeFor[client.Template](),
	"APIKey":           reflect.TypeFor[client.APIKey](),
	"Problem":          reflect.TypeFor[client.Problem](),
	"FieldError":       reflect.TypeFor[client.FieldError](),
	"OrgList":          reflect.TypeFor[client.List[client.Org]](),
	"WorkspaceList":    reflect.TypeFor[client.List[client.Workspace]](),
	"ProjectList":      reflect.TypeFor[client.List[client.Project]](),
	"SandboxList":      reflect.TypeFor[client.List[client.Sandbox]](),
	"ReleaseList":      reflect.TypeFor[client.List[client.Release]](),
	"DeploymentList":   reflect.TypeFor[client.List[client.Deployment]](),
	"EventList":        reflect.TypeFor[client.List[client.Event]](),
	"TemplateList":     reflect.TypeFor[client.List[client.Template]](),
	"CreateOrg":        reflect.TypeFor[client.CreateOrg](),
	"CreateWorkspace":  reflect.TypeFor[client.CreateWorkspace](),
	"CreateProject":    reflect.TypeFor[client.CreateProject](),
	"CreateSandbox":    reflect.TypeFor[client.CreateSandbox](),
	"Exec":             reflect.TypeFor[client.Exec](),
	"CreateDeployment": reflect.TypeFor[client.CreateDeployment](),
	"Rollback":         reflect.TypeFor[client.Rollback](),
	"CreateAPIKey":     reflect.TypeFor[client.CreateAPIKey](),
}

// inlineSchemas are the bodies the handlers build without a client type,
// with their JSON fields.
var inlineSchemas = map[string][]string{
	"Health":         {"ok"},                   // GET /healthz
	"PreviewRequest": {"port", "wait_seconds"}, // POST /sandboxes/{id}/preview
	"FileListing":    {"entries", "path"},      // GET /sandboxes/{id}/files/{path}
	"UploadResult":   {"files"},                // PUT /sandboxes/{id}/files
}

// requestRequired is what the handlers require of each request body.
var requestRequired = map[string][]string{
	"CreateOrg":        {"name"},
	"CreateWorkspace":  {"name", "org_id"},
	"CreateProject":    {"name", "workspace_id"},
	"CreateSandbox":    {"project_id", "template_id"},
	"CreateDeployment": {"project_id", "release_id"},
	"CreateAPIKey":     {"org_id", "role"},
	"Exec":             {"command"},
	"Rollback":         {},
	"PreviewRequest":   {"port"},
}

// missingCode is the problem code a handler answers when a required field
// is left out, when it is not "missing_<field>".
var missingCode = map[string]string{
	"CreateAPIKey.role":   "invalid_role",
	"PreviewRequest.port": "invalid_port",
}

// newServer is the API the tests run, over st. A nil st makes one for its
// routes and authentication only, which never reaches a store.
func newServer(t *testing.T, st store.Store) *Server {
	if st == nil {
		return New(nil, &control.Plane{}, nil)
	}
	return New(st, control.New(control.Config{Store: st}), logtest.New(t))
}

// openAPI is the spec: its text, its model and a validator of requests
// and answers against it.
type openAPI struct {
	raw       []byte
	model     *v3.Document
	validator validator.Validator
}

// parsedSpec parses the spec once for all the package's tests. Building
// the model resolves every $ref: one that points at nothing fails it.
var parsedSpec = sync.OnceValues(func() (*openAPI, error) {
	raw, err := os.ReadFile(specFile)
	if err != nil {
		return nil, fmt.Errorf("reading the spec: %w", err)
	}
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler)
	doc, err := libopenapi.NewDocumentWithConfiguration(raw, cfg)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", specFile, err)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("building the model of %s: %w", specFile, err)
	}
	// Strict: a body field or header the spec does not name is an error,
	// but for the keys of the maps (env, metadata, headers), which are
	// the caller's own.
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions(), config.WithStrictMode(),
		config.WithStrictIgnorePaths("$.**.env.*", "$.**.metadata.*", "$.**.headers.*"))
	if len(errs) > 0 {
		return nil, fmt.Errorf("making the validator of %s: %w", specFile, errors.Join(errs...))
	}
	return &openAPI{raw: raw, model: &m.Model, validator: v}, nil
})

func loadSpec(t *testing.T) *openAPI {
	t.Helper()
	s, err := parsedSpec()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.model.Version, "3.1") {
		t.Fatalf("openapi: %q, want 3.1.x", s.model.Version)
	}
	return s
}

// get is m[k], or the zero value when m is nil or has no k.
func get[V any](m *orderedmap.Map[string, V], k string) V {
	var zero V
	if m == nil {
		return zero
	}
	return m.GetOrZero(k)
}

// schema is the component schema name, or nil.
func (s *openAPI) schema(name string) *base.Schema {
	p := get(s.model.Components.Schemas, name)
	if p == nil {
		return nil
	}
	return p.Schema()
}

type operation struct {
	method, path string // "GET", "/sandboxes/{id}"
	item         *v3.PathItem
	op           *v3.Operation
}

func (o operation) String() string { return o.method + " " + o.path }

func (s *openAPI) operations() []operation {
	var ops []operation
	for path, item := range s.model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			ops = append(ops, operation{method: strings.ToUpper(method), path: path, item: item, op: op})
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.String(), b.String()) })
	return ops
}

// parameters are the operation's parameters, path-level ones included.
func (o operation) parameters() []*v3.Parameter {
	return slices.Concat(o.item.Parameters, o.op.Parameters)
}

// responses are the operation's answers by status.
func (o operation) responses() *orderedmap.Map[string, *v3.Response] {
	if o.op.Responses == nil {
		return nil
	}
	return o.op.Responses.Codes
}

// jsonBodySchema is the name of the schema of the operation's JSON
// request body, or "".
func (o operation) jsonBodySchema() string {
	if o.op.RequestBody == nil {
		return ""
	}
	media := get(o.op.RequestBody.Content, "application/json")
	if media == nil || media.Schema == nil {
		return ""
	}
	return strings.TrimPrefix(media.Schema.GetReference(), "#/components/schemas/")
}

var wildcard = regexp.MustCompile(`\{(\w+)\.\.\.\}`)

// servedRoutes are the routes the server registers, as "METHOD /path"
// relative to /api/v1 with {name...} written {name}.
func servedRoutes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range newServer(t, nil).Patterns() {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			t.Errorf("pattern %q has no method", p)
			continue
		}
		rel, ok := strings.CutPrefix(path, apiPrefix)
		if !ok {
			t.Errorf("pattern %q is not under %s", p, apiPrefix)
			continue
		}
		out = append(out, method+" "+wildcard.ReplaceAllString(rel, "{$1}"))
	}
	return out
}

// validated serves with next and holds each exchange to the spec: the
// answer must be one the spec documents for the operation and status, a
// request the spec refuses must be refused with a 4xx, and a path or
// method the spec does not have must be answered 404 or 405.
func validated(t *testing.T, next http.Handler) http.Handler {
	spec := loadSpec(t)
	rest := restOfPath(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatalf("reading the request's body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())

		where := r.Method + " " + r.URL.RequestURI()
		// again is the request as it was sent, its body unread, with the
		// slashes of a path parameter that spans the rest of the path
		// escaped: in the spec a parameter holds no slash.
		again := func() *http.Request {
			c := r.Clone(r.Context())
			c.Body = io.NopCloser(bytes.NewReader(body))
			if p := c.URL.EscapedPath(); rest != nil && rest.MatchString(p) {
				at := rest.FindStringSubmatchIndex(p)[2]
				c.URL.RawPath = p[:at] + strings.ReplaceAll(p[at:], "/", "%2F")
			}
			return c
		}
		_, reqErrs := spec.validator.ValidateHttpRequest(again())
		if slices.ContainsFunc(reqErrs, func(e *verrors.ValidationError) bool {
			return e.IsPathMissingError() || e.IsOperationMissingError()
		}) {
			if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s is not in the spec, but it answers %d", where, rec.Code)
			}
			return
		}
		// Strict mode's undeclared headers are allowed in a request: the
		// server ignores them.
		reqErrs = slices.DeleteFunc(reqErrs, func(e *verrors.ValidationError) bool {
			return e.ValidationType == verrors.StrictValidationType
		})
		if len(reqErrs) > 0 && (rec.Code < 400 || rec.Code >= 500) {
			t.Errorf("%s: the spec refuses the request, but it answers %d:%s", where, rec.Code, describe(reqErrs))
		}
		if _, errs := spec.validator.ValidateHttpResponse(again(), rec.Result()); len(errs) > 0 {
			t.Errorf("%s answers %d, which the spec does not describe:%s\n%s", where, rec.Code, describe(errs), rec.Body)
		}
	})
}

// restOfPath matches the request paths of the routes whose last segment
// is a wildcard ({path...}); its group is what the wildcard takes. It is
// nil when no route has one.
func restOfPath(t *testing.T) *regexp.Regexp {
	t.Helper()
	var alts []string
	for _, p := range newServer(t, nil).Patterns() {
		_, path, _ := strings.Cut(p, " ")
		prefix, ok := strings.CutSuffix(path, "...}")
		if !ok {
			continue
		}
		segs := strings.Split(prefix[:strings.LastIndex(prefix, "{")], "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") {
				segs[i] = `[^/]+`
			} else {
				segs[i] = regexp.QuoteMeta(seg)
			}
		}
		alts = append(alts, strings.Join(segs, "/"))
	}
	if len(alts) == 0 {
		return nil
	}
	return regexp.MustCompile(`^(?:` + strings.Join(alts, "|") + `)(.+)$`)
}

// describe lists validation errors, one a line.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n\t%s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n\t\t%s: %s", f.FieldPath, f.Reason)
		}
	}
	return b.String()
}

// TestOpenAPIDocument checks the spec against the OpenAPI 3.1 schema.
func TestOpenAPIDocument(t *testing.T) {
	spec := loadSpec(t)
	if ok, errs := spec.validator.ValidateDocument(); !ok {
		t.Errorf("%s is not a valid OpenAPI document:%s", specFile, describe(errs))
	}
}

func TestOpenAPIRoutes(t *testing.T) {
	spec := loadSpec(t)
	if len(spec.model.Servers) == 0 {
		t.Fatal("the spec names no server")
	}
	for _, sv := range spec.model.Servers {
		if !strings.HasSuffix(sv.URL, apiPrefix) {
			t.Errorf("server URL %q does not end with %s, but the paths are relative to it", sv.URL, apiPrefix)
		}
	}

	served := servedRoutes(t)
	var documented []string
	for _, o := range spec.operations() {
		documented = append(documented, o.String())
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not in %s", r, specFile)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in %s but not served", r, specFile)
		}
	}

	pathParam := regexp.MustCompile(`\{(\w+)\}`)
	for _, o := range spec.operations() {
		var want, got []string
		for _, m := range pathParam.FindAllStringSubmatch(o.path, -1) {
			want = append(want, m[1])
		}
		for _, p := range o.parameters() {
			if p.In != "path" {
				continue
			}
			got = append(got, p.Name)
			if p.Required == nil || !*p.Required {
				t.Errorf("%s: path parameter %s is not required", o, p.Name)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("%s: path parameters %v, want %v", o, got, want)
		}
	}
}

// fill turns a spec path into a request path with placeholder values.
func fill(path string, values map[string]string) string {
	return regexp.MustCompile(`\{(\w+)\}`).ReplaceAllStringFunc(path, func(m string) string {
		if v, ok := values[m[1:len(m)-1]]; ok {
			return v
		}
		return "x"
	})
}

func TestOpenAPIAuth(t *testing.T) {
	spec := loadSpec(t)
	if b := get(spec.model.Components.SecuritySchemes, "bearerAuth"); b == nil || b.Scheme == "" {
		t.Fatal("components.securitySchemes.bearerAuth is missing")
	}
	srv := validated(t, newServer(t, nil))
	for _, o := range spec.operations() {
		public := o.op.Security != nil && len(o.op.Security) == 0
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(o.method, apiPrefix+fill(o.path, map[string]string{"path": "a/b.txt"}), nil))
		switch {
		case public && rec.Code == http.StatusUnauthorized:
			t.Errorf("%s: the spec says no key is needed, but it answers 401", o)
		case !public && rec.Code != http.StatusUnauthorized:
			t.Errorf("%s without a key: %d, want 401 (or security: [] in the spec)", o, rec.Code)
		case !public:
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: 401 with Content-Type %q", o, ct)
			}
			if get(o.responses(), "401") == nil {
				t.Errorf("%s: the spec does not document its 401", o)
			}
		}
	}
}

// jsonFields returns the JSON names of a struct's fields and whether each
// is always present (no omitempty).
func jsonFields(t reflect.Type) (names []string, always map[string]bool) {
	always = map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		always[name] = !slices.Contains(strings.Split(opts, ","), "omitempty")
	}
	slices.Sort(names)
	return names, always
}

// properties are the names of a schema's properties, sorted.
func properties(s *base.Schema) []string {
	if s == nil || s.Properties == nil {
		return nil
	}
	return slices.Sorted(s.Properties.KeysFromOldest())
}

// required are the names of a schema's required properties, sorted.
func required(s *base.Schema) []string {
	if s == nil {
		return nil
	}
	return slices.Sorted(slices.Values(s.Required))
}

// clientTypeNames are the types declared in client/types.go.
func clientTypeNames(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../client/types.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parsing client/types.go: %v", err)
	}
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, s := range g.Specs {
			if ts := s.(*ast.TypeSpec); ts.Name.IsExported() {
				if _, ok := ts.Type.(*ast.StructType); ok {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	return names
}

// TestOpenAPISchemas checks that the client's types have the fields of
// their schemas; what values the fields hold is checked on the real
// answers, by the validation of every exchange.
func TestOpenAPISchemas(t *testing.T) {
	spec := loadSpec(t)

	// Every client type has a schema, and every schema is accounted for.
	described := map[string]bool{}
	for _, typ := range clientSchemas {
		name, _, _ := strings.Cut(typ.Name(), "[")
		described[name] = true
	}
	for _, name := range clientTypeNames(t) {
		if !described[name] {
			t.Errorf("client.%s has no schema: add one to %s and map it in clientSchemas", name, specFile)
		}
	}
	for name := range spec.model.Components.Schemas.KeysFromOldest() {
		_, isClient := clientSchemas[name]
		_, isInline := inlineSchemas[name]
		if !isClient && !isInline {
			t.Errorf("schema %s is neither mapped to a client type nor listed in inlineSchemas", name)
		}
	}

	for name, typ := range clientSchemas {
		s := spec.schema(name)
		if s == nil {
			t.Errorf("schema %s (client.%v) is missing", name, typ)
			continue
		}
		fields, always := jsonFields(typ)
		if got := properties(s); !slices.Equal(got, fields) {
			t.Errorf("schema %s has properties %v; client.%v has JSON fields %v", name, got, typ.Name(), fields)
			continue
		}
		if _, isRequest := requestRequired[name]; isRequest {
			if ap := s.AdditionalProperties; ap == nil || !ap.IsB() || ap.B {
				t.Errorf("request schema %s: the handlers refuse unknown fields, so set additionalProperties: false", name)
			}
			continue
		}
		// In an answer, a field without omitempty is always present.
		var want []string
		for _, f := range fields {
			if always[f] {
				want = append(want, f)
			}
		}
		if got := required(s); !slices.Equal(got, want) {
			t.Errorf("schema %s: required %v, want the fields without omitempty %v", name, got, want)
		}
	}
	for name, want := range inlineSchemas {
		if got := properties(spec.schema(name)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v, want %v", name, got, want)
		}
	}
}

// harness is the API over a real SQLite store, with the platform key.
type harness struct {
	t   *testing.T
	st  store.Store
	srv http.Handler // the API, each exchange validated against the spec
	key string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	secret := NewSecret()
	err = st.CreateAPIKey(context.Background(), &store.APIKey{ID: id.New(id.APIKey), Name: "platform", Hash: HashKey(secret),
		Prefix: secret[:12], Role: store.RoleAdmin, CreatedAt: time.Now().UTC()})
	if err != nil {
		t.Fatalf("creating the platform key: %v", err)
	}
	return &harness{t: t, st: st, srv: validated(t, newServer(t, st)), key: secret}
}

// do sends a request with the platform key and returns the status and the
// problem code, if any.
func (h *harness) do(method, path string, body any, header http.Header) (int, string, []byte) {
	h.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, apiPrefix+path, rd)
	req.Header.Set("Authorization", "Bearer "+h.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	var p client.Problem
	if rec.Code >= 400 {
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			h.t.Errorf("%s %s: %d with a body that is not a problem: %q", method, path, rec.Code, rec.Body)
		}
	}
	return rec.Code, p.Code, rec.Body.Bytes()
}

// create posts body and decodes the 201 answer's id.
func (h *harness) create(path string, body any) string {
	h.t.Helper()
	status, code, b := h.do(http.MethodPost, path, body, nil)
	if status != http.StatusCreated {
		h.t.Fatalf("POST %s: %d %s: %s", path, status, code, b)
	}
	var out struct{ ID string }
	json.Unmarshal(b, &out)
	return out.ID
}

func TestOpenAPIRequired(t *testing.T) {
	spec := loadSpec(t)
	for name, want := range requestRequired {
		if got := required(spec.schema(name)); !slices.Equal(got, want) {
			t.Errorf("schema %s: required %v, but the handlers require %v", name, got, want)
		}
	}

	h := newHarness(t)
	orgID := h.create("/orgs", client.CreateOrg{Name: "Acme"})
	wsID := h.create("/workspaces", client.CreateWorkspace{OrgID: orgID, Name: "Team"})
	prjID := h.create("/projects", client.CreateProject{WorkspaceID: wsID, Name: "Shop"})
	now := time.Now().UTC()
	sb := &store.Sandbox{ID: id.New(id.Sandbox), OrgID: orgID, WorkspaceID: wsID, ProjectID: prjID, Slug: "shop-sbx",
		TemplateID: "static-html", Ports: []int{8080}, Status: store.SandboxPending, Volume: "v", CreatedAt: now, UpdatedAt: now}
	if err := h.st.CreateSandbox(context.Background(), sb); err != nil {
		t.Fatalf("creating a sandbox row: %v", err)
	}
	// valid holds a value each required field accepts.
	valid := map[string]any{
		"name": "Thing", "org_id": orgID, "workspace_id": wsID, "project_id": prjID,
		"template_id": "static-html", "release_id": "rel_0000000000", "role": "viewer",
		"command": "true", "port": 8080, "hostname": "app.example.com",
		"key": "a.txt", "method": "GET", "expires_in": 60,
		"schedule": "*/5 * * * *", "deployment_id": "dep_0000000000", "target": map[string]any{"http": map[string]any{"path": "/"}},
	}
	// succeeds lists the bodies that, with only their required fields,
	// create something without a container runtime.
	succeeds := []string{"CreateOrg", "CreateWorkspace", "CreateProject", "CreateAPIKey"}

	checked := map[string]bool{}
	for _, o := range spec.operations() {
		name := o.jsonBodySchema()
		if name == "" {
			continue
		}
		checked[name] = true
		path := fill(o.path, map[string]string{"id": sb.ID})
		fields := required(spec.schema(name))
		full := map[string]any{}
		for _, f := range fields {
			v, ok := valid[f]
			if !ok {
				t.Fatalf("%s: no valid value for required field %s: add one to the test", o, f)
			}
			full[f] = v
		}
		for _, f := range fields {
			body := map[string]any{}
			for k, v := range full {
				if k != f {
					body[k] = v
				}
			}
			want := missingCode[name+"."+f]
			if want == "" {
				want = "missing_" + f
			}
			status, code, b := h.do(o.method, path, body, nil)
			if code != want {
				t.Errorf("%s without %s: %d %s, want code %s: %s", o, f, status, code, want, b)
			}
			if status < 400 || status >= 500 {
				t.Errorf("%s without %s: status %d, want a 4xx", o, f, status)
			}
		}
		if slices.Contains(succeeds, name) {
			if status, code, b := h.do(o.method, path, full, nil); status != http.StatusCreated {
				t.Errorf("%s with only its required fields: %d %s, want 201: %s", o, status, code, b)
			}
		}
	}
	for name := range requestRequired {
		if !checked[name] {
			t.Errorf("no operation takes a %s body", name)
		}
	}
}

// idempotencyParam reports whether an operation documents Idempotency-Key.
func (o operation) idempotencyParam() bool {
	return slices.ContainsFunc(o.parameters(), func(p *v3.Parameter) bool {
		return p.In == "header" && p.Name == "Idempotency-Key"
	})
}

func TestOpenAPIIdempotency(t *testing.T) {
	spec := loadSpec(t)
	h := newHarness(t)
	// The wrapper refuses a key over 255 characters before the handler
	// runs, which tells which routes it wraps.
	long := http.Header{"Idempotency-Key": {strings.Repeat("k", 256)}}
	for _, o := range spec.operations() {
		if o.method != http.MethodPost {
			if o.idempotencyParam() {
				t.Errorf("%s documents Idempotency-Key, which only POSTs take", o)
			}
			continue
		}
		documented := o.idempotencyParam()
		_, code, _ := h.do(o.method, fill(o.path, nil), nil, long)
		served := code == "invalid_idempotency_key"
		switch {
		case served && !documented:
			t.Errorf("%s takes Idempotency-Key, but the spec does not say so", o)
		case !served && documented:
			t.Errorf("%s documents Idempotency-Key, but the server ignores it (answered %s)", o, code)
		}
		if !documented {
			continue
		}
		for status, r := range o.responses().FromOldest() {
			if !strings.HasPrefix(status, "2") {
				continue
			}
			if get(r.Headers, "Idempotent-Replayed") == nil {
				t.Errorf("%s: response %s does not document the Idempotent-Replayed header", o, status)
			}
		}
	}

	// A replay answers the recorded body.
	hdr := http.Header{"Idempotency-Key": {"once"}}
	s1, _, b1 := h.do(http.MethodPost, "/orgs", client.CreateOrg{Name: "Replay"}, hdr)
	s2, _, b2 := h.do(http.MethodPost, "/orgs", client.CreateOrg{Name: "Replay"}, hdr)
	if s1 != http.StatusCreated || s2 != s1 || !bytes.Equal(b1, b2) {
		t.Errorf("replayed POST /orgs: %d %s then %d %s, want the same 201 twice", s1, b1, s2, b2)
	}
}

var (
	problemCall  = regexp.MustCompile(`problem\.(?:New|BadRequest|NotFound|Conflict|Unprocessable)\(\s*(?:[^,()"]+,\s*)?"([a-z0-9_]+)"`)
	requireCall  = regexp.MustCompile(`requireField\("([a-z0-9_]+)"`)
	atoiCall     = regexp.MustCompile(`atoiParam\(r, "([a-z0-9_]+)"\)`)
	internalCode = regexp.MustCompile(`Code:\s*"([a-z0-9_]+)"`)
	artifactCode = regexp.MustCompile(`Code\w+\s*=\s*"([a-z0-9_]+)"`)
	backticked   = regexp.MustCompile("`([a-z0-9_*]+)`")
)

// sourceCodes are the problem codes the API can answer, found in the
// source of the packages that make them.
func sourceCodes(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{}
	scan := func(dir string, fn func(src string)) {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fn(string(b))
		}
	}
	add := func(re *regexp.Regexp, prefix string) func(string) {
		return func(src string) {
			for _, m := range re.FindAllStringSubmatch(src, -1) {
				// "missing_"+name is found through requireField.
				if !strings.HasSuffix(m[1], "_") {
					set[prefix+m[1]] = true
				}
			}
		}
	}
	dirs, err := filepath.Glob("../control/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range append([]string{"."}, dirs...) {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		scan(dir, add(problemCall, ""))
		scan(dir, add(requireCall, "missing_"))
		scan(dir, add(atoiCall, "invalid_"))
	}
	scan("../problem", add(internalCode, ""))
	scan("../artifact", add(artifactCode, ""))
	return slices.Sorted(func(yield func(string) bool) {
		for c := range set {
			if !yield(c) {
				return
			}
		}
	})
}

func TestOpenAPIProblemCodes(t *testing.T) {
	spec := loadSpec(t)
	codes := sourceCodes(t)
	if len(codes) < 30 {
		t.Fatalf("found only %d problem codes in the source: is the scan broken? %v", len(codes), codes)
	}
	for _, c := range codes {
		if !bytes.Contains(spec.raw, []byte("`"+c+"`")) {
			t.Errorf("problem code %s is not documented in %s", c, specFile)
		}
	}

	// Every error answer is a Problem, and every code an error answer
	// names exists.
	checkCodes := func(where, description string) {
		for _, m := range backticked.FindAllStringSubmatch(description, -1) {
			c := m[1]
			known := slices.Contains(codes, c)
			if prefix, ok := strings.CutSuffix(c, "*"); ok {
				known = slices.ContainsFunc(codes, func(s string) bool { return strings.HasPrefix(s, prefix) })
			}
			if !known {
				t.Errorf("%s names code %q, which the server never answers", where, c)
			}
		}
	}
	for _, o := range spec.operations() {
		if o.responses().Len() == 0 {
			t.Errorf("%s documents no responses", o)
		}
		for status, r := range o.responses().FromOldest() {
			if status < "400" {
				continue
			}
			where := o.String() + " " + status
			// A description beside a $ref overrides the shared one.
			checkCodes(where, refDescription(r))
			checkCodes(where, r.Description)
			media := get(r.Content, "application/problem+json")
			if media == nil || media.Schema.GetReference() != "#/components/schemas/Problem" || r.Content.Len() != 1 {
				t.Errorf("%s: an error answer must be application/problem+json with the Problem schema", where)
			}
		}
	}
}

// refDescription is the description written beside the $ref of a
// response, or "".
func refDescription(r *v3.Response) string {
	n := r.GoLow().GetReferenceNode()
	if n == nil {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "description" {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// zero is a value of the JSON type a property schema names.
func zero(p *base.SchemaProxy) any {
	s := p.Schema()
	switch {
	case p.IsReference() || slices.Contains(s.Type, "object"):
		return map[string]any{}
	case slices.Contains(s.Type, "array"):
		return []any{}
	case slices.Contains(s.Type, "integer"), slices.Contains(s.Type, "number"):
		return 0
	case slices.Contains(s.Type, "boolean"):
		return false
	}
	return ""
}

// TestOpenAPIRequestFields checks that the handlers take every field the
// spec documents, including those of bodies without a client type, and
// refuse others.
func TestOpenAPIRequestFields(t *testing.T) {
	spec := loadSpec(t)
	h := newHarness(t)
	for _, o := range spec.operations() {
		name := o.jsonBodySchema()
		if name == "" {
			continue
		}
		body := map[string]any{}
		for f, p := range spec.schema(name).Properties.FromOldest() {
			body[f] = zero(p)
		}
		path := fill(o.path, nil)
		if status, code, b := h.do(o.method, path, body, nil); code == "unknown_field" || code == "invalid_json" {
			t.Errorf("%s refuses the documented fields of %s: %d %s: %s", o, name, status, code, b)
		}
		body["not_a_field"] = ""
		if status, code, _ := h.do(o.method, path, body, nil); code != "unknown_field" {
			t.Errorf("%s with an unknown field: %d %q, want unknown_field", o, status, code)
		}
	}

	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, apiPrefix+"/healthz", nil))
	var health map[string]any
	json.Unmarshal(rec.Body.Bytes(), &health)
	if got := slices.Sorted(maps.Keys(health)); !slices.Equal(got, inlineSchemas["Health"]) {
		t.Errorf("GET /healthz answers fields %v, want %v", got, inlineSchemas["Health"])
	}
}
