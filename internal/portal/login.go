package portal

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// loginFormTTL is how long a sign-in form stays valid.
const loginFormTTL = time.Hour

func digest(password string) [32]byte { return sha256.Sum256([]byte(password)) }

// minPassword is the shortest password the portal accepts.
const minPassword = 8

// readPassword reads the first line of a password file.
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimRight(pw, "\r")
	if len(pw) < minPassword {
		return "", fmt.Errorf("the password in %s is shorter than %d characters", path, minPassword)
	}
	return pw, nil
}

// currentPassword is the digest of the password to sign in with: the
// password file's as it is now, else the last one that was good (a
// broken file never brings back an older password).
func (s *Server) currentPassword() [32]byte {
	s.passwordMu.Lock()
	defer s.passwordMu.Unlock()
	if s.passwordFile != "" {
		if pw, err := readPassword(s.passwordFile); err == nil {
			s.password = digest(pw)
		} else {
			s.log.Warn("reading the password failed; the last one stays", "err", err)
		}
	}
	return s.password
}

// clientAddr is who a failed sign-in is counted against.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type loginData struct {
	Token string
	Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.sessions.fromRequest(r, time.Now()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "")
}

// renderLogin shows the sign-in form with a fresh token bound to a fresh
// cookie.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	// A browser keeps one sign-in nonce, so forms open in two tabs both work.
	nonce := randomID()
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == len(nonce) {
		nonce = c.Value
	}
	setCookie(w, r, loginCookie, nonce, loginFormTTL)
	s.render(w, r, status, "login", "Sign in", loginData{Token: s.sessions.formToken("login", nonce), Error: msg})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "The form could not be read. Try again.")
		return
	}
	nonce := ""
	if c, err := r.Cookie(loginCookie); err == nil {
		nonce = c.Value
	}
	if !s.sessions.checkFormToken("login", nonce, r.PostForm.Get("csrf")) {
		s.renderLogin(w, r, http.StatusForbidden, "The sign-in form expired. Enter your password again.")
		return
	}
	who := clientAddr(r)
	if wait := s.throttle.blocked(who, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		s.renderLogin(w, r, http.StatusTooManyRequests, "Too many wrong passwords. Wait a minute, then try again.")
		return
	}
	got, want := digest(r.PostForm.Get("password")), s.currentPassword()
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		s.throttle.fail(who, now)
		s.log.Warn("wrong password", "client", who)
		s.renderLogin(w, r, http.StatusUnauthorized, "That password is not right.")
		return
	}
	s.throttle.reset(who)
	_, token := s.sessions.issue(now)
	setCookie(w, r, loginCookie, "", -1)
	setCookie(w, r, sessionCookie, token, s.sessions.ttl)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	sess := s.sessions.fromRequest(r, now)
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || !s.sessions.checkFormToken("logout", sess.id, r.PostForm.Get("csrf")) {
		s.renderMessage(w, r, http.StatusForbidden, "Request refused", "This sign-out request did not come from this site. Open the page again and retry.")
		return
	}
	s.sessions.revoke(sess, now)
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
