//go:build race

package capacity

// raceEnabled: the race detector slows every goroutine several times over,
// so tests that measure how fast something runs skip their measurement.
const raceEnabled = true
