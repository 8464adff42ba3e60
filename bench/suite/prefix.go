package suite

import (
	"bytes"
	"io"
	"sync"
)

// logMu serialises the bench's own lines and the prefixed writers' lines
// onto their shared log.
var logMu sync.Mutex

// prefixWriter writes whole lines to w, each behind prefix, so that the
// progress of training runs going at once can be told apart. A partial
// line waits for its newline.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func newPrefixWriter(w io.Writer, prefix string) *prefixWriter {
	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		logMu.Lock()
		_, err := io.WriteString(p.w, p.prefix+string(p.buf[:i+1]))
		logMu.Unlock()
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}
