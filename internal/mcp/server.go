// Package mcp is Berth's MCP server: the tools an AI agent drives Berth
// with, from a project to a deployment and its rollback.
//
// Every tool calls the public REST API through the Go client with the
// caller's own key, so what a tool may do, and how bad input is answered,
// is the API's own: there is no second authorization path here. The
// server runs over stdio (`berth mcp`) with the CLI's key, and over
// streamable HTTP (Handler, at /mcp on the API listener) with each
// request's bearer key.
package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/berth-dev/berth/client"
)

// ClientFunc returns the API client a tool call uses: the one of the
// caller's key.
type ClientFunc func(*sdk.CallToolRequest) (*client.Client, error)

// instructions tell a model how the tools fit together.
const instructions = `Berth runs the apps you build: a sandbox is an editable container with a live preview URL, publish freezes its files into an immutable release, and deploy runs a release at the project's stable URL, with rollback.
The loop: whoami (what your key may reach) → list_templates → create_project (or use the project of your key) → create_sandbox → write_files → preview (give the user its url) → publish → deploy → deployment_status with wait_seconds until ready → rollback when a release is bad.
Ids are prefixed: org_, ws_, prj_, sbx_, rel_, dep_, db_, bkt_, cron_, dom_, host_. Give users the URLs the tools return; never build them yourself.
A failed call returns a JSON error with a stable "code" and a "detail" that says what to fix.`

// NewServer returns the MCP server with Berth's tools; each call uses the
// client clientFor returns for it. Failures the caller is not told about
// in full (the API unreachable) go to log (nil: discarded).
func NewServer(clientFor ClientFunc, log *slog.Logger) *sdk.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "berth", Title: "Berth", Version: version()},
		&sdk.ServerOptions{Instructions: instructions, Capabilities: &sdk.ServerCapabilities{}})
	t := &toolset{server: s, clientFor: clientFor, log: log}
	t.tenants()
	t.sandboxes()
	t.deployments()
	t.services()
	s.AddReceivingMiddleware(problemArguments)
	return s
}

// version is the build's module version or VCS revision.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return "dev"
}

// toolset registers the tools on a server.
type toolset struct {
	server    *sdk.Server
	clientFor ClientFunc
	log       *slog.Logger
}

// spec describes a tool: a name, a one-line description written for a
// model, whether it only reads, and tweaks of the input schema derived
// from its Go type.
type spec struct {
	name, description string
	readOnly          bool
	// idempotent says a repeated call with the same input changes nothing
	// more than the first; destructive that it may replace or overwrite
	// what exists (not only add to it).
	idempotent, destructive bool
	input                   func(*jsonschema.Schema)
}

// add registers a tool whose handler gets the caller's client.
func add[In, Out any](t *toolset, s spec, fn func(ctx context.Context, c *client.Client, in In) (Out, error)) {
	tool := &sdk.Tool{Name: s.name, Description: s.description, Annotations: &sdk.ToolAnnotations{
		ReadOnlyHint: s.readOnly, IdempotentHint: s.readOnly || s.idempotent,
		DestructiveHint: new(s.destructive), OpenWorldHint: new(false),
	}}
	if s.input != nil {
		in, err := jsonschema.For[In](nil)
		if err != nil {
			panic("mcp: the input schema of " + s.name + ": " + err.Error())
		}
		s.input(in)
		tool.InputSchema = in
	}
	sdk.AddTool(t.server, tool, func(ctx context.Context, req *sdk.CallToolRequest, in In) (_ *sdk.CallToolResult, _ Out, err error) {
		var zero Out
		// A bug here must not kill `berth mcp` nor show a stack to the
		// model: it is an internal error, logged for the operator.
		defer func() {
			if v := recover(); v != nil {
				t.log.Error("an MCP tool panicked", "tool", s.name, "panic", v, "stack", string(debug.Stack()))
				err = &Problem{Status: http.StatusInternalServerError, Code: "internal_error", Detail: "the tool failed on Berth's side"}
			}
		}()
		c, err := t.clientFor(req)
		if err != nil {
			return nil, zero, toolError(err)
		}
		out, err := fn(ctx, c, in)
		if err != nil {
			p := toolError(err)
			if p.Code == "api_unreachable" {
				t.log.Warn("an MCP tool could not reach the API", "tool", s.name, "err", err)
			}
			return nil, zero, p
		}
		return nil, out, nil
	})
}

// enum restricts a property of an input schema to values.
func enum(prop string, values ...string) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) {
		p := s.Properties[prop]
		for _, v := range values {
			p.Enum = append(p.Enum, v)
		}
	}
}

// tweaks applies several schema tweaks.
func tweaks(fs ...func(*jsonschema.Schema)) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) {
		for _, f := range fs {
			f(s)
		}
	}
}

// between bounds an integer property of an input schema.
func between(prop string, lo, hi float64) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) {
		p := s.Properties[prop]
		p.Minimum, p.Maximum = &lo, &hi
	}
}

// Problem is what a failed tool call returns, as JSON text: the API's
// problem code and detail, or a code of this server's own.
type Problem struct {
	Status int    `json:"status,omitempty"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// toolError turns an error of a tool into a Problem a model can act on.
// A transport failure is told without the API's address: the caller of
// /mcp should not learn where the API listens inside.
func toolError(err error) *Problem {
	var p *client.Problem
	var own *Problem
	switch {
	case errors.As(err, &own):
		return own
	case errors.As(err, &p):
		return &Problem{Status: p.Status, Code: p.Code, Detail: p.Detail}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Problem{Code: "canceled", Detail: "the call was canceled or ran out of time before the API answered; call again"}
	default:
		return &Problem{Status: http.StatusBadGateway, Code: "api_unreachable", Detail: "the Berth API did not answer; try again later"}
	}
}

// problemArguments rewrites the tool errors the SDK makes itself (input
// that breaks a tool's schema) as Problems, so that every tool error
// reads the same.
func problemArguments(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		res, err := next(ctx, method, req)
		r, ok := res.(*sdk.CallToolResult)
		if method != "tools/call" || err != nil || !ok || !r.IsError || len(r.Content) != 1 {
			return res, err
		}
		text, ok := r.Content[0].(*sdk.TextContent)
		if !ok {
			return res, err
		}
		var p Problem
		if json.Unmarshal([]byte(text.Text), &p) == nil && p.Code != "" {
			return res, err
		}
		detail := strings.TrimPrefix(text.Text, `validating "arguments": `)
		p = Problem{Status: http.StatusBadRequest, Code: "invalid_arguments", Detail: "the arguments do not fit the tool's input schema: " + detail}
		text.Text = p.Error()
		return res, err
	}
}
