package modelpub

import (
	"archive/tar"
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"palate"
	"palate/internal/testmodel"
	"palate/memstore"
	"palate/train"
)

func TestPackOpenRoundTrip(t *testing.T) {
	dir := testmodel.Dir(t, 7)
	rec, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d{8}T\d{4}-[0-9a-f]{8}$`).MatchString(rec.Version) {
		t.Errorf("version %q", rec.Version)
	}
	if rec.Embedder != "pixels-v3" || len(rec.Summary) == 0 {
		t.Errorf("record %+v", rec)
	}
	again, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Archive, rec.Archive) {
		t.Error("packing twice gave different archives")
	}
	// The checkpoint records no finish time: a version names one record,
	// or publishing twice within a minute would be a conflict.
	if again.Version == rec.Version && !again.Created.Equal(rec.Created) {
		t.Errorf("version %s packed twice with created %v and %v", rec.Version, rec.Created, again.Created)
	}
	s := memstore.New()
	for _, r := range []*palate.ModelRecord{rec, again} {
		if err := s.PublishModel(context.Background(), r); err != nil {
			t.Fatalf("publishing %s: %v", r.Version, err)
		}
	}
	ck, err := Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	want, err := train.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, w := range want.Weights {
		if !slices.Equal(ck.Weights[path], w) {
			t.Fatalf("weights of %s differ after the round trip", path)
		}
	}
}

func TestUnpackRefusesBadArchives(t *testing.T) {
	good, err := Pack(testmodel.Dir(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	tarOf := func(entries ...[2]string) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, e := range entries {
			tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg})
			tw.Write([]byte(e[1]))
		}
		tw.Close()
		return b.Bytes()
	}
	// A weights file changed after packing: Unpack writes it, Load refuses it.
	var tampered bytes.Buffer
	tw := tar.NewWriter(&tampered)
	tr := tar.NewReader(bytes.NewReader(good.Archive))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		var data bytes.Buffer
		data.ReadFrom(tr)
		b := data.Bytes()
		if h.Name == train.WeightsFile {
			b[0] ^= 1
		}
		tw.WriteHeader(h)
		tw.Write(b)
	}
	tw.Close()
	tests := map[string]struct {
		archive []byte
		want    string
	}{
		"escape":   {tarOf([2]string{"../evil", "x"}), `unexpected file "../evil"`},
		"missing":  {tarOf([2]string{train.ConfigFile, "{}"}), "no weights.bin"},
		"twice":    {tarOf([2]string{train.ConfigFile, "{}"}, [2]string{train.ConfigFile, "{}"}), "appears twice"},
		"not tar":  {[]byte("hello, this is not a tar archive at all, not even close to one...."), "archive"},
		"tampered": {tampered.Bytes(), "checksum"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Open(&palate.ModelRecord{Version: "v", Archive: tc.archive})
			if palate.ErrorCode(err) != palate.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want EINVALID naming %q", err, tc.want)
			}
		})
	}
	if _, err := Pack(filepath.Join(t.TempDir(), "none")); palate.ErrorCode(err) != palate.ENOTFOUND {
		t.Fatalf("Pack of a missing dir: %v", err)
	}
}
