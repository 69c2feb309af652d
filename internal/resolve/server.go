package resolve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/edge"
)

// heartbeat is how often an idle change stream sends a comment.
const heartbeat = 15 * time.Second

// streamBuffer is how many changes may wait for a slow edge; one more and
// its stream ends, so it reconnects and starts over from a full
// invalidation instead of holding up everyone else.
const streamBuffer = 1024

// Handler serves r to the edges that present key.
func Handler(r edge.Resolver, key string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{r: r, key: []byte(key), log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ResolvePath, h.resolve)
	mux.HandleFunc("GET "+PagesPath+"{digest}", h.page)
	mux.HandleFunc("GET "+ChangesPath, h.changes)
	return h.authed(mux)
}

type handler struct {
	r   edge.Resolver
	key []byte
	log *slog.Logger
}

func (h *handler) authed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(h.key) == 0 || subtle.ConstantTimeCompare([]byte(got), h.key) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) resolve(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Query().Get("host")
	if host == "" {
		http.Error(w, "give ?host=", http.StatusBadRequest)
		return
	}
	a, err := h.r.Resolve(r.Context(), host)
	if err != nil {
		h.log.Warn("resolving host failed", "host", host, "err", err)
		http.Error(w, "resolving failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(toWire(a))
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	src, err := h.r.Page(r.Context(), r.PathValue("digest"))
	if err != nil {
		h.log.Warn("reading page failed", "digest", r.PathValue("digest"), "err", err)
		http.Error(w, "no such page", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(src))
}

func (h *handler) changes(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	queue := make(chan edge.Change, streamBuffer)
	overflow := make(chan struct{})
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- h.r.Watch(ctx, func(c edge.Change) {
			select {
			case queue <- c:
			default:
				select {
				case <-overflow:
				default:
					close(overflow)
				}
			}
		})
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case c := <-queue:
			b, _ := json.Marshal(changeToWire(c))
			if _, err := fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", c.Version, b); err != nil {
				return
			}
			if len(queue) == 0 {
				flusher.Flush()
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case <-overflow:
			h.log.Warn("an edge fell behind; ending its stream", "changes", streamBuffer)
			return
		case err := <-watchDone:
			if err != nil && !errors.Is(err, context.Canceled) {
				h.log.Warn("watching changes failed", "err", err)
			}
			return
		}
	}
}
