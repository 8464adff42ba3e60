package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"palate"
	"palate/history"
	"palate/scorer"
	"palate/world"
)

func init() {
	register(&command{
		name:    "score",
		summary: "score images for one person with a trained model",
		long: `Reads the person's whole history in --data (every decided comparison and
vote), encodes it once and scores the given images against it, printing
each image's score (s+ − s−), the model's P(like) and its rank. A person with
no history gets the model's non-personal scores, marked as a cold start.

With --server the images are ranked by a running palate server (palate
serve) instead, from the history in its store; --model and --data are then
not needed. The key comes from PALATE_KEY (or PALATE_READ_KEY).`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			modelDir := fs.String("model", "", "checkpoint `directory`")
			data := fs.String("data", "", "dataset `directory`")
			user := fs.String("user", "", "person `id`")
			images := fs.String("images", "", "comma-separated image `ids` to score")
			srv := fs.String("server", "", "palate server `URL` to ask instead of --model and --data")
			textEmb := fs.String("text-embedder", "", textEmbedderUsage)
			return func(ctx context.Context, env *Env) error {
				if *srv != "" {
					if *user == "" || *images == "" {
						return usagef("--user and --images are required")
					}
					ids, err := imageIDs(*images)
					if err != nil {
						return err
					}
					return scoreRemote(ctx, env, *srv, *user, ids)
				}
				if *modelDir == "" || *data == "" || *user == "" || *images == "" {
					return usagef("--model, --data, --user and --images are required")
				}
				ids, err := imageIDs(*images)
				if err != nil {
					return err
				}
				sc, hd, err := loadScorer(ctx, *modelDir, *data, *textEmb)
				if err != nil {
					return err
				}
				var rows []int32
				for _, id := range ids {
					r, ok := hd.Row(id)
					if !ok {
						return palate.Errorf(palate.ENOTFOUND, "--images: image %q is not among the %d images with a %s embedding in %s (ids there look like %q)",
							id, len(hd.Emb.IDs), hd.Emb.Embedder, *data, hd.Emb.IDs[0])
					}
					rows = append(rows, r)
				}
				c, err := userContext(ctx, sc, hd, *user)
				if err != nil {
					return err
				}
				res, err := sc.Score(ctx, c, scorer.Candidates(hd, rows))
				if err != nil {
					return err
				}
				order := make([]int, len(rows))
				for i := range order {
					order[i] = i
				}
				sort.SliceStable(order, func(a, b int) bool { return res.Scores[order[a]] > res.Scores[order[b]] })
				rank := make([]int, len(rows))
				for r, i := range order {
					rank[i] = r + 1
				}
				if c.ColdStart {
					fmt.Fprintf(env.Stdout, "%s has no history: cold start, these scores are not personal\n", *user)
				} else {
					fmt.Fprintf(env.Stdout, "%s: history of %d items\n", *user, c.Items)
				}
				fmt.Fprintf(env.Stdout, "%-24s %8s %8s %5s\n", "image", "score", "P(like)", "rank")
				for i, id := range ids {
					fmt.Fprintf(env.Stdout, "%-24s %8.3f %8.3f %5d\n", strings.TrimSpace(id), res.Scores[i], res.Prob(i), rank[i])
				}
				return nil
			}
		},
	})
	register(&command{
		name:    "similar",
		summary: "find the people whose taste is most like one person's",
		long: `Describes every person of --data by how their history attends to the
model's preference tokens (the paper's Figure 3) and prints the --n nearest
to --user by cosine similarity. In a taste world each person's true group
is shown beside them. With --server a running palate server answers from
its store instead.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			modelDir := fs.String("model", "", "checkpoint `directory`")
			data := fs.String("data", "", "dataset `directory`")
			user := fs.String("user", "", "person `id`")
			n := fs.Int("n", 10, "how many neighbours")
			srv := fs.String("server", "", "palate server `URL` to ask instead of --model and --data")
			textEmb := fs.String("text-embedder", "", textEmbedderUsage)
			return func(ctx context.Context, env *Env) error {
				if err := atLeast(flagMin{"n", int64(*n), 1}); err != nil {
					return err
				}
				if *srv != "" {
					if *user == "" {
						return usagef("--user is required")
					}
					return similarRemote(ctx, env, *srv, *user, *n)
				}
				if *modelDir == "" || *data == "" || *user == "" {
					return usagef("--model, --data and --user are required")
				}
				sc, hd, err := loadScorer(ctx, *modelDir, *data, *textEmb)
				if err != nil {
					return err
				}
				if hd.User(*user) == nil {
					return palate.Errorf(palate.ENOTFOUND, "--user: %q has no comparisons or votes in %s", *user, *data)
				}
				descs := map[string][]float32{}
				for _, u := range hd.Users {
					items := u.All()
					if len(items) == 0 {
						continue
					}
					d, err := sc.Descriptor(ctx, scorer.FromHistory(hd, items, items[len(items)-1].Time.Add(time.Second)))
					if err != nil {
						return err
					}
					descs[u.ID] = d.Vector()
				}
				centre(descs)
				me := descs[*user]
				type nb struct {
					id  string
					sim float64
				}
				var nbs []nb
				for id, v := range descs {
					if id != *user {
						nbs = append(nbs, nb{id, cosine(me, v)})
					}
				}
				sort.Slice(nbs, func(a, b int) bool { return nbs[a].sim > nbs[b].sim })
				groups := worldGroups(*data)
				if g, ok := groups[*user]; ok {
					fmt.Fprintf(env.Stdout, "%s (true group %d)\n", *user, g)
				}
				fmt.Fprintf(env.Stdout, "%-12s %10s %s\n", "person", "similarity", "true group")
				for _, x := range nbs[:min(*n, len(nbs))] {
					g := "-"
					if v, ok := groups[x.id]; ok {
						g = fmt.Sprint(v)
					}
					fmt.Fprintf(env.Stdout, "%-12s %10.3f %s\n", x.id, x.sim, g)
				}
				return nil
			}
		},
	})
}

// loadScorer loads a checkpoint and the dataset's embeddings of the
// checkpoint's embedder, refusing a mismatch. Prompts are embedded with the
// checkpoint's text embedder, or textEmb (a --text-embedder value) when not
// empty.
func loadScorer(ctx context.Context, modelDir, data, textEmb string) (*scorer.Scorer, *history.Data, error) {
	opts, err := scorerOptions(textEmb)
	if err != nil {
		return nil, nil, err
	}
	sc, err := scorer.Load(modelDir, opts)
	if err != nil {
		return nil, nil, err
	}
	ck := sc.Checkpoint()
	te := sc.TextEmbedder()
	if te == nil {
		return nil, nil, palate.Errorf(palate.EINVALID, "model %s was trained with text embedder %q, which is not built in: pass --text-embedder", modelDir, ck.TextEmbedder.Name)
	}
	hd, err := loadHistory(ctx, data, ck.Embedder.Name, te)
	if err != nil {
		return nil, nil, err
	}
	if err := sc.CheckEmbedder(hd.Emb.Embedder, hd.Emb.Dim); err != nil {
		return nil, nil, err
	}
	return sc, hd, nil
}

// scorerOptions gives the scorer the text embedder a --text-embedder value
// names; empty leaves the checkpoint's.
func scorerOptions(textEmb string) (scorer.Options, error) {
	if textEmb == "" {
		return scorer.Options{}, nil
	}
	te, _, err := openTextEmbedder(textEmb, 0)
	return scorer.Options{TextEmbedder: te}, err
}

// textEmbedderUsage is the help of --text-embedder on commands that score.
const textEmbedderUsage = "prompt embedder, onnx:TEXT.onnx or hashbow-v1 (default: the one the model records)"

// userContext encodes a person's whole history, scored as of just after
// their last interaction.
func userContext(ctx context.Context, sc *scorer.Scorer, hd *history.Data, user string) (*scorer.Context, error) {
	var items []history.Item
	at := time.Now()
	if u := hd.User(user); u != nil {
		items = u.All()
		if len(items) > 0 {
			at = items[len(items)-1].Time.Add(time.Second)
		}
	}
	return sc.Context(ctx, scorer.FromHistory(hd, items, at))
}

// worldGroups returns each person's true group when dir is a taste world.
func worldGroups(dir string) map[string]int {
	people, err := world.ReadTruth(dir)
	if err != nil {
		return nil
	}
	g := make(map[string]int, len(people))
	for _, p := range people {
		g[p.ID] = p.Group
	}
	return g
}

// centre subtracts the mean descriptor from every descriptor, so cosine
// similarity compares how people differ from the population rather than
// what everyone shares.
func centre(descs map[string][]float32) {
	var mean []float64
	for _, v := range descs {
		if mean == nil {
			mean = make([]float64, len(v))
		}
		for i, x := range v {
			mean[i] += float64(x) / float64(len(descs))
		}
	}
	for _, v := range descs {
		for i := range v {
			v[i] -= float32(mean[i])
		}
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// imageIDs splits --images at commas, trimming spaces; an empty id is a
// usage error that says which.
func imageIDs(list string) ([]string, error) {
	ids := strings.Split(list, ",")
	for i, id := range ids {
		if ids[i] = strings.TrimSpace(id); ids[i] == "" {
			return nil, usagef("--images: id %d of %d is empty (a comma too many?)", i+1, len(ids))
		}
	}
	return ids, nil
}
