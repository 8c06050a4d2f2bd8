//go:build !race

package runner

// raceEnabled is false: allocation counts are the code's own.
const raceEnabled = false
