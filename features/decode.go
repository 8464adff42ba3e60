package features

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"io/fs"
	"os"

	_ "golang.org/x/image/webp" // register WebP (lossy and lossless)

	"palate"
)

// Limits bounds what Decode accepts, so that a hostile or mistaken upload
// cannot exhaust memory: MaxBytes bounds the encoded file, MaxPixels the
// decoded width×height, which is checked from the header before any pixel
// buffer is allocated (a 40-byte PNG can claim 100000×100000). A zero or
// negative field means the DefaultLimits value.
type Limits struct {
	MaxBytes  int64
	MaxPixels int
}

// DefaultLimits fit any photo from a phone or camera (40 megapixels is
// 160 MB decoded as RGBA) while refusing decompression bombs.
var DefaultLimits = Limits{MaxBytes: 32 << 20, MaxPixels: 40_000_000}

func (l Limits) resolve() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	return l
}

// Decode reads one PNG, JPEG, WebP or GIF image (the first frame of an
// animated GIF) and returns it with its format name ("png", "jpeg", "webp",
// "gif"). Returns ETOOLARGE if the data is over lim.MaxBytes or the header
// claims more than lim.MaxPixels pixels, and EINVALID if the format is not
// one of those four or the data is corrupt or truncated. A failure to read r
// is returned as is (EINTERNAL).
func Decode(r io.Reader, lim Limits) (image.Image, string, error) {
	lim = lim.resolve()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read image: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, "", palate.Errorf(palate.ETOOLARGE,
			"image data is over the limit of %d bytes", lim.MaxBytes)
	}
	return decodeBytes(data, lim)
}

// DecodeFile is Decode on a file; errors name the path. Returns ETOOLARGE
// naming the file's size if it is over lim.MaxBytes, ENOTFOUND if the file
// does not exist, and otherwise what Decode returns.
func DecodeFile(path string, lim Limits) (image.Image, string, error) {
	lim = lim.resolve()
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", palate.Errorf(palate.ENOTFOUND, "image file %s does not exist", path)
		}
		return nil, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if !st.Mode().IsRegular() {
		return nil, "", palate.Errorf(palate.EINVALID, "%s is not a regular file", path)
	}
	if st.Size() > lim.MaxBytes {
		return nil, "", palate.Errorf(palate.ETOOLARGE,
			"%s is %d bytes, over the limit of %d bytes", path, st.Size(), lim.MaxBytes)
	}
	img, format, err := Decode(f, lim)
	if err != nil {
		return nil, "", prefix(path, err)
	}
	return img, format, nil
}

// decodeBytes checks the header against lim before decoding the pixels.
func decodeBytes(data []byte, lim Limits) (image.Image, string, error) {
	if len(data) == 0 {
		return nil, "", palate.Errorf(palate.EINVALID, "empty image data")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, "", palate.Errorf(palate.EINVALID,
				"unknown image format (want PNG, JPEG, WebP or GIF; data starts % x)", head(data))
		}
		return nil, "", palate.Errorf(palate.EINVALID, "corrupt %s header: %v", format, eofText(err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", palate.Errorf(palate.EINVALID,
			"%s image has empty size %dx%d", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > int64(lim.MaxPixels) {
		return nil, "", palate.Errorf(palate.ETOOLARGE,
			"%s image is %dx%d = %d pixels, over the limit of %d pixels",
			format, cfg.Width, cfg.Height, px, lim.MaxPixels)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", palate.Errorf(palate.EINVALID, "corrupt %s image: %v", format, eofText(err))
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, "", palate.Errorf(palate.EINVALID, "%s image decodes to an empty picture", format)
	}
	return img, format, nil
}

// eofText says "truncated" for the EOF errors that decoders return on data
// cut short, which otherwise read as "unexpected EOF".
func eofText(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "truncated data (" + err.Error() + ")"
	}
	return err.Error()
}

func head(data []byte) []byte {
	if len(data) > 8 {
		return data[:8]
	}
	return data
}

// prefix puts path in front of err's message, keeping its code.
func prefix(path string, err error) error {
	var e *palate.Error
	if errors.As(err, &e) {
		return &palate.Error{Code: e.Code, Message: path + ": " + e.Message, Err: err}
	}
	return fmt.Errorf("%s: %w", path, err)
}
