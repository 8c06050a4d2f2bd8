package target

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/target/cache"
	"github.com/primeload/primeload/target/logistics"
	"github.com/primeload/primeload/target/memstore"
)

// countingListener counts the write calls made on its connections.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, writes: l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestBatchedWrites checks over a real socket that an answer larger than
// net/http's 4 KB connection buffer leaves in one write call, and that
// answers still arrive whole.
func TestBatchedWrites(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	srv, err := New(Config{Store: memstore.New(logistics.Generate(300, now, 1)), Cache: cache.NewMemory(0, nil),
		Token: "t", BcryptCost: 4, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int64
	hs := srv.HTTPServer()
	done := make(chan error, 1)
	go func() { done <- hs.Serve(newBatchListener(countingListener{Listener: ln, writes: &writes})) }()
	t.Cleanup(func() {
		hs.Close()
		<-done
	})
	base := "http://" + ln.Addr().String()

	tests := []struct {
		path        string
		minBodySize int // so the row really tests what it names
		maxBodySize int
	}{
		{"/healthz", 1, 100},                                // small: one write without batching too
		{"/api/goods-received/", 4 << 10, 16 << 10},         // the default page, about 6 KB
		{"/api/goods-received/?page_size=100", 16 << 10, 0}, // several times the buffer
		{"/api/goods-received/", 4 << 10, 16 << 10},         // again, from the last rendered answer
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(context.Background(), "GET", base+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer t")
		writes.Store(0)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, err %v", tt.path, resp.StatusCode, err)
		}
		if n := len(body); n < tt.minBodySize || (tt.maxBodySize > 0 && n > tt.maxBodySize) {
			t.Errorf("GET %s: body of %d bytes, want %d to %d: the row no longer tests its size", tt.path, n, tt.minBodySize, tt.maxBodySize)
		}
		if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(body)); got != want || resp.TransferEncoding != nil {
			t.Errorf("GET %s: Content-Length %s, transfer encoding %v; want %s and none", tt.path, got, resp.TransferEncoding, want)
		}
		if got := writes.Load(); got != 1 {
			t.Errorf("GET %s (%d bytes): %d write calls, want 1", tt.path, len(body), got)
		}
	}
}
