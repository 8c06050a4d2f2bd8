package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/primeload/primeload/target/logistics"
)

// Pagination bounds, as Django REST framework's PageNumberPagination.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Field length limits.
const (
	maxName  = 200
	maxNotes = 1000
	maxLogin = 150
)

func (s *Server) login(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, []byte, error) {
	var in struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return 0, nil, err
	}
	user, err := text("username", in.Username, true, maxLogin)
	if err != nil {
		return 0, nil, err
	}
	pass, err := text("password", in.Password, true, maxLogin)
	if err != nil {
		return 0, nil, err
	}
	token, expires, ok, err := s.auth.login(ctx, user, pass)
	if errors.Is(err, errLoginsBusy) {
		s.metrics.loginsRefused.Inc()
		w.Header().Set("Retry-After", "1")
		return 0, nil, &apiError{status: http.StatusServiceUnavailable, msg: fmt.Sprintf("%v (at most %d at once), retry later", err, cap(s.auth.slots))}
	}
	if err != nil {
		return 0, nil, fmt.Errorf("login: %w", err)
	}
	if !ok {
		return 0, nil, &apiError{status: http.StatusUnauthorized, msg: "invalid username or password"}
	}
	body, err := marshal(map[string]any{"token": token, "expires_at": expires})
	return http.StatusOK, body, err
}

func (s *Server) listGoods(ctx context.Context, _ http.ResponseWriter, r *http.Request) (int, []byte, error) {
	q, key, err := parseListQuery(r.URL.RawQuery)
	if err != nil {
		return 0, nil, err
	}
	val, err := s.cache.fetch(ctx, familyGoods, "list", key, ttlList, func(ctx context.Context) ([]byte, error) {
		done := s.metrics.store("list")
		page, err := s.cfg.Store.List(ctx, q)
		done(err)
		if err != nil {
			return nil, fmt.Errorf("list goods: %w", err)
		}
		if q.Offset > 0 && q.Offset >= page.Count {
			return nil, &apiError{status: http.StatusNotFound, field: "page", msg: "invalid page: past the last one"}
		}
		results, err := marshal(page.Results)
		if err != nil {
			return nil, err
		}
		// Cached without next/previous, which depend on the request's host.
		return append(strconv.AppendInt(nil, int64(page.Count), 10), append([]byte{'\n'}, results...)...), nil
	})
	if err != nil {
		return 0, nil, err
	}
	if body, ok := s.lastList.Load().match(r, val); ok {
		return http.StatusOK, body, nil
	}
	body, err := renderList(r, q, val)
	if err != nil {
		return 0, nil, err
	}
	s.lastList.Store(&renderedList{cached: val, host: r.Host, path: r.URL.Path, rawQuery: r.URL.RawQuery, tls: r.TLS != nil, body: body})
	return http.StatusOK, body, nil
}

// renderedList is the last list answer sent and what it was built from.
// A load test repeats one request, and assembling its 6 KB answer again
// cost more than the cache lookup before it; the answer is a pure function
// of the cached value and the request's host, path and query, so an equal
// pair can be served the same bytes.
type renderedList struct {
	cached               []byte // the cache's value (never modified once cached)
	host, path, rawQuery string
	tls                  bool
	body                 []byte
}

// match returns the rendered body when r and the cached value are those it
// was built from. A nil receiver matches nothing.
func (l *renderedList) match(r *http.Request, cached []byte) ([]byte, bool) {
	if l == nil || l.host != r.Host || l.path != r.URL.Path || l.rawQuery != r.URL.RawQuery || l.tls != (r.TLS != nil) {
		return nil, false
	}
	// The memory cache hands back the same slice, which compares by pointer
	// at once; Redis hands back a copy, compared byte by byte.
	return l.body, bytes.Equal(l.cached, cached)
}

// renderList builds the list's JSON from a cached "count\nresults" value,
// adding the links to the next and previous pages of this request's URL.
func renderList(r *http.Request, q logistics.ListQuery, val []byte) ([]byte, error) {
	countText, results, _ := bytes.Cut(val, []byte{'\n'})
	count, err := strconv.Atoi(string(countText))
	if err != nil {
		return nil, fmt.Errorf("cached list is corrupt: %w", err)
	}
	page := q.Offset/q.Limit + 1
	next, prev := "null", "null"
	if q.Offset+q.Limit < count {
		next = pageURL(r, page+1)
	}
	if page > 1 {
		prev = pageURL(r, page-1)
	}
	body := make([]byte, 0, len(results)+len(next)+len(prev)+64)
	body = append(body, `{"count":`...)
	body = strconv.AppendInt(body, int64(count), 10)
	body = append(body, `,"next":`...)
	body = append(body, next...)
	body = append(body, `,"previous":`...)
	body = append(body, prev...)
	body = append(body, `,"results":`...)
	body = append(body, results...)
	body = append(body, '}')
	return body, nil
}

// pageURL is the absolute URL of another page of this list, as a JSON string.
func pageURL(r *http.Request, page int) string {
	q, _ := url.ParseQuery(r.URL.RawQuery) // already validated
	if page == 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(page))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	b, _ := json.Marshal(u.String())
	return string(b)
}

// parseListQuery validates the list's query parameters and returns the query
// and a canonical cache key for it. Unknown parameters (cache busters like
// _t) are ignored.
func parseListQuery(raw string) (logistics.ListQuery, string, error) {
	var q logistics.ListQuery
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, "", badField("query", "malformed query string: %v", err)
	}
	for _, name := range []string{"page", "page_size", "status", "customer", "location", "start_date", "end_date"} {
		v := vals.Get(name)
		if !utf8.ValidString(v) || len(v) > maxName {
			return q, "", badField(name, "want valid UTF-8 of at most %d bytes", maxName)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return q, "", badField(name, errNUL)
		}
	}
	page, err := intParam(vals, "page", 1, 1, 1_000_000)
	if err != nil {
		return q, "", err
	}
	size, err := intParam(vals, "page_size", DefaultPageSize, 1, -1)
	if err != nil {
		return q, "", err
	}
	size = min(size, MaxPageSize) // DRF clamps an oversized page_size
	q.Offset, q.Limit = (page-1)*size, size
	q.Status = vals.Get("status")
	if q.Status != "" && !logistics.ValidStatus(q.Status) {
		return q, "", badField("status", "want one of %v", logistics.Statuses)
	}
	q.Customer, q.Location = vals.Get("customer"), vals.Get("location")
	if q.From, err = dateParam(vals, "start_date"); err != nil {
		return q, "", err
	}
	if q.Until, err = dateParam(vals, "end_date"); err != nil {
		return q, "", err
	}
	if !q.Until.IsZero() {
		q.Until = q.Until.AddDate(0, 0, 1) // end_date is inclusive
	}
	if !q.From.IsZero() && !q.Until.IsZero() && !q.From.Before(q.Until) {
		return q, "", badField("end_date", "must not be before start_date")
	}
	// Built by hand: url.Values and its sorting Encode were a visible share
	// of a cached answer's cost.
	key := "list:p=" + strconv.Itoa(page) + "&n=" + strconv.Itoa(size) +
		"&s=" + url.QueryEscape(q.Status) + "&c=" + url.QueryEscape(q.Customer) + "&l=" + url.QueryEscape(q.Location) +
		"&a=" + url.QueryEscape(vals.Get("start_date")) + "&b=" + url.QueryEscape(vals.Get("end_date"))
	return q, key, nil
}

// intParam parses an integer parameter in [lo, hi] (no upper bound when hi < 0).
func intParam(vals url.Values, name string, def, lo, hi int) (int, error) {
	v := vals.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi >= 0 && n > hi) {
		if hi < 0 {
			return 0, badField(name, "want an integer of at least %d, got %q", lo, v)
		}
		return 0, badField(name, "want an integer from %d to %d, got %q", lo, hi, v)
	}
	return n, nil
}

func dateParam(vals url.Values, name string) (time.Time, error) {
	v := vals.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, badField(name, "want a date as YYYY-MM-DD, got %q", v)
	}
	return t, nil
}

// goodsInput is the body of POST and PATCH on goods. Pointers tell absent
// fields from zero ones.
type goodsInput struct {
	ShippingMark *string  `json:"shipping_mark"`
	Customer     *string  `json:"customer"`
	Description  *string  `json:"description"`
	Quantity     *int     `json:"quantity"`
	CBM          *float64 `json:"cbm"`
	WeightKG     *float64 `json:"weight_kg"`
	Location     *string  `json:"location"`
	Status       *string  `json:"status"`
}

// patch validates the fields present; required lists those that must be.
func (in goodsInput) patch(required bool) (logistics.GoodsPatch, error) {
	var p logistics.GoodsPatch
	var err error
	opt := func(field string, v *string, max int) *string {
		if err != nil || (v == nil && !required) {
			return nil
		}
		var s string
		s, err = text(field, v, true, max)
		return &s
	}
	p.Customer = opt("customer", in.Customer, maxName)
	p.Location = opt("location", in.Location, maxName)
	if err != nil {
		return p, err
	}
	if in.Description != nil {
		if _, err := text("description", in.Description, false, maxNotes); err != nil {
			return p, err
		}
		p.Description = in.Description
	}
	if in.Status != nil {
		if !logistics.ValidStatus(*in.Status) {
			return p, badField("status", "want one of %v", logistics.Statuses)
		}
		p.Status = in.Status
	}
	if in.Quantity != nil {
		if *in.Quantity < 1 || *in.Quantity > 1_000_000 {
			return p, badField("quantity", "want an integer from 1 to 1000000")
		}
		p.Quantity = in.Quantity
	}
	for _, f := range []struct {
		name string
		v    *float64
		max  float64
		dst  **float64
	}{{"cbm", in.CBM, 10_000, &p.CBM}, {"weight_kg", in.WeightKG, 1_000_000, &p.WeightKG}} {
		if f.v != nil {
			if !(*f.v >= 0 && *f.v <= f.max) {
				return p, badField(f.name, "want a number from 0 to %g", f.max)
			}
			*f.dst = f.v
		}
	}
	return p, nil
}

// text validates a string field: present when required, at most max bytes,
// no NUL.
// The body was already checked to be UTF-8.
func text(field string, v *string, required bool, max int) (string, error) {
	switch {
	case v == nil && required:
		return "", badField(field, "required")
	case v == nil:
		return "", nil
	case required && *v == "":
		return "", badField(field, "must not be empty")
	case len(*v) > max:
		return "", badField(field, "at most %d bytes", max)
	case strings.IndexByte(*v, 0) >= 0:
		return "", badField(field, errNUL)
	}
	return *v, nil
}

// errNUL refuses U+0000 in text on every store alike: PostgreSQL cannot
// store it in a text column (it answered 500) while the memory store took it.
const errNUL = "must not contain a NUL character (U+0000)"

func (s *Server) createGoods(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, []byte, error) {
	var in goodsInput
	if err := decodeBody(w, r, &in); err != nil {
		return 0, nil, err
	}
	p, err := in.patch(true)
	if err != nil {
		return 0, nil, err
	}
	mark, err := text("shipping_mark", in.ShippingMark, false, 64)
	if err != nil {
		return 0, nil, err
	}
	now := s.cfg.Now()
	if mark == "" {
		mark = fmt.Sprintf("PM-%s-%d", now.UTC().Format("060102"), now.UnixNano()%1_000_000)
	}
	n := logistics.NewGoods{ShippingMark: mark, Customer: *p.Customer, Location: *p.Location, Quantity: 1, Status: logistics.StatusPending}
	var g logistics.Goods
	p.Apply(&g)
	n.Description, n.CBM, n.WeightKG = g.Description, g.CBM, g.WeightKG
	if p.Quantity != nil {
		n.Quantity = *p.Quantity
	}
	if p.Status != nil {
		n.Status = *p.Status
	}
	var created logistics.Goods
	err = s.storeWrite(ctx, "create", func() (err error) {
		created, err = s.cfg.Store.Create(ctx, n, now)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("create goods: %w", err)
	}
	w.Header().Set("Location", fmt.Sprintf("/api/goods-received/%d/", created.ID))
	body, err := marshal(created)
	return http.StatusCreated, body, err
}

func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, badField("id", "want a positive integer id, got %q", v)
	}
	return id, nil
}

func (s *Server) getGoods(ctx context.Context, _ http.ResponseWriter, r *http.Request) (int, []byte, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	body, err := s.cache.fetch(ctx, familyGoods, "detail", "detail:"+strconv.FormatInt(id, 10), ttlList, func(ctx context.Context) ([]byte, error) {
		done := s.metrics.store("get")
		d, err := s.cfg.Store.Get(ctx, id)
		done(err)
		if err != nil {
			return nil, fmt.Errorf("get goods %d: %w", id, err)
		}
		return marshal(d)
	})
	return http.StatusOK, body, err
}

func (s *Server) patchGoods(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, []byte, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	var in goodsInput
	if err := decodeBody(w, r, &in); err != nil {
		return 0, nil, err
	}
	if in.ShippingMark != nil {
		return 0, nil, badField("shipping_mark", "cannot be changed")
	}
	p, err := in.patch(false)
	if err != nil {
		return 0, nil, err
	}
	if p == (logistics.GoodsPatch{}) {
		return 0, nil, badField("body", "no field to change; want some of customer, description, quantity, cbm, weight_kg, location, status")
	}
	var g logistics.Goods
	err = s.storeWrite(ctx, "update", func() (err error) {
		g, err = s.cfg.Store.Update(ctx, id, p, s.cfg.Now())
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("update goods %d: %w", id, err)
	}
	body, err := marshal(g)
	return http.StatusOK, body, err
}

func (s *Server) deleteGoods(ctx context.Context, _ http.ResponseWriter, r *http.Request) (int, []byte, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	err = s.storeWrite(ctx, "delete", func() error { return s.cfg.Store.Delete(ctx, id) })
	if err != nil {
		return 0, nil, fmt.Errorf("delete goods %d: %w", id, err)
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) addTracking(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, []byte, error) {
	var in struct {
		GoodsID  *int64  `json:"goods_id"`
		Status   *string `json:"status"`
		Location *string `json:"location"`
		Notes    *string `json:"notes"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return 0, nil, err
	}
	if in.GoodsID == nil {
		return 0, nil, badField("goods_id", "required")
	}
	if *in.GoodsID < 1 {
		return 0, nil, badField("goods_id", "want a positive integer id")
	}
	n := logistics.NewTracking{GoodsID: *in.GoodsID}
	if in.Status == nil || !logistics.ValidStatus(*in.Status) {
		return 0, nil, badField("status", "want one of %v", logistics.Statuses)
	}
	n.Status = *in.Status
	var err error
	if n.Location, err = text("location", in.Location, true, maxName); err != nil {
		return 0, nil, err
	}
	if n.Notes, err = text("notes", in.Notes, false, maxNotes); err != nil {
		return 0, nil, err
	}
	var u logistics.TrackingUpdate
	err = s.storeWrite(ctx, "add_tracking", func() (err error) {
		u, err = s.cfg.Store.AddTracking(ctx, n, s.cfg.Now())
		return err
	})
	if errors.Is(err, logistics.ErrNotFound) {
		return 0, nil, badField("goods_id", "no goods with id %d", n.GoodsID)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("add tracking update: %w", err)
	}
	body, err := marshal(u)
	return http.StatusCreated, body, err
}

// storeWrite runs one store write, timed as op, between the invalidations
// every write needs (cacheAside.write): every write changes goods and the
// dashboard.
func (s *Server) storeWrite(ctx context.Context, op string, do func() error) error {
	return s.cache.write(ctx, func() error {
		done := s.metrics.store(op)
		err := do()
		done(err)
		return err
	}, familyGoods, familyDashboard)
}

func (s *Server) stats(ctx context.Context, _ http.ResponseWriter, _ *http.Request) (int, []byte, error) {
	return s.dashboard(ctx, "stats", func(ctx context.Context, now time.Time) (any, error) { return s.cfg.Store.Stats(ctx, now) })
}

func (s *Server) charts(ctx context.Context, _ http.ResponseWriter, _ *http.Request) (int, []byte, error) {
	return s.dashboard(ctx, "charts", func(ctx context.Context, now time.Time) (any, error) { return s.cfg.Store.Charts(ctx, now) })
}

// dashboard serves one dashboard resource through the cache.
func (s *Server) dashboard(ctx context.Context, resource string, load func(context.Context, time.Time) (any, error)) (int, []byte, error) {
	now := s.cfg.Now()
	// The day is in the key so a cached answer never outlives its window.
	key := resource + ":" + now.UTC().Format(time.DateOnly)
	body, err := s.cache.fetch(ctx, familyDashboard, resource, key, ttlStats, func(ctx context.Context) ([]byte, error) {
		done := s.metrics.store(resource)
		v, err := load(ctx, now)
		done(err)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", resource, err)
		}
		return marshal(v)
	})
	return http.StatusOK, body, err
}
