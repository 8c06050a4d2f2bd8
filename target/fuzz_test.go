package target_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzRoutes are the JSON handlers the fuzzer aims at; ids are fixed so the
// fuzzer spends its time on queries and bodies.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/api/auth/login/"},
	{"GET", "/api/goods-received/"},
	{"POST", "/api/goods-received/"},
	{"GET", "/api/goods-received/7/"},
	{"PATCH", "/api/goods-received/8/"},
	{"POST", "/api/tracking-updates/"},
	{"GET", "/api/dashboard/stats/"},
	{"DELETE", "/api/goods-received/9/"},
}

// FuzzHandlers sends arbitrary query strings and bodies to the JSON
// handlers. Whatever arrives, the answer is JSON, never a 5xx, and every
// error names what was wrong.
func FuzzHandlers(f *testing.F) {
	f.Add(uint8(0), "", []byte(`{"username":"demo","password":"demo-pass"}`))
	f.Add(uint8(1), "page=2&page_size=5&status=pending&customer=Kumasi+Textiles&start_date=2025-04-01&end_date=2026-01-01", []byte(nil))
	f.Add(uint8(2), "", []byte(`{"customer":"a","location":"b","quantity":2,"cbm":1.25,"weight_kg":3,"status":"received"}`))
	f.Add(uint8(4), "", []byte(`{"status":"completed","quantity":1e309}`))
	f.Add(uint8(5), "", []byte(`{"goods_id":7,"status":"in_transit","location":"Port of Shanghai","notes":"Load testing update"}`))
	f.Add(uint8(5), "", []byte("{\"goods_id\":\"7\",\"status\":\"\xff\"}"))
	f.Add(uint8(1), "page=%zz&customer=%ff", []byte(nil))
	f.Add(uint8(2), "customer=%00", []byte(`{"customer":"a\u0000b","location":"b"}`))
	e := newEnv(f, memoryStore(), nil, nil)
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		target := r.path + "?" + query
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(string(body)))
		req.URL.RawQuery = query // raw, as a hostile client may send it
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(w, req)

		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, target, body, w.Code, w.Body)
		}
		if w.Code == 204 {
			return
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: %d answered %q %q", r.method, target, w.Code, ct, w.Body)
		}
		if w.Code >= 400 {
			var eb errBody
			json.Unmarshal(w.Body.Bytes(), &eb)
			if eb.Error == "" {
				t.Fatalf("%s %s: %d without an error message: %s", r.method, target, w.Code, w.Body)
			}
		}
	})
}
