package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"palate"
)

// Part is the part of a dataset an interaction belongs to.
type Part int

// The parts. Train is the zero value: with no splits, everything is training
// data.
const (
	Train      Part = iota // learn from it
	Test                   // a known person's later interactions (time split)
	Validation             // a held-out person, for early stopping and model choice
	Unseen                 // a held-out person, for testing on people never trained on
)

// String returns the part's lower-case name, as used in reports.
func (p Part) String() string {
	switch p {
	case Train:
		return "train"
	case Test:
		return "test"
	case Validation:
		return "validation"
	case Unseen:
		return "unseen"
	}
	return fmt.Sprintf("Part(%d)", int(p))
}

// Splits says which interactions a model may learn from, so every tool
// holds out the same ones and results stay comparable.
type Splits struct {
	// UnseenUsers are held out entirely: all their interactions are test data.
	UnseenUsers []string `json:"unseen_users"`
	// ValidationUsers are held out for early stopping and model choice.
	ValidationUsers []string `json:"validation_users"`
	// Cutoff splits everyone else by time: interactions at or after a
	// person's cutoff are test data, earlier ones training data. A person
	// with no cutoff is all training data.
	Cutoff map[string]time.Time `json:"cutoff"`
}

// Part returns the part of the dataset that user's interaction at time t
// belongs to. A nil Splits puts everything in Train. It scans the user lists,
// so for many calls over a large dataset use PartFunc.
func (s *Splits) Part(user string, t time.Time) Part {
	if s == nil {
		return Train
	}
	switch {
	case slices.Contains(s.UnseenUsers, user):
		return Unseen
	case slices.Contains(s.ValidationUsers, user):
		return Validation
	}
	if c, ok := s.Cutoff[user]; ok && !t.Before(c) {
		return Test
	}
	return Train
}

// PartFunc returns a function equivalent to s.Part that looks users up in
// constant time. It is a snapshot: later changes to s do not reach it. It is
// safe for concurrent use.
func (s *Splits) PartFunc() func(user string, t time.Time) Part {
	if s == nil {
		return func(string, time.Time) Part { return Train }
	}
	held := make(map[string]Part, len(s.UnseenUsers)+len(s.ValidationUsers))
	for _, u := range s.ValidationUsers {
		held[u] = Validation
	}
	for _, u := range s.UnseenUsers { // unseen wins, as in Part
		held[u] = Unseen
	}
	cutoff := make(map[string]time.Time, len(s.Cutoff))
	for u, c := range s.Cutoff {
		cutoff[u] = c
	}
	return func(user string, t time.Time) Part {
		if p, ok := held[user]; ok {
			return p
		}
		if c, ok := cutoff[user]; ok && !t.Before(c) {
			return Test
		}
		return Train
	}
}

// splitsFile is the wire form of splits.json; cutoffs stay strings so a bad
// one gets a clear message.
type splitsFile struct {
	UnseenUsers     []string          `json:"unseen_users"`
	ValidationUsers []string          `json:"validation_users"`
	Cutoff          map[string]string `json:"cutoff"`
}

// ReadSplits reads dir/splits.json. It returns nil and no error when the file
// does not exist. It checks the file on its own (see the package doc); that
// the people it names exist is checked by Read. Returns EINVALID naming the
// file, and the line for malformed JSON.
func ReadSplits(dir string) (*Splits, error) {
	path := filepath.Join(dir, SplitsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, palate.Errorf(palate.EINTERNAL, "%s: %w", path, err)
	}
	return parseSplits(path, b)
}

// parseSplits decodes and checks the contents b of the splits file at path.
func parseSplits(path string, b []byte) (*Splits, error) {
	var f splitsFile
	if err := decodeObject(b, &f); err != nil {
		if off := jsonOffset(err); off >= 0 {
			return nil, at(fmt.Sprintf("%s:%d", path, lineOf(b, off)), err)
		}
		return nil, at(path, err)
	}
	s := &Splits{UnseenUsers: f.UnseenUsers, ValidationUsers: f.ValidationUsers}
	if len(f.Cutoff) > 0 {
		s.Cutoff = make(map[string]time.Time, len(f.Cutoff))
		for _, u := range sortedKeys(f.Cutoff) {
			t, err := parseTime(fmt.Sprintf("cutoff for user %q", u), f.Cutoff[u])
			if err != nil {
				return nil, at(path, err)
			}
			s.Cutoff[u] = t
		}
	}
	if err := s.check(); err != nil {
		return nil, at(path, err)
	}
	return s, nil
}

// WriteSplits replaces dir/splits.json atomically, after checking s on its
// own (EINVALID). Use Write to also check s against the people in a dataset.
func WriteSplits(dir string, s *Splits) error {
	if s == nil {
		return invalid("WriteSplits: nil splits")
	}
	if err := s.check(); err != nil {
		return at("splits", err)
	}
	b, err := encodeSplits(s)
	if err != nil {
		return err
	}
	if err := mkdir(dir); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, SplitsFile), b)
}

// encodeSplits returns the contents of a splits file for s: indented, with
// empty lists and map rather than nulls, users in cutoff sorted.
func encodeSplits(s *Splits) ([]byte, error) {
	f := struct {
		UnseenUsers     []string             `json:"unseen_users"`
		ValidationUsers []string             `json:"validation_users"`
		Cutoff          map[string]time.Time `json:"cutoff"`
	}{nonNil(s.UnseenUsers), nonNil(s.ValidationUsers), s.Cutoff}
	if f.Cutoff == nil {
		f.Cutoff = map[string]time.Time{}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, palate.Errorf(palate.EINVALID, "splits: %w", err)
	}
	return append(b, '\n'), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// check applies the rules that need no dataset: no empty or repeated names,
// nobody both unseen and validation, cutoffs writable as RFC 3339.
func (s *Splits) check() error {
	unseen := make(map[string]bool, len(s.UnseenUsers))
	for _, u := range s.UnseenUsers {
		if u == "" {
			return invalid("unseen_users has an empty user")
		}
		if unseen[u] {
			return invalid("unseen_users names user %q twice", u)
		}
		unseen[u] = true
	}
	validation := make(map[string]bool, len(s.ValidationUsers))
	for _, u := range s.ValidationUsers {
		if u == "" {
			return invalid("validation_users has an empty user")
		}
		if validation[u] {
			return invalid("validation_users names user %q twice", u)
		}
		if unseen[u] {
			return invalid("user %q is in both unseen_users and validation_users", u)
		}
		validation[u] = true
	}
	for _, u := range sortedKeys(s.Cutoff) {
		if u == "" {
			return invalid("cutoff has an empty user")
		}
		if y := s.Cutoff[u].Year(); y < 0 || y > 9999 {
			return invalid("cutoff for user %q: time %v is outside years 0000-9999", u, s.Cutoff[u])
		}
	}
	return nil
}

// checkUsers fails if s names a person not in users. A nil s passes.
func (s *Splits) checkUsers(users map[string]struct{}) error {
	if s == nil {
		return nil
	}
	for _, l := range []struct {
		name  string
		users []string
	}{{"unseen_users", s.UnseenUsers}, {"validation_users", s.ValidationUsers}, {"cutoff", sortedKeys(s.Cutoff)}} {
		for _, u := range l.users {
			if _, ok := users[u]; !ok {
				return invalid("%s names user %q, who has no comparisons or votes", l.name, u)
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lineOf returns the 1-based line holding byte offset off of b.
func lineOf(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return 1 + bytes.Count(b[:off], []byte{'\n'})
}
