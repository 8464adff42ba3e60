package suite

import (
	"bytes"
	"io"
	"sync"
)

// prefixWriter writes whole lines to w, each behind prefix, so that the
// progress of training runs going at once can be told apart. A partial
// line waits for its newline. mu, shared by every writer of w, keeps lines
// whole.
type prefixWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	buf    []byte
}

func newPrefixWriter(w io.Writer, mu *sync.Mutex, prefix string) *prefixWriter {
	return &prefixWriter{w: w, mu: mu, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		p.mu.Lock()
		_, err := io.WriteString(p.w, p.prefix+string(p.buf[:i+1]))
		p.mu.Unlock()
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}
