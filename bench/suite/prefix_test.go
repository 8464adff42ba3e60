package suite

import (
	"bytes"
	"sync"
	"testing"
)

// Lines reach the log whole and prefixed, however the writes split them.
func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := newPrefixWriter(&out, &mu, "[a] ")
	for _, s := range []string{"step 1", " loss 0.5\nstep", " 2\n", "\n", "tail"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if want := "[a] step 1 loss 0.5\n[a] step 2\n[a] \n"; out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}
