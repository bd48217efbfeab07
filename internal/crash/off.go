//go:build !crashpoints

// Package crash marks the points where the fault tests pull the plug. In
// this build (without -tags crashpoints) a point does nothing: the shipped
// binary cannot be made to kill itself. See crash.go.
package crash

// Point marks a place where a test may kill the process; here, a no-op.
func Point(string) {}
