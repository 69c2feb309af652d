package portal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cookie names. Neither says what serves them.
const (
	sessionCookie = "portal_session"
	loginCookie   = "portal_login" // binds the sign-in form's token to this browser
)

var b64 = base64.RawURLEncoding

// session is one signed-in browser.
type session struct {
	id      string
	expires time.Time
}

// sessions issues and checks session cookies: "v1.<id>.<expiry>.<mac>",
// signed with HMAC-SHA256. Nothing is stored per session but the ids of
// those that signed out before they expired.
type sessions struct {
	signKey []byte // signs cookies
	formKey []byte // derives form tokens
	ttl     time.Duration

	mu      sync.Mutex
	revoked map[string]time.Time // id → expiry, pruned once past
}

func newSessions(secret []byte, ttl time.Duration) *sessions {
	return &sessions{
		signKey: mac(secret, "session cookie"),
		formKey: mac(secret, "form token"),
		ttl:     ttl,
		revoked: map[string]time.Time{},
	}
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func randomID() string {
	b := make([]byte, 18)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// issue makes a new session valid from now for the TTL.
func (s *sessions) issue(now time.Time) (*session, string) {
	sess := &session{id: randomID(), expires: now.Add(s.ttl).Truncate(time.Second)}
	payload := "v1." + sess.id + "." + strconv.FormatInt(sess.expires.Unix(), 10)
	return sess, payload + "." + b64.EncodeToString(mac(s.signKey, payload))
}

// verify returns the session a cookie value stands for, or nil when it is
// forged, altered, expired or signed out.
func (s *sessions) verify(token string, now time.Time) *session {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return nil
	}
	payload, sig := token[:i], token[i+1:]
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(s.signKey, payload)) {
		return nil
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return nil
	}
	sess := &session{id: parts[1], expires: time.Unix(exp, 0)}
	s.mu.Lock()
	_, out := s.revoked[sess.id]
	s.mu.Unlock()
	if out {
		return nil
	}
	return sess
}

func (s *sessions) fromRequest(r *http.Request, now time.Time) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	return s.verify(c.Value, now)
}

// revoke ends a session before its expiry.
func (s *sessions) revoke(sess *session, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, exp := range s.revoked {
		if !now.Before(exp) {
			delete(s.revoked, id)
		}
	}
	s.revoked[sess.id] = sess.expires
}

// formToken is the hidden field of a form, bound to purpose and to what
// identifies the browser (the sign-in cookie, or the session id).
func (s *sessions) formToken(purpose, binding string) string {
	return b64.EncodeToString(mac(s.formKey, purpose+"\x00"+binding))
}

func (s *sessions) checkFormToken(purpose, binding, token string) bool {
	got, err := b64.DecodeString(token)
	return err == nil && binding != "" && hmac.Equal(got, mac(s.formKey, purpose+"\x00"+binding))
}

// secure reports whether the browser reached the portal over HTTPS,
// directly or through a proxy that says so; cookies are then Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure(r), MaxAge: int(maxAge / time.Second),
	}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// throttle counts failed sign-ins per client address in a fixed window.
type throttle struct {
	max    int
	window time.Duration

	mu       sync.Mutex
	failures map[string]*failures
}

type failures struct {
	count int
	since time.Time
}

func newThrottle(max int, window time.Duration) *throttle {
	return &throttle{max: max, window: window, failures: map[string]*failures{}}
}

// blocked reports how long the client must wait before trying again.
func (t *throttle) blocked(client string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.failures[client]
	if f == nil || now.Sub(f.since) >= t.window {
		return 0
	}
	if f.count >= t.max {
		return t.window - now.Sub(f.since)
	}
	return 0
}

func (t *throttle) fail(client string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failures) > 10000 {
		for k, f := range t.failures {
			if now.Sub(f.since) >= t.window {
				delete(t.failures, k)
			}
		}
	}
	f := t.failures[client]
	if f == nil || now.Sub(f.since) >= t.window {
		f = &failures{since: now}
		t.failures[client] = f
	}
	f.count++
}

func (t *throttle) reset(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, client)
}
