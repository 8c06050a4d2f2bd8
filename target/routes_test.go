package target_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/target/logistics"
)

// seeded is the generated data every backend starts from; expectations are
// computed from it independently of the stores.
func seeded() []logistics.Goods {
	g, _ := logistics.Generate(seedRows, testNow, 1)
	return g
}

// newest returns the goods matching f, newest first, as the API orders them.
func newest(f logistics.Filter) []logistics.Goods {
	var out []logistics.Goods
	all := seeded()
	for i := len(all) - 1; i >= 0; i-- {
		if f.Match(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out
}

func ids(gs []logistics.Goods) []int64 {
	out := make([]int64, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

func TestList(t *testing.T) {
	all := seeded()
	someCustomer, someLocation := all[7].Customer, all[11].Location
	from, until := testNow.AddDate(0, -2, 0).Format("2006-01-02"), testNow.AddDate(0, -1, 0).Format("2006-01-02")
	fromT, _ := time.Parse(time.DateOnly, from)
	untilT, _ := time.Parse(time.DateOnly, until)
	tests := []struct {
		name      string
		query     string
		wantIDs   []int64 // the page's ids in order
		wantCount int
		wantNext  bool
		wantPrev  bool
	}{
		{"default page", "", ids(newest(logistics.Filter{})[:20]), seedRows, true, false},
		{"second page", "page=2", ids(newest(logistics.Filter{})[20:40]), seedRows, true, true},
		{"last partial page", "page=4&page_size=90", ids(newest(logistics.Filter{})[270:]), seedRows, false, true},
		{"page size clamped to 100", "page_size=1000", ids(newest(logistics.Filter{})[:100]), seedRows, true, false},
		{"status", "status=completed&page_size=100", firstN(newest(logistics.Filter{Status: "completed"}), 100),
			len(newest(logistics.Filter{Status: "completed"})), len(newest(logistics.Filter{Status: "completed"})) > 100, false},
		{"customer", "customer=" + url.QueryEscape(someCustomer), firstN(newest(logistics.Filter{Customer: someCustomer}), 20),
			len(newest(logistics.Filter{Customer: someCustomer})), len(newest(logistics.Filter{Customer: someCustomer})) > 20, false},
		{"location", "location=" + url.QueryEscape(someLocation) + "&page_size=5", firstN(newest(logistics.Filter{Location: someLocation}), 5),
			len(newest(logistics.Filter{Location: someLocation})), len(newest(logistics.Filter{Location: someLocation})) > 5, false},
		{"date range, end inclusive", "start_date=" + from + "&end_date=" + until + "&page_size=100",
			firstN(newest(logistics.Filter{From: fromT, Until: untilT.AddDate(0, 0, 1)}), 100),
			len(newest(logistics.Filter{From: fromT, Until: untilT.AddDate(0, 0, 1)})), false, false},
		{"nothing matches", "customer=nobody", []int64{}, 0, false, false},
		{"unknown parameters ignored", "_t=12345", ids(newest(logistics.Filter{})[:20]), seedRows, true, false},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t, nil)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					w := e.do("GET", "/api/goods-received/?"+tt.query, "")
					if w.Code != http.StatusOK {
						t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
					}
					got := decode[listBody](t, w)
					if got.Count != tt.wantCount {
						t.Errorf("count = %d, want %d", got.Count, tt.wantCount)
					}
					if g := ids(got.Results); !slices.Equal(g, tt.wantIDs) {
						t.Errorf("ids = %v\nwant %v", g, tt.wantIDs)
					}
					if (got.Next != nil) != tt.wantNext || (got.Previous != nil) != tt.wantPrev {
						t.Errorf("next %v previous %v, want next %v previous %v", got.Next, got.Previous, tt.wantNext, tt.wantPrev)
					}
				})
			}
			t.Run("next link keeps filters", func(t *testing.T) {
				got := decode[listBody](t, e.do("GET", "/api/goods-received/?status=completed&page_size=5", ""))
				want := "http://example.com/api/goods-received/?page=2&page_size=5&status=completed"
				if got.Next == nil || *got.Next != want {
					t.Errorf("next = %v, want %s", got.Next, want)
				}
			})
		})
	}
}

func firstN(gs []logistics.Goods, n int) []int64 { return ids(gs[:min(n, len(gs))]) }

func TestListBadInput(t *testing.T) {
	tests := []struct {
		query      string
		wantStatus int
		wantField  string
	}{
		{"page=0", 400, "page"},
		{"page=-1", 400, "page"},
		{"page=abc", 400, "page"},
		{"page=1.5", 400, "page"},
		{"page=99", 404, "page"}, // past the end, as DRF
		{"page_size=0", 400, "page_size"},
		{"page_size=ten", 400, "page_size"},
		{"status=shipped", 400, "status"},
		{"start_date=2026-13-01", 400, "start_date"},
		{"end_date=yesterday", 400, "end_date"},
		{"start_date=2026-03-10&end_date=2026-03-01", 400, "end_date"},
		{"customer=%ff%fe", 400, "customer"},
		{"location=" + strings.Repeat("x", 201), 400, "location"},
		{"page=%zz", 400, "query"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t, nil)
			for _, tt := range tests {
				t.Run(tt.query, func(t *testing.T) {
					w := e.do("GET", "/api/goods-received/?"+tt.query, "")
					got := decode[errBody](t, w)
					if w.Code != tt.wantStatus || got.Field != tt.wantField || got.Error == "" {
						t.Errorf("got %d %+v, want %d naming field %q", w.Code, got, tt.wantStatus, tt.wantField)
					}
				})
			}
		})
	}
}

func TestGoodsLifecycle(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t, nil)
			// Detail of a seeded goods carries its tracking updates, newest first.
			w := e.do("GET", "/api/goods-received/5/", "")
			d := decode[logistics.GoodsDetail](t, w)
			if w.Code != 200 || d.ID != 5 || d.Customer != seeded()[4].Customer || len(d.TrackingUpdates) == 0 {
				t.Fatalf("detail: %d %+v", w.Code, d)
			}
			if !slices.IsSortedFunc(d.TrackingUpdates, func(a, b logistics.TrackingUpdate) int { return b.CreatedAt.Compare(a.CreatedAt) }) {
				t.Errorf("tracking updates not newest first: %+v", d.TrackingUpdates)
			}

			w = e.do("POST", "/api/goods-received/", `{"customer":"Test Buyer","location":"Yiwu market","quantity":3,"cbm":1.5,"description":"Bicycles"}`)
			created := decode[logistics.Goods](t, w)
			if w.Code != 201 || created.ID <= seedRows || created.Status != "pending" || created.Quantity != 3 || created.CBM != 1.5 {
				t.Fatalf("create: %d %s", w.Code, w.Body)
			}
			if loc := w.Header().Get("Location"); loc != fmt.Sprintf("/api/goods-received/%d/", created.ID) {
				t.Errorf("Location = %q", loc)
			}
			path := fmt.Sprintf("/api/goods-received/%d/", created.ID)

			w = e.do("PATCH", path, `{"status":"received","quantity":4}`)
			patched := decode[logistics.Goods](t, w)
			if w.Code != 200 || patched.Status != "received" || patched.Quantity != 4 || patched.Customer != "Test Buyer" {
				t.Errorf("patch: %d %s", w.Code, w.Body)
			}

			w = e.do("POST", "/api/tracking-updates/", fmt.Sprintf(`{"goods_id":%d,"status":"in_transit","location":"Port of Shanghai","notes":"Load testing update"}`, created.ID))
			u := decode[logistics.TrackingUpdate](t, w)
			if w.Code != 201 || u.GoodsID != created.ID || u.Status != "in_transit" || u.ID == 0 {
				t.Errorf("tracking update: %d %s", w.Code, w.Body)
			}
			d = decode[logistics.GoodsDetail](t, e.do("GET", path, ""))
			if d.Status != "in_transit" || d.Location != "Port of Shanghai" || len(d.TrackingUpdates) != 1 || d.TrackingUpdates[0].Notes != "Load testing update" {
				t.Errorf("detail after tracking update: %+v", d)
			}

			if w = e.do("DELETE", path, ""); w.Code != 204 || w.Body.Len() != 0 {
				t.Errorf("delete: %d %q", w.Code, w.Body)
			}
			for _, method := range []string{"GET", "DELETE"} {
				if w = e.do(method, path, ""); w.Code != 404 {
					t.Errorf("%s after delete: %d, want 404", method, w.Code)
				}
			}
			if w = e.do("PATCH", path, `{"status":"completed"}`); w.Code != 404 {
				t.Errorf("PATCH after delete: %d, want 404", w.Code)
			}
		})
	}
}

// badRequest is one request that must be refused with a status and an
// error naming a field.
type badRequest struct {
	name, method, path, body string
	wantStatus               int
	wantField                string
}

// check sends the request and returns the error message.
func (tt badRequest) check(t *testing.T, e *env) string {
	t.Helper()
	w := e.do(tt.method, tt.path, tt.body)
	got := decode[errBody](t, w)
	if w.Code != tt.wantStatus || got.Field != tt.wantField || got.Error == "" {
		t.Errorf("got %d %+v, want %d naming field %q", w.Code, got, tt.wantStatus, tt.wantField)
	}
	return got.Error
}

func TestWriteBadInput(t *testing.T) {
	tests := []badRequest{
		{"detail id not a number", "GET", "/api/goods-received/abc/", "", 400, "id"},
		{"detail id zero", "GET", "/api/goods-received/0/", "", 400, "id"},
		{"detail unknown", "GET", "/api/goods-received/999999/", "", 404, ""},
		{"create without customer", "POST", "/api/goods-received/", `{"location":"Tema port"}`, 400, "customer"},
		{"create empty customer", "POST", "/api/goods-received/", `{"customer":"","location":"Tema port"}`, 400, "customer"},
		{"create quantity as string", "POST", "/api/goods-received/", `{"customer":"a","location":"b","quantity":"3"}`, 400, "quantity"},
		{"create quantity zero", "POST", "/api/goods-received/", `{"customer":"a","location":"b","quantity":0}`, 400, "quantity"},
		{"create negative cbm", "POST", "/api/goods-received/", `{"customer":"a","location":"b","cbm":-1}`, 400, "cbm"},
		{"create bad status", "POST", "/api/goods-received/", `{"customer":"a","location":"b","status":"lost"}`, 400, "status"},
		{"patch nothing", "PATCH", "/api/goods-received/3/", `{}`, 400, "body"},
		{"patch shipping mark", "PATCH", "/api/goods-received/3/", `{"shipping_mark":"X"}`, 400, "shipping_mark"},
		{"patch unknown", "PATCH", "/api/goods-received/999999/", `{"status":"completed"}`, 404, ""},
		{"tracking goods_id as string", "POST", "/api/tracking-updates/", `{"goods_id":"5","status":"in_transit","location":"x"}`, 400, "goods_id"},
		{"tracking goods_id fraction", "POST", "/api/tracking-updates/", `{"goods_id":5.5,"status":"in_transit","location":"x"}`, 400, "goods_id"},
		{"tracking goods_id missing", "POST", "/api/tracking-updates/", `{"status":"in_transit","location":"x"}`, 400, "goods_id"},
		{"tracking unknown goods", "POST", "/api/tracking-updates/", `{"goods_id":999999,"status":"in_transit","location":"x"}`, 400, "goods_id"},
		{"tracking bad status", "POST", "/api/tracking-updates/", `{"goods_id":5,"status":"flying","location":"x"}`, 400, "status"},
		{"tracking no location", "POST", "/api/tracking-updates/", `{"goods_id":5,"status":"in_transit"}`, 400, "location"},
		{"delete unknown", "DELETE", "/api/goods-received/999999/", "", 404, ""},
		{"unknown route", "GET", "/api/shipments/", "", 404, ""},
		{"wrong method", "PUT", "/api/goods-received/3/", `{}`, 405, ""},
		{"wrong method on a list", "DELETE", "/api/goods-received/", "", 405, ""},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t, nil)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.check(t, e) })
			}
		})
	}
}

func TestDashboard(t *testing.T) {
	all := seeded()
	byStatus := map[string]int{}
	for _, g := range all {
		byStatus[g.Status]++
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t, nil)
			w := e.do("GET", "/api/dashboard/stats/", "")
			st := decode[logistics.Stats](t, w)
			if w.Code != 200 || st.TotalShipments != seedRows || st.PendingShipments != byStatus["pending"] ||
				st.InTransitShipments != byStatus["in_transit"] || st.CompletedShipments != byStatus["completed"] {
				t.Errorf("stats: %d %+v, want total %d and %v", w.Code, st, seedRows, byStatus)
			}
			if len(st.MonthlyVolume) != 12 || st.MonthlyVolume[11].Month != "2026-03" {
				t.Errorf("monthly volume: %+v", st.MonthlyVolume)
			}
			months := 0
			for _, m := range st.MonthlyVolume {
				months += m.Count
			}
			if want := len(newest(logistics.Filter{From: logistics.StatsWindow(testNow)})); months != want {
				t.Errorf("monthly volumes add up to %d, want %d", months, want)
			}
			if len(st.TopCustomers) != logistics.TopCustomers || st.TopCustomers[0].Count < st.TopCustomers[4].Count {
				t.Errorf("top customers: %+v", st.TopCustomers)
			}

			w = e.do("GET", "/api/dashboard/charts/", "")
			ch := decode[logistics.Charts](t, w)
			days := 0
			for _, d := range ch.DailyVolumes {
				days += d.Count
			}
			if want := len(newest(logistics.Filter{From: logistics.ChartWindow(testNow)})); w.Code != 200 || days != want ||
				len(ch.DailyVolumes) != 30 || ch.DailyVolumes[29].Date != "2026-03-15" {
				t.Errorf("charts: %d, %d days adding to %d (want %d): %+v", w.Code, len(ch.DailyVolumes), days, want, ch.DailyVolumes)
			}
			for _, sc := range ch.StatusBreakdown {
				if sc.Count != byStatus[sc.Status] {
					t.Errorf("status %s: %d, want %d", sc.Status, sc.Count, byStatus[sc.Status])
				}
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t, memoryStore(), nil, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		if w := e.do("GET", path, "", "Authorization", ""); w.Code != 200 {
			t.Errorf("%s: %d", path, w.Code)
		}
	}
	e.do("GET", "/api/goods-received/12/", "")
	e.do("GET", "/api/goods-received/13/", "")
	e.do("GET", "/api/goods-received/999999/", "") // same route, another status
	e.do("HEAD", "/api/goods-received/12/", "")    // a GET route answering HEAD: its own method label
	e.do("GET", "/no/such/route", "")
	if w := e.do("PUT", "/api/goods-received/3/", "{}"); w.Code != 405 || w.Header().Get("Allow") != "GET, PATCH, DELETE" {
		t.Errorf("PUT on an item: %d, Allow %q; want 405 and GET, PATCH, DELETE", w.Code, w.Header().Get("Allow"))
	}
	body := e.do("GET", "/metrics", "", "Authorization", "").Body.String()
	for _, want := range []string{
		`primepre_http_requests_total{method="GET",route="/api/goods-received/{id}/",status="200"} 2`,
		`primepre_http_request_duration_seconds_count{method="GET",route="/api/goods-received/{id}/",status="200"} 2`,
		`primepre_http_requests_total{method="GET",route="/api/goods-received/{id}/",status="404"} 1`,
		`primepre_http_requests_total{method="HEAD",route="/api/goods-received/{id}/",status="200"} 1`,
		`primepre_http_requests_total{method="PUT",route="/api/goods-received/{id}/",status="405"} 1`,
		`primepre_http_requests_in_flight 1`, // the /metrics request itself
		`primepre_store_query_duration_seconds_count{op="get"} 4`,
		`primepre_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestListRepeated checks that a list answer served again (the server keeps
// the last one rendered) follows each request's host, query and scheme and
// never outlives a write.
func TestListRepeated(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t, nil)
			steps := []struct {
				name, method, path, host, body string
				wantCount                      int
				wantNext                       string
			}{
				{"first", "GET", "/api/goods-received/", "example.com", "", seedRows, "http://example.com/api/goods-received/?page=2"},
				{"same again", "GET", "/api/goods-received/", "example.com", "", seedRows, "http://example.com/api/goods-received/?page=2"},
				{"other host", "GET", "/api/goods-received/", "127.0.0.1:9", "", seedRows, "http://127.0.0.1:9/api/goods-received/?page=2"},
				{"other query", "GET", "/api/goods-received/?page_size=7", "127.0.0.1:9", "", seedRows, "http://127.0.0.1:9/api/goods-received/?page=2&page_size=7"},
				{"write", "POST", "/api/goods-received/", "127.0.0.1:9", `{"customer":"Repeat Buyer","location":"Tema port"}`, 0, ""},
				{"after the write", "GET", "/api/goods-received/?page_size=7", "127.0.0.1:9", "", seedRows + 1, "http://127.0.0.1:9/api/goods-received/?page=2&page_size=7"},
			}
			for _, st := range steps {
				w := e.do(st.method, st.path, st.body, "Host", st.host)
				if st.method != "GET" {
					if w.Code != http.StatusCreated {
						t.Fatalf("%s: status %d, want 201: %s", st.name, w.Code, w.Body)
					}
					continue
				}
				if w.Code != http.StatusOK {
					t.Fatalf("%s: status %d, want 200: %s", st.name, w.Code, w.Body)
				}
				if got, want := w.Header().Get("Content-Length"), fmt.Sprint(w.Body.Len()); got != want {
					t.Errorf("%s: Content-Length %s, body has %s bytes", st.name, got, want)
				}
				got := decode[listBody](t, w)
				if got.Count != st.wantCount {
					t.Errorf("%s: count = %d, want %d", st.name, got.Count, st.wantCount)
				}
				if got.Next == nil || *got.Next != st.wantNext {
					t.Errorf("%s: next = %s, want %s", st.name, deref(got.Next), st.wantNext)
				}
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// TestMetricLabelsBounded sends what an anonymous attacker can: made-up
// methods on made-up and real paths. Each used to become a series of its
// own (20k methods made /metrics 35 MB); now they share one "other" label.
func TestMetricLabelsBounded(t *testing.T) {
	e := newEnv(t, memoryStore(), nil, nil)
	series := func() (n int, size int) {
		body := e.do("GET", "/metrics", "", "Authorization", "").Body.String()
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "primepre_http_requests_total{") {
				n++
			}
		}
		return n, len(body)
	}
	// One request of each kind first, so every bounded series exists.
	paths := []string{"/api/goods-received/", "/api/goods-received/7/", "/healthz", "/no/such/route"}
	for _, p := range paths {
		e.do("XPROBE", p, "", "Authorization", "")
	}
	series() // counts the /metrics request itself
	before, sizeBefore := series()
	const n = 2000
	for i := range n {
		method := fmt.Sprintf("M%dX", i)
		path := paths[i%len(paths)]
		if i%2 == 1 {
			path = fmt.Sprintf("/random/%d/path", i)
		}
		if w := e.do(method, path, "", "Authorization", ""); w.Code < 400 {
			t.Fatalf("%s %s answered %d", method, path, w.Code)
		}
	}
	after, sizeAfter := series()
	t.Logf("series %d -> %d, /metrics %d -> %d bytes after %d made-up methods", before, after, sizeBefore, sizeAfter, n)
	if after != before {
		t.Errorf("%d made-up methods grew the request series from %d to %d", n, before, after)
	}
	if got := e.metric(t, `primepre_http_requests_total{method="other"`); got != n+float64(len(paths)) {
		t.Errorf("requests counted under method other: %v, want %d", got, n+len(paths))
	}
}

// TestNULRejected puts a NUL character in every free-text field and filter.
// PostgreSQL cannot store one in text and answered 500 while the memory
// store took it; every store must answer the same 400 naming the field.
func TestNULRejected(t *testing.T) {
	nul := string(rune(0))
	jsonNUL := `a\u0000b` // how JSON spells it
	// A raw NUL byte is not valid JSON at all; encoding/json names it "\x00".
	req := func(name, method, path, body, field string) badRequest {
		return badRequest{name, method, path, body, 400, field}
	}
	var tests []badRequest
	for _, f := range []string{"customer", "location"} {
		for _, v := range []string{"%00", "a%00b"} {
			tests = append(tests, req("list "+f+"="+v, "GET", "/api/goods-received/?"+f+"="+v, "", f))
		}
	}
	create := map[string]string{"customer": "c", "location": "l", "description": "d", "shipping_mark": "m"}
	for f := range create {
		body := map[string]string{}
		for k, v := range create {
			body[k] = v
		}
		body[f] = "__NUL__"
		js := strings.Replace(jsonBody(body), "__NUL__", jsonNUL, 1)
		tests = append(tests,
			req("create "+f, "POST", "/api/goods-received/", js, f),
			req("create "+f+" raw", "POST", "/api/goods-received/", strings.Replace(jsonBody(body), "__NUL__", "x"+nul, 1), "body"))
		if f != "shipping_mark" {
			tests = append(tests, req("patch "+f, "PATCH", "/api/goods-received/3/", `{"`+f+`":"`+jsonNUL+`"}`, f))
		}
	}
	for _, f := range []string{"location", "notes"} {
		body := map[string]any{"goods_id": 5, "status": "in_transit", "location": "x"}
		body[f] = "__NUL__"
		tests = append(tests, req("tracking "+f, "POST", "/api/tracking-updates/", strings.Replace(jsonBody(body), "__NUL__", jsonNUL, 1), f))
	}
	for _, f := range []string{"username", "password"} {
		body := map[string]string{"username": "demo", "password": "demo-pass"}
		body[f] = "__NUL__"
		tests = append(tests, req("login "+f, "POST", "/api/auth/login/", strings.Replace(jsonBody(body), "__NUL__", jsonNUL, 1), f))
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t, nil)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if msg := tt.check(t, e); !strings.Contains(msg, "NUL") && !strings.Contains(msg, `'\x00'`) {
						t.Errorf("error %q does not say a NUL is the problem", msg)
					}
				})
			}
			// Nothing half-written: the list is as seeded.
			if n := decode[listBody](t, e.do("GET", "/api/goods-received/", "")).Count; n != seedRows {
				t.Errorf("%d goods after the rejected writes, want %d", n, seedRows)
			}
		})
	}
}
