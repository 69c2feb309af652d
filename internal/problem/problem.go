// Package problem is the one shape every client-facing error takes: an
// RFC 9457 problem with a stable code and a message that says what to do.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Error is an error a client caused and can fix.
type Error struct {
	Status int
	Code   string
	Detail string
	Fields []Field
}

// Field is one field-level problem.
type Field struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// New returns a problem with a formatted detail.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400.
func BadRequest(code, format string, args ...any) *Error {
	return New(http.StatusBadRequest, code, format, args...)
}

// NotFound is a 404.
func NotFound(code, format string, args ...any) *Error {
	return New(http.StatusNotFound, code, format, args...)
}

// Conflict is a 409.
func Conflict(code, format string, args ...any) *Error {
	return New(http.StatusConflict, code, format, args...)
}

// Unprocessable is a 422: the request is well formed but cannot work.
func Unprocessable(code, format string, args ...any) *Error {
	return New(http.StatusUnprocessableEntity, code, format, args...)
}

// body is the JSON form.
type body struct {
	Type   string  `json:"type"`
	Title  string  `json:"title"`
	Status int     `json:"status"`
	Code   string  `json:"code"`
	Detail string  `json:"detail"`
	Errors []Field `json:"errors,omitempty"`
}

// Write answers with err as problem+json. Errors that are not problems
// become a 500 whose body says nothing about the cause; log gets it.
func Write(w http.ResponseWriter, err error, log *slog.Logger) {
	var p *Error
	if !errors.As(err, &p) {
		if log != nil {
			log.Error("internal error", "err", err)
		}
		p = &Error{Status: http.StatusInternalServerError, Code: "internal_error",
			Detail: "Something went wrong on our side; try again, and report it if it persists."}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(body{
		Type: "about:blank", Title: http.StatusText(p.Status), Status: p.Status,
		Code: p.Code, Detail: p.Detail, Errors: p.Fields,
	})
}
