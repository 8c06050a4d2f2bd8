//go:build !race

package cmd

// raceEnabled is false: timings are the code's own.
const raceEnabled = false
