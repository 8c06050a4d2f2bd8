package runner

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/scenario"
)

// TestStaticURLSentAsWritten: a static URL is parsed once and its parsed
// form reused (setURI); every user still sends it as the script wrote it,
// a redirect followed by one user does not move the next, and the path is
// never normalized.
func TestStaticURLSentAsWritten(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.RequestURI]++
		mu.Unlock()
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b?x=1", http.StatusFound)
		}
	})
	const users = 4
	flow := []scenario.Step{get("/a"), get("/a/../c"), get(srv.URL + "/abs"), get("/a")}
	run(t, newScript(srv.URL, []scenario.Phase{count(users, 100*time.Millisecond)}, flow), Options{})
	want := map[string]int{"/a": 2 * users, "/b?x=1": 2 * users, "/a/../c": users, "/abs": users}
	mu.Lock()
	defer mu.Unlock()
	for uri, n := range want {
		if seen[uri] != n {
			t.Errorf("%s: %d requests, want %d", uri, seen[uri], n)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("requests to %v, want only %v", seen, want)
	}
}
