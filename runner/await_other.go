//go:build !linux

package runner

// canAwait is false where peeking at a socket is not written: the exchange
// takes its read buffer before the answer comes, and only a Keep-Alive
// timeout keeps an idle connection the server closed from being reused.
const canAwait = false

// answered is never called where canAwait is false.
func answered(uintptr) bool { return true }
