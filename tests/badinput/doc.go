// Package badinput holds the bad-input matrix: every kind of damaged
// checkpoint, config or file the issue lists, each placed beside a good
// model in a store that is mounted for real. The tests are in
// badinput_test.go; RELIABILITY.md lists the rows and what a user sees.
package badinput
