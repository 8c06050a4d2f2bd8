package main

import "testing"

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		wantErr bool
	}{
		{"127.0.0.1:8080", false},
		{"[::1]:8080", false},
		{"0.0.0.0:8080", true},   // every interface
		{":8080", true},          // every interface, written short
		{"localhost:8080", true}, // a name can resolve anywhere
		{"10.0.0.1:8080", true},
		{"127.0.0.1", true}, // no port
	}
	for _, tt := range tests {
		err := checkLoopback(tt.addr)
		if got := err != nil; got != tt.wantErr {
			t.Errorf("checkLoopback(%q) error = %v, want error %v", tt.addr, err, tt.wantErr)
		}
	}
}
