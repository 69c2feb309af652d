package api

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
)

// The tests in this file hold the server to api/openapi.yaml: the routes,
// the JSON field names of every body, the required request fields, the
// Idempotency-Key header, authentication and the documented problem codes.

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

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

type node = map[string]any

type openAPI struct {
	root node
}

func loadSpec(t *testing.T) *openAPI {
	t.Helper()
	b, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatalf("reading the spec: %v", err)
	}
	var root node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatalf("parsing %s: %v", specFile, err)
	}
	if v, _ := root["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("openapi: %q, want 3.1.x", v)
	}
	return &openAPI{root: root}
}

func (s *openAPI) get(path ...string) node {
	n := s.root
	for _, p := range path {
		n, _ = n[p].(node)
	}
	return n
}

// deref follows $ref until it reaches the node it points at.
func (s *openAPI) deref(t *testing.T, n node) node {
	t.Helper()
	for range 10 {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		parts, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			t.Fatalf("$ref %q is not local", ref)
		}
		target := s.get(strings.Split(parts, "/")...)
		if target == nil {
			t.Fatalf("$ref %q points at nothing", ref)
		}
		n = target
	}
	t.Fatalf("$ref chain too long at %v", n)
	return nil
}

type operation struct {
	method, path string // "GET", "/sandboxes/{id}"
	item, op     node
}

func (o operation) String() string { return o.method + " " + o.path }

func (s *openAPI) operations() []operation {
	var ops []operation
	for path, v := range s.get("paths") {
		item, _ := v.(node)
		for _, m := range httpMethods {
			if op, ok := item[m].(node); ok {
				ops = append(ops, operation{method: strings.ToUpper(m), path: path, item: item, op: op})
			}
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.String(), b.String()) })
	return ops
}

// parameters are an operation's parameters, path-level ones included.
func (s *openAPI) parameters(t *testing.T, o operation) []node {
	var out []node
	for _, list := range []any{o.item["parameters"], o.op["parameters"]} {
		l, _ := list.([]any)
		for _, p := range l {
			pn, _ := p.(node)
			out = append(out, s.deref(t, pn))
		}
	}
	return out
}

// jsonBodySchema is the name of the schema of an operation's JSON request
// body, or "".
func (s *openAPI) jsonBodySchema(o operation) string {
	body, _ := o.op["requestBody"].(node)
	content, _ := body["content"].(node)
	media, _ := content["application/json"].(node)
	schema, _ := media["schema"].(node)
	ref, _ := schema["$ref"].(string)
	return strings.TrimPrefix(ref, "#/components/schemas/")
}

var wildcard = regexp.MustCompile(`\{(\w+)\.\.\.\}`)

// servedRoutes are the routes the server registers, as "METHOD /path"
// relative to /api/v1 with {name...} written {name}.
func servedRoutes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range New(nil, &control.Plane{}, nil).Patterns() {
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

func TestOpenAPIRoutes(t *testing.T) {
	spec := loadSpec(t)
	servers, _ := spec.root["servers"].([]any)
	if len(servers) == 0 {
		t.Fatal("the spec names no server")
	}
	for _, sv := range servers {
		u, _ := sv.(node)["url"].(string)
		if !strings.HasSuffix(u, apiPrefix) {
			t.Errorf("server URL %q does not end with %s, but the paths are relative to it", u, apiPrefix)
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
		for _, p := range spec.parameters(t, o) {
			if p["in"] != "path" {
				continue
			}
			got = append(got, p["name"].(string))
			if p["required"] != true {
				t.Errorf("%s: path parameter %v is not required", o, p["name"])
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
	if _, ok := spec.get("components", "securitySchemes", "bearerAuth")["scheme"]; !ok {
		t.Fatal("components.securitySchemes.bearerAuth is missing")
	}
	srv := New(nil, &control.Plane{}, nil)
	for _, o := range spec.operations() {
		sec, explicit := o.op["security"].([]any)
		public := explicit && len(sec) == 0
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
			if _, ok := o.op["responses"].(node)["401"]; !ok {
				t.Errorf("%s: the spec does not document its 401", o)
			}
		}
	}
}

// jsonFields returns the JSON names of a struct's fields and whether each
// is always present (no omitempty).
func jsonFields(t reflect.Type) (names []string, always map[string]bool, fields map[string]reflect.StructField) {
	always, fields = map[string]bool{}, map[string]reflect.StructField{}
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
		fields[name] = f
	}
	slices.Sort(names)
	return names, always, fields
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, s := range l {
		out = append(out, s.(string))
	}
	slices.Sort(out)
	return out
}

func keys(n node) []string {
	out := make([]string, 0, len(n))
	for k := range n {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// schemaTypes are the JSON types a schema allows besides null.
func schemaTypes(s node) []string {
	switch v := s["type"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if x != "null" {
				out = append(out, x.(string))
			}
		}
		return out
	}
	return nil
}

// checkType reports where the schema s does not describe values of Go
// type typ.
func checkType(t *testing.T, where string, typ reflect.Type, s node) {
	t.Helper()
	// A pointer is an optional value (omitted when nil): its schema is
	// the pointee's.
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if clientSchemas[name] != typ {
			t.Errorf("%s: $ref %s, but the Go type is %v", where, name, typ)
		}
		return
	}
	want := ""
	switch {
	case typ == reflect.TypeFor[time.Time]():
		want = "string"
		if s["format"] != "date-time" {
			t.Errorf("%s: a time.Time needs format: date-time", where)
		}
	case typ.Kind() == reflect.String:
		want = "string"
	case typ.Kind() == reflect.Bool:
		want = "boolean"
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		want = "integer"
	case typ.Kind() == reflect.Float32 || typ.Kind() == reflect.Float64:
		want = "number"
	case typ.Kind() == reflect.Slice:
		want = "array"
		items, _ := s["items"].(node)
		if items == nil {
			t.Errorf("%s: an array needs items", where)
		} else {
			checkType(t, where+"[]", typ.Elem(), items)
		}
	case typ.Kind() == reflect.Map:
		want = "object"
		ap, _ := s["additionalProperties"].(node)
		if ap == nil {
			t.Errorf("%s: a map needs additionalProperties", where)
		} else {
			checkType(t, where+"{}", typ.Elem(), ap)
		}
	case typ.Kind() == reflect.Struct:
		t.Errorf("%s: struct %v must be a $ref to its schema", where, typ)
		return
	default:
		t.Errorf("%s: no JSON type for Go type %v", where, typ)
		return
	}
	if got := schemaTypes(s); !slices.Equal(got, []string{want}) {
		t.Errorf("%s: type %v, want %s for Go type %v", where, got, want, typ)
	}
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

func TestOpenAPISchemas(t *testing.T) {
	spec := loadSpec(t)
	schemas := spec.get("components", "schemas")

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
	for name := range schemas {
		_, isClient := clientSchemas[name]
		_, isInline := inlineSchemas[name]
		if !isClient && !isInline {
			t.Errorf("schema %s is neither mapped to a client type nor listed in inlineSchemas", name)
		}
	}

	for name, typ := range clientSchemas {
		s, _ := schemas[name].(node)
		if s == nil {
			t.Errorf("schema %s (client.%v) is missing", name, typ)
			continue
		}
		props, _ := s["properties"].(node)
		fields, always, sf := jsonFields(typ)
		if got := keys(props); !slices.Equal(got, fields) {
			t.Errorf("schema %s has properties %v; client.%v has JSON fields %v", name, got, typ.Name(), fields)
			continue
		}
		for _, f := range fields {
			p, _ := props[f].(node)
			checkType(t, name+"."+f, sf[f].Type, p)
		}
		required := stringList(s["required"])
		if _, isRequest := requestRequired[name]; isRequest {
			if s["additionalProperties"] != false {
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
		if !slices.Equal(required, want) {
			t.Errorf("schema %s: required %v, want the fields without omitempty %v", name, required, want)
		}
	}
	for name, want := range inlineSchemas {
		s, _ := schemas[name].(node)
		props, _ := s["properties"].(node)
		if got := keys(props); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v, want %v", name, got, want)
		}
	}
}

// harness is the API over a real SQLite store, with the platform key.
type harness struct {
	t   *testing.T
	st  store.Store
	srv *Server
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
	return &harness{t: t, st: st, srv: New(st, control.New(control.Config{Store: st}), logtest.New(t)), key: secret}
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
	schemas := spec.get("components", "schemas")
	for name, want := range requestRequired {
		s, _ := schemas[name].(node)
		if got := stringList(s["required"]); !slices.Equal(got, want) {
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
		name := spec.jsonBodySchema(o)
		if name == "" {
			continue
		}
		checked[name] = true
		path := fill(o.path, map[string]string{"id": sb.ID})
		required := stringList(spec.deref(t, schemas[name].(node))["required"])
		full := map[string]any{}
		for _, f := range required {
			v, ok := valid[f]
			if !ok {
				t.Fatalf("%s: no valid value for required field %s: add one to the test", o, f)
			}
			full[f] = v
		}
		for _, f := range required {
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
func (s *openAPI) idempotencyParam(t *testing.T, o operation) bool {
	for _, p := range s.parameters(t, o) {
		if p["in"] == "header" && p["name"] == "Idempotency-Key" {
			return true
		}
	}
	return false
}

func TestOpenAPIIdempotency(t *testing.T) {
	spec := loadSpec(t)
	h := newHarness(t)
	// The wrapper refuses a key over 255 characters before the handler
	// runs, which tells which routes it wraps.
	long := http.Header{"Idempotency-Key": {strings.Repeat("k", 256)}}
	for _, o := range spec.operations() {
		if o.method != http.MethodPost {
			if spec.idempotencyParam(t, o) {
				t.Errorf("%s documents Idempotency-Key, which only POSTs take", o)
			}
			continue
		}
		documented := spec.idempotencyParam(t, o)
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
		for status, r := range o.op["responses"].(node) {
			if !strings.HasPrefix(status, "2") {
				continue
			}
			headers, _ := spec.deref(t, r.(node))["headers"].(node)
			if _, ok := headers["Idempotent-Replayed"]; !ok {
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
	raw, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	codes := sourceCodes(t)
	if len(codes) < 30 {
		t.Fatalf("found only %d problem codes in the source: is the scan broken? %v", len(codes), codes)
	}
	for _, c := range codes {
		if !bytes.Contains(raw, []byte("`"+c+"`")) {
			t.Errorf("problem code %s is not documented in %s", c, specFile)
		}
	}

	// Every error answer is a Problem, and every code an error answer
	// names exists.
	problemRef := "#/components/schemas/Problem"
	checkCodes := func(where string, r node) {
		d, _ := r["description"].(string)
		for _, m := range backticked.FindAllStringSubmatch(d, -1) {
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
		responses, _ := o.op["responses"].(node)
		if len(responses) == 0 {
			t.Errorf("%s documents no responses", o)
		}
		for status, r := range responses {
			if status < "400" {
				continue
			}
			where := o.String() + " " + status
			rn := r.(node)
			checkCodes(where, rn) // a description beside a $ref overrides the shared one
			resolved := spec.deref(t, rn)
			checkCodes(where, resolved)
			content, _ := resolved["content"].(node)
			media, _ := content["application/problem+json"].(node)
			schema, _ := media["schema"].(node)
			if schema["$ref"] != problemRef || len(content) != 1 {
				t.Errorf("%s: an error answer must be application/problem+json with the Problem schema", where)
			}
		}
	}
}

// zero is a value of the JSON type a property schema names.
func zero(s node) any {
	switch t := schemaTypes(s); {
	case s["$ref"] != nil || slices.Contains(t, "object"):
		return map[string]any{}
	case slices.Contains(t, "array"):
		return []any{}
	case slices.Contains(t, "integer"), slices.Contains(t, "number"):
		return 0
	case slices.Contains(t, "boolean"):
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
		name := spec.jsonBodySchema(o)
		if name == "" {
			continue
		}
		props, _ := spec.get("components", "schemas", name)["properties"].(node)
		body := map[string]any{}
		for f, p := range props {
			body[f] = zero(p.(node))
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
	var health node
	json.Unmarshal(rec.Body.Bytes(), &health)
	if got := keys(health); !slices.Equal(got, inlineSchemas["Health"]) {
		t.Errorf("GET /healthz answers fields %v, want %v", got, inlineSchemas["Health"])
	}
}

// TestOpenAPIRefs checks that every $ref of the spec points at something.
func TestOpenAPIRefs(t *testing.T) {
	spec := loadSpec(t)
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case node:
			if _, ok := v["$ref"].(string); ok {
				spec.deref(t, v)
			}
			for k, c := range v {
				walk(where+"/"+k, c)
			}
		case []any:
			for _, c := range v {
				walk(where, c)
			}
		}
	}
	walk("", spec.root)
}
