package certs

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// TestZapToSlog checks that certmagic's zap records reach the slog
// handler with their level, fields and the fields of With, and that the
// handler's level filters them.
func TestZapToSlog(t *testing.T) {
	var buf bytes.Buffer
	logger := zap.New(slogCore{slog.NewTextHandler(&buf, nil)}).Named("acme").With(zap.String("issuer", "pebble"))
	logger.Debug("chatter")
	logger.Warn("obtaining certificate", zap.Strings("identifiers", []string{"a.example"}), zap.Error(errors.New("rate limited")))
	got := strings.TrimSpace(buf.String())
	if strings.Contains(got, "chatter") {
		t.Errorf("a debug record passed an info handler: %s", got)
	}
	for _, want := range []string{"level=WARN", `msg="obtaining certificate"`, "logger=acme", "issuer=pebble", "identifiers=[a.example]", `error="rate limited"`} {
		if !strings.Contains(got, want) {
			t.Errorf("record lacks %s: %s", want, got)
		}
	}
}
