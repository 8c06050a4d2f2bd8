package pgstore

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/primeload/primeload/target/logistics"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		name            string
		err             error
		wantNotFound    bool
		wantUnavailable bool
	}{
		{"no rows", pgx.ErrNoRows, true, false},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, false, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, false, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, false, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false, false},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false, true},
		{"reset", syscall.ECONNRESET, false, true},
		{"cut off", io.ErrUnexpectedEOF, false, true},
		{"deadline", context.DeadlineExceeded, false, true},
		{"closed pool", errors.New("closed pool"), false, true},
		{"other", errors.New("cannot scan NULL into *string"), false, false},
	}
	for _, tt := range tests {
		err := wrap("op", tt.err)
		if got := errors.Is(err, logistics.ErrNotFound); got != tt.wantNotFound {
			t.Errorf("%s: not found = %v, want %v", tt.name, got, tt.wantNotFound)
		}
		if got := errors.Is(err, logistics.ErrUnavailable); got != tt.wantUnavailable {
			t.Errorf("%s: unavailable = %v, want %v", tt.name, got, tt.wantUnavailable)
		}
		if !errors.Is(err, tt.err) && tt.err != pgx.ErrNoRows {
			t.Errorf("%s: the cause is lost: %v", tt.name, err)
		}
	}
	if wrap("op", nil) != nil {
		t.Error("wrap(nil) is not nil")
	}
}
