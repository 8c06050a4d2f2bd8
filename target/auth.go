package target

import (
	"context"
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
	// slots bounds the bcrypt comparisons running at once: each is tens of
	// milliseconds of CPU, and 60 wrong-password logins a second made every
	// route wait up to 10 s behind them. A login that finds no slot within
	// LoginWait is refused at once.
	slots  chan struct{}
	hashes map[string][]byte
	dummy  []byte // compared for unknown users so timing does not reveal who exists
	secret []byte // per process: tokens die with the server
	fixed  string
	ttl    time.Duration
	now    func() time.Time
}

func newAuth(users map[string]string, cost, slots int, fixed string, ttl time.Duration, now func() time.Time) (*auth, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	a := &auth{slots: make(chan struct{}, slots), hashes: make(map[string][]byte, len(users)), secret: make([]byte, 32), fixed: fixed, ttl: ttl, now: now}
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

// errLoginsBusy refuses a login when every bcrypt slot stayed taken for
// LoginWait; the client should retry.
var errLoginsBusy = errors.New("too many logins in progress")

// login returns a token for valid credentials, errLoginsBusy when no slot
// to check the password freed up in time, and ok false for wrong ones.
func (a *auth) login(ctx context.Context, user, password string) (token string, expires time.Time, ok bool, err error) {
	if err := a.acquire(ctx); err != nil {
		return "", time.Time{}, false, err
	}
	h, known := a.hashes[user]
	if !known {
		h = a.dummy
	}
	wrong := bcrypt.CompareHashAndPassword(h, []byte(password)) != nil
	<-a.slots
	if wrong || !known {
		return "", time.Time{}, false, nil
	}
	expires = a.now().Add(a.ttl).UTC().Truncate(time.Second)
	return a.issue(user, expires), expires, true, nil
}

// acquire takes a bcrypt slot, waiting at most LoginWait: waiting costs no
// CPU, but a queue that grows with the arrival rate would only turn the
// refusal into a timeout.
func (a *auth) acquire(ctx context.Context) error {
	select {
	case a.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(LoginWait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errLoginsBusy
	case <-ctx.Done():
		return ctx.Err()
	}
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
