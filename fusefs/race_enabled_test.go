//go:build race

package fusefs

// raceEnabled is set when tests run under the race detector, which makes
// them several times slower: stress tests do fewer iterations.
const raceEnabled = true
