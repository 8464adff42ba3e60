package bench

import (
	"encoding/json"
	"math"
	"strconv"
)

// ReportFormat names the layout of Report's JSON form.
const ReportFormat = "palate-bench-v1"

// Num is a float64 that is written to JSON as null when it is NaN or
// infinite (a measure that could not be computed, e.g. an accuracy on no
// comparisons), since JSON has no NaN. null reads back as NaN.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Float returns n as a float64.
func (n Num) Float() float64 { return float64(n) }

// Measure is a pairwise accuracy on one set of judged comparisons: the mean
// over seeds, a 95% cluster-bootstrap interval over people (of the
// seed-averaged judgements) and the number of judged comparisons. For a
// predictor run over several seeds SeedAcc holds each seed's accuracy and
// Spread half their range (NaN for one seed).
type Measure struct {
	Acc     Num   `json:"acc"`
	Lo      Num   `json:"lo"`
	Hi      Num   `json:"hi"`
	N       int   `json:"n"`
	SeedAcc []Num `json:"seed_acc,omitempty"`
	Spread  Num   `json:"spread"`
}

// NewMeasure makes a Measure from the seed-averaged judgements and the
// per-seed accuracies (nil or one entry for a single seed).
func NewMeasure(judged []Judged, seedAcc []float64, resamples int, seed uint64) Measure {
	iv := PairAccuracy(judged, resamples, seed)
	m := Measure{Acc: Num(iv.Acc), Lo: Num(iv.Lo), Hi: Num(iv.Hi), N: iv.N, Spread: Num(math.NaN())}
	if len(seedAcc) > 1 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, a := range seedAcc {
			m.SeedAcc = append(m.SeedAcc, Num(a))
			lo, hi = min(lo, a), max(hi, a)
		}
		m.Spread = Num((hi - lo) / 2)
	}
	return m
}

// PredictorResult is one row of the headline table: a predictor (reference
// ceiling, baseline or palate variant) on the Table-1 protocol.
type PredictorResult struct {
	// Name is "oracle", "group-oracle", "crowd-oracle", "global-oracle", "non-personal",
	// "centroid", "per-user-linear", "user-knn" or "palate".
	Name string `json:"name"`
	// Variant tells variants of one predictor apart: palate's "full",
	// "no-cp", "k=0", "pool", "two-stage", "k=5", "truth-embedder", ...,
	// and "ensemble" (the mean score of the full model's seeds, when
	// there are two or more);
	// "truth" for the reference ceilings; "default" for baselines, and
	// "plain" and "on-non-personal" for the two user-kNN forms.
	Variant string `json:"variant"`
	// Reference marks the ceilings computed from the world's truth:
	// shown, never trained.
	Reference bool `json:"reference,omitempty"`
	// Seeds is how many seeds the row averages.
	Seeds int `json:"seeds"`
	// Seen and Unseen are the pairwise accuracies on seen people's test
	// comparisons and on held-out people's comparisons after their first k.
	Seen   Measure `json:"seen"`
	Unseen Measure `json:"unseen"`
	// GapClosure is (acc − non-personal) / (oracle − non-personal) on seen
	// people; GapClosureUnseen the same on unseen people.
	GapClosure       Num `json:"gap_closure"`
	GapClosureUnseen Num `json:"gap_closure_unseen"`
	// VoteAUC is the AUC of the predictor's scores on seen people's
	// held-out votes (likes positive), pooled over people and averaged over
	// seeds; VoteAUCUnseen on unseen people's votes after their first k
	// pairs.
	VoteAUC       Num `json:"vote_auc"`
	VoteAUCUnseen Num `json:"vote_auc_unseen"`
}

// CurvePoint is one point of the history-length curve: a predictor's
// accuracy with k history pairs on one part.
type CurvePoint struct {
	Name    string `json:"name"`
	Variant string `json:"variant"`
	Part    string `json:"part"` // "seen" or "unseen"
	K       int    `json:"k"`
	Acc     Num    `json:"acc"`
	Lo      Num    `json:"lo"`
	Hi      Num    `json:"hi"`
	N       int    `json:"n"`
}

// SimilarResult is how well one descriptor finds people of the same true
// taste group: k-means into the world's number of groups scored by ARI and
// NMI, and precision@10 of cosine nearest neighbours.
type SimilarResult struct {
	Descriptor string `json:"descriptor"`
	Part       string `json:"part"` // "seen" or "unseen"
	People     int    `json:"people"`
	ARI        Num    `json:"ari"`
	NMI        Num    `json:"nmi"`
	PAt10      Num    `json:"p_at_10"`
}

// DriftSplit is a predictor's accuracy on drifting and on stable people.
type DriftSplit struct {
	Drifting Measure `json:"drifting"`
	Stable   Measure `json:"stable"`
}

// DriftRow is one predictor's drift measure; Recency false means palate
// scored with every history item's recency bucket set to 0.
type DriftRow struct {
	Name    string     `json:"name"`
	Variant string     `json:"variant"`
	Recency bool       `json:"recency"`
	Seen    DriftSplit `json:"seen"`
	Unseen  DriftSplit `json:"unseen"`
}

// Drift holds the drift measures.
type Drift struct {
	Note string     `json:"note"`
	Rows []DriftRow `json:"rows"`
}

// CostRow is what a predictor cost: fitting or training time (mean over
// seeds), evaluation time on the Table-1 sets, scoring time per candidate
// and learnt parameters.
type CostRow struct {
	Name         string `json:"name"`
	Variant      string `json:"variant"`
	Seeds        int    `json:"seeds"`
	TrainSeconds Num    `json:"train_seconds"`
	// Steps is the optimizer steps taken (palate; mean over seeds) and
	// StoppedBy why training ended.
	Steps     int    `json:"steps,omitempty"`
	StoppedBy string `json:"stopped_by,omitempty"`
	// BestValAcc is the best validation accuracy during training (palate).
	BestValAcc  Num `json:"best_val_accuracy"`
	EvalSeconds Num `json:"eval_seconds"`
	// SecondsPerCandidate: for palate, the scorer's time per candidate in a
	// 512-candidate call against an encoded history; for baselines, the
	// Table-1 evaluation time divided by the candidates it scored
	// (including any per-person fitting).
	SecondsPerCandidate Num `json:"s_per_candidate"`
	// EncodeSeconds is palate's time to encode one history of up to 16
	// pairs.
	EncodeSeconds Num    `json:"encode_seconds"`
	Params        int    `json:"params"`
	Note          string `json:"note,omitempty"`
}

// Cost holds the cost measures.
type Cost struct {
	WallSeconds Num       `json:"wall_seconds"`
	Threads     int       `json:"threads"`
	SIMD        bool      `json:"simd"`
	Rows        []CostRow `json:"rows"`
}

// WinRate is how often one picture beat another, judged by the simulated
// people: the mean of each judgement's Bradley–Terry probability that the
// person picks the first, with a 95% cluster-bootstrap interval over
// people, over N judged trials.
type WinRate struct {
	WinRate Num `json:"win_rate"`
	Lo      Num `json:"lo"`
	Hi      Num `json:"hi"`
	N       int `json:"n"`
}

// NewWinRate makes a WinRate from judgements whose Correct is a win
// probability.
func NewWinRate(judged []Judged, resamples int, seed uint64) WinRate {
	iv := PairAccuracy(judged, resamples, seed)
	return WinRate{WinRate: Num(iv.Acc), Lo: Num(iv.Lo), Hi: Num(iv.Hi), N: iv.N}
}

// GuidanceRow is one line of the generation-guidance table: how often a
// method's picture, guided by one judge, beat another picture for the same
// person and prompt, judged by the person's true utility with their
// Bradley–Terry noise (the paper's human study, with simulated people).
type GuidanceRow struct {
	// Method is "best-of-n", "latent-search" or "prompt".
	Method string `json:"method"`
	// GuidedBy is the judge the method maximised: "palate",
	// "non-personal", "centroid", or "oracle" (the person's true utility,
	// the reference no learnt judge can pass).
	GuidedBy string `json:"guided_by"`
	// Against is "unguided" (the generator's picture from a random
	// latent) or the judge guiding the same method with the same seed and
	// generator-call budget.
	Against string `json:"against"`
	// WinRate, Lo, Hi and N are over every judged person and prompt; Seen
	// and Unseen split them by the person's part.
	WinRate
	People int     `json:"people"`
	Seen   WinRate `json:"seen"`
	Unseen WinRate `json:"unseen"`
	// Calls is the mean number of generator calls per guided picture and
	// Seconds its mean wall time (generation, embedding and scoring).
	Calls   Num `json:"calls"`
	Seconds Num `json:"seconds"`
	// Spearman, for prompt guidance against unguided, is the mean rank
	// correlation between the style-phrase effects the method estimated
	// and the person's true effects for the same phrases, with its
	// interval; null for other rows.
	Spearman *MeanInterval `json:"spearman,omitempty"`
}

// MeanInterval is a mean over N values with a 95% cluster-bootstrap
// interval over people.
type MeanInterval struct {
	Mean Num `json:"mean"`
	Lo   Num `json:"lo"`
	Hi   Num `json:"hi"`
	N    int `json:"n"`
}

// NewMeanInterval makes a MeanInterval from values given as judgements
// (Correct holds the value).
func NewMeanInterval(values []Judged, resamples int, seed uint64) MeanInterval {
	iv := PairAccuracy(values, resamples, seed)
	return MeanInterval{Mean: Num(iv.Acc), Lo: Num(iv.Lo), Hi: Num(iv.Hi), N: iv.N}
}

// Settings records how the bench ran.
type Settings struct {
	// Command is the command line that made the report, when known.
	Command  string `json:"command,omitempty"`
	Data     string `json:"data"`
	Embedder string `json:"embedder"`
	Model    string `json:"model,omitempty"`
	Seeds    int    `json:"seeds"`
	Quick    bool   `json:"quick"`
	Steps    int    `json:"steps"`
	K        int    `json:"k"`
	Ks       []int  `json:"history_ks"`
	// HistoryCap is the most history pairs palate reads (MaxHistory/2);
	// curve points beyond it are left out for palate.
	HistoryCap      int      `json:"history_cap"`
	DescriptorPairs int      `json:"descriptor_pairs"`
	Resamples       int      `json:"bootstrap_resamples"`
	Variants        []string `json:"variants"`
	ModelConfig     any      `json:"model_config,omitempty"`
}

// Projection is a set of people's descriptors projected to 2-D, for the
// scatter plots.
type Projection struct {
	Descriptor string  `json:"descriptor"`
	Points     []Point `json:"points"`
}

// Report is everything a bench run measured. Its JSON form is documented in
// the README.
type Report struct {
	Format   string   `json:"format"`
	Settings Settings `json:"settings"`
	// World is the world's world.json (config and summary, with the
	// oracle accuracies on the world's own test sets), null when the data
	// is not a taste world.
	World        json.RawMessage   `json:"world"`
	Predictors   []PredictorResult `json:"predictors"`
	HistoryCurve []CurvePoint      `json:"history_curve"`
	SimilarUsers []SimilarResult   `json:"similar_users"`
	Drift        Drift             `json:"drift"`
	Cost         Cost              `json:"cost"`
	// Guidance is the generation-guidance table: win rates of guided
	// pictures judged by the simulated people.
	Guidance []GuidanceRow `json:"guidance,omitempty"`
	// Notes says what was left out or capped and how measures were made.
	Notes []string `json:"notes"`
	// Projections are the descriptor scatter plots' points.
	Projections []Projection `json:"projections,omitempty"`
}

// Predictor returns the row with the given name and variant, or nil.
func (r *Report) Predictor(name, variant string) *PredictorResult {
	for i := range r.Predictors {
		if r.Predictors[i].Name == name && r.Predictors[i].Variant == variant {
			return &r.Predictors[i]
		}
	}
	return nil
}
