package world

import (
	"fmt"
	"io"

	"palate"
	"palate/dataset"
)

// Range is an inclusive integer range.
type Range struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Config describes a taste world. Every key is optional in the JSON form;
// DefaultConfig holds the defaults, documented in the README.
type Config struct {
	Seed               uint64  `json:"seed"`                 // everything follows from it
	Users              int     `json:"users"`                // simulated people
	Groups             int     `json:"groups"`               // taste groups
	ComparisonsPerUser Range   `json:"comparisons_per_user"` // heavy-tailed between min and max
	VotesPerUser       Range   `json:"votes_per_user"`       // uniform between min and max
	ImageSize          int     `json:"image_size"`           // pixels per side
	Individuality      float64 `json:"individuality"`        // personal deviation relative to the spread between groups
	QualityWeight      float64 `json:"quality_weight"`       // weight of the shared sense of quality
	Noise              float64 `json:"noise"`                // Bradley–Terry temperature τ
	TieRate            float64 `json:"tie_rate"`             // share of comparisons that end in a tie
	DriftFraction      float64 `json:"drift_fraction"`       // share of people whose taste drifts
	UnseenFraction     float64 `json:"unseen_fraction"`      // share of people held out entirely
	ValidationFraction float64 `json:"validation_fraction"`  // share of people held out for early stopping
	TestFraction       float64 `json:"test_fraction"`        // share of a seen person's later interactions that is test
	Images             string  `json:"images"`               // "png": write image files; "none": embeddings only
}

// DefaultConfig returns the default world: 600 people in 6 overlapping taste
// groups, calibrated so that a perfect predictor is right about 80% of the
// time and the shared sense of quality alone about 60%.
func DefaultConfig() Config {
	return Config{
		Seed:               1,
		Users:              600,
		Groups:             6,
		ComparisonsPerUser: Range{Min: 8, Max: 120},
		VotesPerUser:       Range{Min: 0, Max: 30},
		ImageSize:          64,
		Individuality:      0.7,
		QualityWeight:      0.3,
		Noise:              0.65,
		TieRate:            0.03,
		DriftFraction:      0.15,
		UnseenFraction:     0.15,
		ValidationFraction: 0.05,
		TestFraction:       0.3,
		Images:             "png",
	}
}

// ParseConfig reads a JSON config over the defaults. Unknown keys, wrong
// types and out-of-range values are EINVALID errors naming the key, and the
// file when r has a Name (an *os.File does); syntax errors also give the
// line and column.
func ParseConfig(r io.Reader) (Config, error) {
	c := DefaultConfig()
	data, err := io.ReadAll(r)
	if err != nil {
		return c, palate.Errorf(palate.EINVALID, "reading world config: %w", err)
	}
	name, file := "world config", false
	if f, ok := r.(interface{ Name() string }); ok { // an *os.File names itself
		name, file = f.Name(), true
	}
	if err := dataset.DecodeFileObject(name, data, &c); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil && file {
		return c, fmt.Errorf("%s: %w", name, err)
	} else if err != nil {
		return c, err
	}
	return c, nil
}

// Validate checks every field and names the first one out of range.
func (c *Config) Validate() error {
	bad := func(key string, format string, args ...any) error {
		return palate.Errorf(palate.EINVALID, "world config: %s %s", key, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Users < 2 || c.Users > 10_000_000:
		return bad("users", "is %d; want 2..10000000", c.Users)
	case c.Groups < 1 || c.Groups > c.Users:
		return bad("groups", "is %d; want 1..users (%d)", c.Groups, c.Users)
	case c.ComparisonsPerUser.Min < 2 || c.ComparisonsPerUser.Max < c.ComparisonsPerUser.Min || c.ComparisonsPerUser.Max > 100_000:
		return bad("comparisons_per_user", "is {min %d, max %d}; want 2 <= min <= max <= 100000", c.ComparisonsPerUser.Min, c.ComparisonsPerUser.Max)
	case c.VotesPerUser.Min < 0 || c.VotesPerUser.Max < c.VotesPerUser.Min || c.VotesPerUser.Max > 100_000:
		return bad("votes_per_user", "is {min %d, max %d}; want 0 <= min <= max <= 100000", c.VotesPerUser.Min, c.VotesPerUser.Max)
	case c.ImageSize < 16 || c.ImageSize > 1024:
		return bad("image_size", "is %d; want 16..1024", c.ImageSize)
	case !(c.Individuality >= 0 && c.Individuality <= 10):
		return bad("individuality", "is %g; want 0..10", c.Individuality)
	case !(c.QualityWeight >= 0 && c.QualityWeight <= 10):
		return bad("quality_weight", "is %g; want 0..10", c.QualityWeight)
	case !(c.Noise > 0 && c.Noise <= 100):
		return bad("noise", "is %g; want > 0", c.Noise)
	case !(c.TieRate >= 0 && c.TieRate < 0.5):
		return bad("tie_rate", "is %g; want 0 <= tie_rate < 0.5", c.TieRate)
	case !(c.DriftFraction >= 0 && c.DriftFraction <= 1):
		return bad("drift_fraction", "is %g; want 0..1", c.DriftFraction)
	case !(c.UnseenFraction >= 0 && c.ValidationFraction >= 0 && c.UnseenFraction+c.ValidationFraction < 1):
		return bad("unseen_fraction", "(%g) + validation_fraction (%g) must be >= 0 each and < 1 together", c.UnseenFraction, c.ValidationFraction)
	case !(c.TestFraction > 0 && c.TestFraction < 1):
		return bad("test_fraction", "is %g; want 0 < test_fraction < 1", c.TestFraction)
	case c.Images != "png" && c.Images != "none":
		return bad("images", "is %q; want \"png\" or \"none\"", c.Images)
	}
	return nil
}
