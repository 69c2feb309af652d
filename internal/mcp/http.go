package mcp

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/berth-dev/berth/client"
)

// HTTPConfig is what Handler needs.
type HTTPConfig struct {
	// APIURL is where the tools reach the public API (without /api/v1).
	APIURL string
	// HTTP is the client they reach it with (nil: http.DefaultClient).
	HTTP *http.Client
	// Log receives the transport's messages (nil: discarded).
	Log *slog.Logger
}

// Handler serves the tools over streamable HTTP. Every request must carry
// an API key as "Authorization: Bearer <key>", which the API must accept,
// and every tool call is made with that request's key: a project key sees
// its project and nothing else, as in the REST API.
//
// The server is stateless (no Mcp-Session-Id): each request stands alone,
// so a session can never carry one caller's key into another's request.
func Handler(cfg HTTPConfig) http.Handler {
	hc := cfg.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clientOf := func(key string) *client.Client {
		c := client.New(cfg.APIURL, key)
		c.HTTP = hc
		return c
	}
	srv := NewServer(func(req *sdk.CallToolRequest) (*client.Client, error) {
		key, ok := bearer(req.Extra.Header)
		if !ok {
			return nil, &Problem{Status: http.StatusUnauthorized, Code: "unauthorized", Detail: "send an API key as \"Authorization: Bearer <key>\""}
		}
		return clientOf(key), nil
	}, log)
	// The localhost protection of the SDK guards servers that trust any
	// local caller against DNS rebinding; every request here needs a key,
	// as the REST API beside it does, and a proxy in front may send any
	// Host.
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv },
		&sdk.StreamableHTTPOptions{Stateless: true, Logger: log, DisableLocalhostProtection: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := bearer(r.Header)
		if !ok {
			unauthorized(w, "send an API key as \"Authorization: Bearer <key>\"")
			return
		}
		if _, err := clientOf(key).Self(r.Context()); err != nil {
			var p *client.Problem
			if errors.As(err, &p) && p.Status == http.StatusUnauthorized {
				unauthorized(w, p.Detail)
				return
			}
			log.Warn("checking an MCP caller's key", "err", err)
			writeProblem(w, http.StatusServiceUnavailable, "api_unavailable", "the API did not answer; try again")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Beside serves the tools at /mcp and passes every other request to api
// as it came. It is no ServeMux on purpose: a mux cleans a path with dot
// segments and redirects, where the API refuses it (400 path_escape).
func Beside(api http.Handler, cfg HTTPConfig) http.Handler {
	tools := Handler(cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/mcp" {
			tools.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// bearer is the key of an Authorization header.
func bearer(h http.Header) (string, bool) {
	key, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	key = strings.TrimSpace(key)
	return key, ok && key != ""
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="berth"`)
	writeProblem(w, http.StatusUnauthorized, "unauthorized", detail)
}

// writeProblem answers as the REST API does, with problem+json.
func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(client.Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail})
}
