//go:build race

package app

// raceEnabled is true under the race detector, which makes tests that
// measure the heap twenty times slower and their figures meaningless.
const raceEnabled = true
