package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"palate/api"
)

func init() {
	register(&command{
		name:    "profile",
		summary: "describe one person as a running server sees them",
		long: `Asks the palate server at --server for --user's profile: how many
comparisons and votes they recorded, whether they are a cold start, their
taste descriptor, and the images they liked and disliked that the model
scores highest and lowest. The key comes from PALATE_KEY (or
PALATE_READ_KEY).`,
		setup: func(fs *flag.FlagSet) func(context.Context, *Env) error {
			srv := fs.String("server", "http://127.0.0.1:8080", "palate server `URL`")
			user := fs.String("user", "", "person `id`")
			n := fs.Int("n", 5, "how many top liked and disliked images")
			return func(ctx context.Context, env *Env) error {
				if *user == "" {
					return usagef("--user is required")
				}
				if err := atLeast(flagMin{"n", int64(*n), 1}); err != nil {
					return err
				}
				c, err := newClient(*srv)
				if err != nil {
					return err
				}
				p, err := c.Profile(ctx, *user, *n)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s: %d comparisons, %d votes (model %s)\n", p.User, p.Comparisons, p.Votes, p.Model)
				if p.ColdStart {
					fmt.Fprintln(env.Stdout, "no usable history: cold start")
					return nil
				}
				fmt.Fprintf(env.Stdout, "history of %d items", p.HistoryItems)
				if p.HistorySkipped > 0 {
					fmt.Fprintf(env.Stdout, " (%d skipped: no vector from the model's embedder)", p.HistorySkipped)
				}
				fmt.Fprintln(env.Stdout)
				parts := make([]string, len(p.Descriptor))
				for i, x := range p.Descriptor {
					parts[i] = fmt.Sprintf("%.3f", x)
				}
				fmt.Fprintf(env.Stdout, "taste descriptor: [%s]\n", strings.Join(parts, " "))
				for _, l := range []struct {
					title string
					list  []api.ImageScore
				}{{"liked, highest score first", p.TopLiked}, {"disliked, lowest score first", p.TopDisliked}} {
					fmt.Fprintf(env.Stdout, "%s:\n", l.title)
					for _, s := range l.list {
						fmt.Fprintf(env.Stdout, "  %-24s %8.3f %8.3f\n", s.ID, s.Score, s.PLike)
					}
				}
				return nil
			}
		},
	})
}

// scoreRemote ranks stored images for a person on a server.
func scoreRemote(ctx context.Context, env *Env, url, user string, ids []string) error {
	req := api.RankRequest{}
	for _, id := range ids {
		req.Candidates = append(req.Candidates, api.Candidate{ID: strings.TrimSpace(id)})
	}
	c, err := newClient(url)
	if err != nil {
		return err
	}
	res, err := c.Rank(ctx, user, req)
	if err != nil {
		return err
	}
	if res.ColdStart {
		fmt.Fprintf(env.Stdout, "%s has no history: cold start, these scores are not personal\n", user)
	} else {
		fmt.Fprintf(env.Stdout, "%s: history of %d items (model %s)\n", user, res.HistoryItems, res.Model)
	}
	fmt.Fprintf(env.Stdout, "%-24s %8s %8s %5s\n", "image", "score", "P(like)", "rank")
	for _, r := range res.Results {
		fmt.Fprintf(env.Stdout, "%-24s %8.3f %8.3f %5d\n", r.ID, r.Score, r.PLike, r.Rank)
	}
	return nil
}

// similarRemote lists a person's nearest neighbours on a server.
func similarRemote(ctx context.Context, env *Env, url, user string, n int) error {
	c, err := newClient(url)
	if err != nil {
		return err
	}
	res, err := c.Similar(ctx, user, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%-12s %10s\n", "person", "similarity")
	for _, u := range res.Users {
		fmt.Fprintf(env.Stdout, "%-12s %10.3f\n", u.User, u.Similarity)
	}
	return nil
}
