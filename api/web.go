package api

// GenerateRequest asks the server's generator for fresh pictures
// (POST /v1/generate). The server renders N pictures for one prompt, embeds
// them with its embedder and stores them, so they can be ranked and rated
// at once.
type GenerateRequest struct {
	// Prompt is what to draw; the server samples one when empty.
	Prompt string `json:"prompt,omitempty"`
	// N is how many pictures to make (1 or more, up to the server's
	// limit). Rating pairs use 2.
	N int `json:"n"`
	// Seed makes the pictures reproducible; 0 picks a random seed.
	Seed uint64 `json:"seed,omitempty"`
}

// GeneratedImage is one stored picture: its id and where to fetch it.
type GeneratedImage struct {
	ID string `json:"id"`
	// URL is the picture's path on the server (GET /v1/images/{id}/file).
	URL string `json:"url"`
}

// GenerateResponse answers a GenerateRequest.
type GenerateResponse struct {
	// Prompt is the prompt every picture was made for.
	Prompt    string           `json:"prompt"`
	Generator string           `json:"generator"`
	Images    []GeneratedImage `json:"images"`
}

// MapPoint is one person on the taste map.
type MapPoint struct {
	User string `json:"user"`
	// X and Y are the first two principal components of the person's
	// taste descriptor (descriptors centred on the population mean).
	X float64 `json:"x"`
	Y float64 `json:"y"`
	// Cluster is the person's k-means cluster of the descriptors.
	Cluster int `json:"cluster"`
	// Group is the person's true taste group in a taste world (-1 when the
	// data has no truth).
	Group int `json:"group"`
	// Comparisons and Votes count the person's records.
	Comparisons int `json:"comparisons"`
	Votes       int `json:"votes"`
}

// MapResponse is every person with a usable history as a point
// (GET /v1/map).
type MapResponse struct {
	Model string `json:"model"`
	// Clusters is k of the k-means clustering; Groups the number of true
	// taste groups (0 when the data is not a taste world).
	Clusters int        `json:"clusters"`
	Groups   int        `json:"groups"`
	Points   []MapPoint `json:"points"`
	// ColdStart counts people left off the map because they have no
	// usable history.
	ColdStart int `json:"cold_start"`
}

// TrueTaste is what a taste world knows of a simulated person and the
// model has to learn: their group and the style phrases that most raise
// and lower their utility.
type TrueTaste struct {
	Group int `json:"group"`
	// DriftTo is the group their taste drifts toward, -1 when stable.
	DriftTo int `json:"drift_to"`
	// Likes and Dislikes are style phrases (the world's vocabulary) with
	// the largest positive and negative effect on the person's utility,
	// strongest first.
	Likes    []PhraseEffect `json:"likes"`
	Dislikes []PhraseEffect `json:"dislikes"`
}

// PhraseEffect is a style phrase and its mean effect on a utility.
type PhraseEffect struct {
	Words  string  `json:"words"`
	Effect float64 `json:"effect"`
}

// BenchRow is one row of a bench report's accuracy table.
type BenchRow struct {
	Name    string `json:"name"`
	Variant string `json:"variant"`
	// Reference marks the ceilings computed from a taste world's truth.
	Reference bool `json:"reference,omitempty"`
	// Seen and Unseen are pairwise accuracies on seen and held-out people.
	Seen   BenchCell `json:"seen"`
	Unseen BenchCell `json:"unseen"`
}

// BenchCell is an accuracy with its 95% interval and the number of judged
// comparisons; null where the report has no number.
type BenchCell struct {
	Acc *float64 `json:"acc"`
	Lo  *float64 `json:"lo"`
	Hi  *float64 `json:"hi"`
	N   int      `json:"n"`
}

// GuideRequest asks for a picture guided toward a person's taste and an
// unguided one for the same prompt (POST /v1/users/{user}/guide).
type GuideRequest struct {
	// Prompt is what to draw (required).
	Prompt string `json:"prompt"`
	// Method is "best-of-n" (default), "latent-search" or "prompt".
	Method string `json:"method,omitempty"`
	// N is the generator calls the guided picture may cost (default 16).
	N int `json:"n,omitempty"`
	// Seed makes the answer reproducible; 0 picks a random seed.
	Seed uint64 `json:"seed,omitempty"`
}

// GuidePicture is one stored picture of a guide answer with the model's
// score and P(like) for the person.
type GuidePicture struct {
	ID     string  `json:"id"`
	URL    string  `json:"url"`
	Prompt string  `json:"prompt"`
	Score  float64 `json:"score"`
	PLike  float64 `json:"p_like"`
}

// GuideResponse answers a GuideRequest.
type GuideResponse struct {
	User      string       `json:"user"`
	Model     string       `json:"model"`
	Method    string       `json:"method"`
	ColdStart bool         `json:"cold_start"`
	Guided    GuidePicture `json:"guided"`
	Unguided  GuidePicture `json:"unguided"`
	// Calls is how many pictures the generator made for the guided one;
	// Seconds the wall time of the whole request.
	Calls   int     `json:"calls"`
	Seconds float64 `json:"seconds"`
	// Negative is prompt guidance's negative prompt, if it named one.
	Negative string `json:"negative,omitempty"`
}
