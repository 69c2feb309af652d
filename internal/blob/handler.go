package blob

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Handler serves s over HTTP in the shape of the OCI distribution blob API.
// Paths are relative to where it is mounted; the caller strips the mount
// point, as in
//
//	mux.Handle("/v1/blobs/", http.StripPrefix("/v1/blobs", blob.Handler(s)))
//
// and the handler answers:
//
//	POST   /uploads                  202, starts an upload; Location and Docker-Upload-UUID name it
//	PATCH  /uploads/{uuid}           202, appends the body; Content-Range "<start>-<end>" (inclusive)
//	                                 must start where the upload ends, else 416
//	GET    /uploads/{uuid}           204, reports how much arrived, to resume after a break
//	PUT    /uploads/{uuid}?digest=d  201, appends an optional last chunk and commits as d;
//	                                 400 digest_mismatch when the bytes hash to something else
//	DELETE /uploads/{uuid}           204, cancels the upload
//	HEAD   /{digest}                 200 with Content-Length, or 404
//	GET    /{digest}                 200, the blob (byte ranges supported)
//
// Upload responses carry "Range: 0-<last byte>" for what the upload holds;
// an empty upload has no Range header at all, because OCI's "0-0" would
// also mean one byte. Location headers carry the full path, mount point
// included, taken from the request line. Errors are application/problem+json
// with a stable code. The handler does no authentication: the caller
// wraps it in its own.
func Handler(s *Store) http.Handler {
	h := &handler{s: s}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /uploads", h.start)
	mux.HandleFunc("GET /uploads/{uuid}", h.status)
	mux.HandleFunc("PATCH /uploads/{uuid}", h.patch)
	mux.HandleFunc("PUT /uploads/{uuid}", h.commit)
	mux.HandleFunc("DELETE /uploads/{uuid}", h.cancel)
	mux.HandleFunc("GET /{digest}", h.get)
	return mux
}

type handler struct {
	s *Store
}

func (h *handler) start(w http.ResponseWriter, r *http.Request) {
	id, err := h.s.StartUpload()
	if err != nil {
		h.fail(w, err)
		return
	}
	h.uploadHeaders(w, r, id, 0)
	w.WriteHeader(http.StatusAccepted)
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("uuid")
	size, err := h.s.UploadSize(id)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.uploadHeaders(w, r, id, size)
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) patch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("uuid")
	size, ok := h.appendBody(w, r, id)
	if !ok {
		return
	}
	h.uploadHeaders(w, r, id, size)
	w.WriteHeader(http.StatusAccepted)
}

func (h *handler) commit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("uuid")
	digest := r.URL.Query().Get("digest")
	if _, err := ParseDigest(digest); err != nil {
		h.fail(w, err)
		return
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Range") != "" {
		if _, ok := h.appendBody(w, r, id); !ok {
			return
		}
	}
	if err := h.s.Commit(id, digest); err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Location", mountPath(r)+"/"+digest)
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

func (h *handler) cancel(w http.ResponseWriter, r *http.Request) {
	if err := h.s.CancelUpload(r.PathValue("uuid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	digest := r.PathValue("digest")
	f, err := h.s.Open(digest)
	if err != nil {
		h.fail(w, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("ETag", `"`+digest+`"`)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "max-age=31536000, immutable")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// appendBody appends the request body to the upload at the offset its
// Content-Range names, or where the upload ends when it names none. It
// writes the error response itself and reports whether to go on.
func (h *handler) appendBody(w http.ResponseWriter, r *http.Request, id string) (int64, bool) {
	size, err := h.s.UploadSize(id)
	if err != nil {
		h.fail(w, err)
		return 0, false
	}
	start, body := size, io.Reader(r.Body)
	var length int64 = -1
	if cr := r.Header.Get("Content-Range"); cr != "" {
		first, last, ok := parseContentRange(cr)
		if !ok {
			problem(w, http.StatusBadRequest, "invalid_range", fmt.Sprintf("Content-Range %q is not <start>-<end>", cr))
			return 0, false
		}
		start, length = first, last-first+1
		if r.ContentLength >= 0 && r.ContentLength != length {
			problem(w, http.StatusBadRequest, "invalid_range",
				fmt.Sprintf("Content-Range %q announces %d bytes, Content-Length %d", cr, length, r.ContentLength))
			return 0, false
		}
		body = io.LimitReader(body, length)
	}
	rec := &recordingReader{r: body}
	newSize, err := h.s.Append(id, start, rec)
	switch {
	case errors.Is(err, ErrRangeMismatch):
		h.uploadHeaders(w, r, id, newSize)
		problem(w, http.StatusRequestedRangeNotSatisfiable, "range_mismatch",
			fmt.Sprintf("the upload holds %d bytes; send the chunk that starts at byte %d", newSize, newSize))
		return 0, false
	case rec.err != nil:
		// Most likely the client is gone; one that is not can resume
		// from the Range it gets.
		h.uploadHeaders(w, r, id, newSize)
		problem(w, http.StatusBadRequest, "incomplete_chunk",
			fmt.Sprintf("the chunk ended early (%v); the upload holds %d bytes, resume from there", rec.err, newSize))
		return 0, false
	case err != nil:
		h.fail(w, err)
		return 0, false
	}
	if length >= 0 {
		if newSize-start < length {
			h.uploadHeaders(w, r, id, newSize)
			problem(w, http.StatusBadRequest, "incomplete_chunk",
				fmt.Sprintf("Content-Range announced %d bytes, %d arrived; resume from byte %d", length, newSize-start, newSize))
			return 0, false
		}
		if n, _ := r.Body.Read(make([]byte, 1)); n > 0 {
			h.uploadHeaders(w, r, id, newSize)
			problem(w, http.StatusBadRequest, "invalid_range",
				fmt.Sprintf("the body is longer than its Content-Range; the upload holds %d bytes", newSize))
			return 0, false
		}
	}
	return newSize, true
}

// parseContentRange reads "<first>-<last>", tolerating the "bytes " prefix
// and "/<total>" suffix of RFC 9110 ranges.
func parseContentRange(s string) (first, last int64, ok bool) {
	s = strings.TrimPrefix(s, "bytes ")
	s, _, _ = strings.Cut(s, "/")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, false
	}
	return first, last, true
}

func (h *handler) uploadHeaders(w http.ResponseWriter, r *http.Request, id string, size int64) {
	w.Header().Set("Location", mountPath(r)+"/uploads/"+id)
	w.Header().Set("Docker-Upload-UUID", id)
	if size > 0 {
		w.Header().Set("Range", fmt.Sprintf("0-%d", size-1))
	}
	w.Header().Set("Content-Length", "0")
}

// mountPath returns the path the handler is mounted at: the request line's
// path minus the path the handler saw. It is "" when the handler is not
// behind a prefix or is called without a request line.
func mountPath(r *http.Request) string {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return ""
	}
	m, ok := strings.CutSuffix(u.EscapedPath(), r.URL.EscapedPath())
	if !ok {
		return ""
	}
	return m
}

// fail answers a store error: the one place where errors become statuses.
func (h *handler) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInvalidDigest):
		problem(w, http.StatusBadRequest, "invalid_digest", err.Error())
	case errors.Is(err, ErrDigestMismatch):
		problem(w, http.StatusBadRequest, "digest_mismatch", err.Error()+"; the upload was discarded, start a new one")
	case errors.Is(err, ErrNotFound):
		problem(w, http.StatusNotFound, "blob_not_found", err.Error())
	case errors.Is(err, ErrUploadNotFound):
		problem(w, http.StatusNotFound, "upload_not_found", err.Error()+"; start a new upload")
	default:
		// Store paths are the host's business, not the client's.
		msg := strings.ReplaceAll(err.Error(), h.s.dir, "<blob store>")
		problem(w, http.StatusInternalServerError, "blob_store_error", msg)
	}
}

type problemBody struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Status int    `json:"status"`
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Del("Content-Length")
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problemBody{Code: code, Detail: detail, Status: status})
}

// recordingReader remembers the first error other than io.EOF its reader
// returns, which tells a broken request body apart from a failing disk.
type recordingReader struct {
	r   io.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}
