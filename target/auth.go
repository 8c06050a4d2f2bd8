package target

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// auth checks passwords with bcrypt and issues stateless signed tokens, so
// a load test that logs in a million times grows no server-side table.
type auth struct {
	hashes map[string][]byte
	dummy  []byte // compared for unknown users so timing does not reveal who exists
	secret []byte // per process: tokens die with the server
	fixed  string
	ttl    time.Duration
	now    func() time.Time
}

func newAuth(users map[string]string, cost int, fixed string, ttl time.Duration, now func() time.Time) (*auth, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	a := &auth{hashes: make(map[string][]byte, len(users)), secret: make([]byte, 32), fixed: fixed, ttl: ttl, now: now}
	if _, err := rand.Read(a.secret); err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	for u, p := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(p), cost)
		if err != nil {
			return nil, fmt.Errorf("hash password of %s: %w", u, err)
		}
		a.hashes[u] = h
	}
	h, err := bcrypt.GenerateFromPassword([]byte("no such user"), cost)
	if err != nil {
		return nil, fmt.Errorf("hash dummy password: %w", err)
	}
	a.dummy = h
	return a, nil
}

// login returns a token for valid credentials.
func (a *auth) login(user, password string) (token string, expires time.Time, ok bool) {
	h, known := a.hashes[user]
	if !known {
		h = a.dummy
	}
	if bcrypt.CompareHashAndPassword(h, []byte(password)) != nil || !known {
		return "", time.Time{}, false
	}
	expires = a.now().Add(a.ttl).UTC().Truncate(time.Second)
	return a.issue(user, expires), expires, true
}

var b64 = base64.RawURLEncoding

func (a *auth) issue(user string, expires time.Time) string {
	payload := b64.EncodeToString([]byte(user + "|" + strconv.FormatInt(expires.Unix(), 10)))
	return payload + "." + b64.EncodeToString(a.mac(payload))
}

func (a *auth) mac(payload string) []byte {
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

var (
	errNoToken      = errors.New("missing bearer token")
	errBadToken     = errors.New("invalid token")
	errExpiredToken = errors.New("token expired")
)

// check validates an Authorization header value.
func (a *auth) check(header string) error {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return errNoToken
	}
	if a.fixed != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.fixed)) == 1 {
		return nil
	}
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		return errBadToken
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, a.mac(payload)) {
		return errBadToken
	}
	raw, err := b64.DecodeString(payload)
	if err != nil {
		return errBadToken
	}
	_, exp, ok := strings.Cut(string(raw), "|")
	if !ok {
		return errBadToken
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return errBadToken
	}
	if !a.now().Before(time.Unix(unix, 0)) {
		return errExpiredToken
	}
	return nil
}
