package ingest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"palate"
)

// NPY is an open NumPy .npy array of float32 or float16 rows, read row by
// row so that an array larger than memory can be imported.
type NPY struct {
	Rows, Cols int
	DType      string // "<f4" or "<f2"
	r          *bufio.Reader
	name       string
	buf        []byte
	row        int
}

var (
	npyMagic  = []byte("\x93NUMPY")
	descrRE   = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	fortranRE = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	shapeRE   = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// OpenNPY reads the header of the .npy data in r (named name in errors).
// It accepts version 1, 2 and 3 files holding a 2-D, C-order array of
// little-endian float32 ('<f4') or float16 ('<f2'); anything else is an
// EINVALID error that says what the file holds and how to convert it.
func OpenNPY(r io.Reader, name string) (*NPY, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	pre := make([]byte, 8)
	if _, err := io.ReadFull(br, pre); err != nil || string(pre[:6]) != string(npyMagic) {
		return nil, palate.Errorf(palate.EINVALID, "%s: not a NumPy .npy file (no \\x93NUMPY magic)", name)
	}
	var hlen int
	switch pre[6] {
	case 1:
		b := make([]byte, 2)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, palate.Errorf(palate.EINVALID, "%s: header ends early", name)
		}
		hlen = int(binary.LittleEndian.Uint16(b))
	case 2, 3:
		b := make([]byte, 4)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, palate.Errorf(palate.EINVALID, "%s: header ends early", name)
		}
		hlen = int(binary.LittleEndian.Uint32(b))
	default:
		return nil, palate.Errorf(palate.EINVALID, "%s: .npy format version %d.%d; want 1, 2 or 3", name, pre[6], pre[7])
	}
	if hlen > 1<<20 {
		return nil, palate.Errorf(palate.EINVALID, "%s: header of %d bytes", name, hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, palate.Errorf(palate.EINVALID, "%s: header ends early", name)
	}
	h := string(hb)
	bad := func(format string, args ...any) error {
		return palate.Errorf(palate.EINVALID, "%s: %s (header %s)", name, fmt.Sprintf(format, args...), strings.TrimSpace(h))
	}
	d, f, s := descrRE.FindStringSubmatch(h), fortranRE.FindStringSubmatch(h), shapeRE.FindStringSubmatch(h)
	if d == nil || f == nil || s == nil {
		return nil, bad("header lacks descr, fortran_order or shape")
	}
	n := &NPY{DType: d[1], r: br, name: name}
	switch d[1] {
	case "<f4", "<f2":
	case ">f4", ">f2":
		return nil, bad("big-endian floats; save x.astype('<f4')")
	default:
		return nil, bad("dtype %s; want float32 or float16, e.g. np.save(path, x.astype(np.float32))", d[1])
	}
	if f[1] == "True" {
		return nil, bad("Fortran order; save np.ascontiguousarray(x)")
	}
	var dims []int
	for _, p := range strings.Split(s[1], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return nil, bad("shape entry %q", p)
		}
		dims = append(dims, v)
	}
	if len(dims) != 2 {
		return nil, bad("%d-D array; want 2-D (images × dimension)", len(dims))
	}
	if dims[1] == 0 {
		return nil, bad("rows of length 0")
	}
	const maxCols = 1 << 20
	if dims[1] > maxCols {
		return nil, bad("rows of %d values; at most %d are read", dims[1], maxCols)
	}
	n.Rows, n.Cols = dims[0], dims[1]
	n.buf = make([]byte, n.Cols*n.elemSize())
	return n, nil
}

func (n *NPY) elemSize() int {
	if n.DType == "<f2" {
		return 2
	}
	return 4
}

// Next reads the next row into dst (len Cols) as float32. Returns io.EOF
// after the last row and EINVALID when the data ends early.
func (n *NPY) Next(dst []float32) error {
	if n.row == n.Rows {
		return io.EOF
	}
	if _, err := io.ReadFull(n.r, n.buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return palate.Errorf(palate.EINVALID, "%s: data ends in row %d of %d", n.name, n.row, n.Rows)
		}
		return palate.Errorf(palate.EINTERNAL, "%s: %w", n.name, err)
	}
	if n.DType == "<f2" {
		for i := range dst {
			dst[i] = Float16(binary.LittleEndian.Uint16(n.buf[2*i:]))
		}
	} else {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(n.buf[4*i:]))
		}
	}
	n.row++
	return nil
}

// Float16 converts IEEE 754 half-precision bits to float32, exactly
// (subnormals, infinities and NaN included).
func Float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac × 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			return -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
