package s3server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/versity/versitygw/auth"
)

// cacheTTL bounds how long the gateway trusts an account it looked up:
// a rotated or deleted key stops working within it.
const cacheTTL = 2 * time.Second

// remoteIAM is the gateway's account source: it asks the parent, which
// keeps the keys sealed in its store, so no secret is written to disk in
// the clear. Every account is a plain user: it reaches the buckets it owns
// and nothing else; buckets and owners are managed through the admin API
// by the parent alone.
type remoteIAM struct {
	url, token string
	http       *http.Client
	mu         sync.Mutex
	cache      map[string]cached
}

type cached struct {
	secret string
	at     time.Time
}

func newRemoteIAM(u, token string) *remoteIAM {
	return &remoteIAM{url: u, token: token, http: &http.Client{Timeout: 5 * time.Second}, cache: map[string]cached{}}
}

var errManaged = errors.New("accounts are managed by Berth: use its buckets API")

// GetUserAccount looks an access key up at the parent.
func (r *remoteIAM) GetUserAccount(access string) (auth.Account, error) {
	r.mu.Lock()
	c, ok := r.cache[access]
	r.mu.Unlock()
	if ok && time.Since(c.at) < cacheTTL {
		return auth.Account{Access: access, Secret: c.secret, Role: auth.RoleUser}, nil
	}
	req, err := http.NewRequest(http.MethodGet, r.url+"?access="+url.QueryEscape(access), nil)
	if err != nil {
		return auth.Account{}, err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := r.http.Do(req)
	if err != nil {
		return auth.Account{}, fmt.Errorf("looking up an account: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		r.mu.Lock()
		delete(r.cache, access)
		r.mu.Unlock()
		return auth.Account{}, auth.ErrNoSuchUser
	default:
		return auth.Account{}, fmt.Errorf("looking up an account: status %d", resp.StatusCode)
	}
	var a accountAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return auth.Account{}, fmt.Errorf("looking up an account: %w", err)
	}
	r.mu.Lock()
	if len(r.cache) > 10000 {
		clear(r.cache)
	}
	r.cache[access] = cached{secret: a.Secret, at: time.Now()}
	r.mu.Unlock()
	return auth.Account{Access: access, Secret: a.Secret, Role: auth.RoleUser}, nil
}

// ResolveAccounts returns the access keys that name no account.
func (r *remoteIAM) ResolveAccounts(keys []string) ([]string, error) {
	missing := []string{}
	for _, k := range keys {
		if _, err := r.GetUserAccount(k); errors.Is(err, auth.ErrNoSuchUser) {
			missing = append(missing, k)
		} else if err != nil {
			return nil, err
		}
	}
	return missing, nil
}

func (r *remoteIAM) CreateAccount(auth.Account) error                  { return errManaged }
func (r *remoteIAM) UpdateUserAccount(string, auth.MutableProps) error { return errManaged }
func (r *remoteIAM) DeleteUserAccount(string) error                    { return errManaged }
func (r *remoteIAM) ListUserAccounts() ([]auth.Account, error)         { return nil, errManaged }
func (r *remoteIAM) Shutdown() error                                   { return nil }

type accountAnswer struct {
	Secret string `json:"secret"`
}

// SecretLookup returns the secret of an access key; ok is false when no
// account has it.
type SecretLookup func(ctx context.Context, access string) (secret string, ok bool, err error)

// AccountsHandler answers the gateway's account lookups from lookup, for
// requests bearing token.
func AccountsHandler(token string, lookup SecretLookup, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+token)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		secret, ok, err := lookup(r.Context(), r.URL.Query().Get("access"))
		if err != nil {
			log.Error("looking up an account failed", "err", err)
			http.Error(w, "lookup failed", http.StatusInternalServerError)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(accountAnswer{Secret: secret})
	})
}

// Interface guard.
var _ auth.IAMService = (*remoteIAM)(nil)
