//go:build !race

package capacity

// raceEnabled is false: timings are the code's own.
const raceEnabled = false
