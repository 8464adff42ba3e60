package features

// Ridge and Dot expose the probe helpers to the external tests
// (worldprobe_test.go).
var (
	Ridge = ridge
	Dot   = dot
)
