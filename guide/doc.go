// Package guide steers an image generator toward what one person likes: the
// paper's third use of a learned preference (its guided images won 79–86%
// of a human study against other guidance).
//
// A Generator makes a picture from a prompt and a Latent (what the prompt
// leaves open, as a diffusion model's noise); it can Sample a latent as the
// unguided generator would and Perturb one. Two generators are built in:
// World, the taste world's renderer (whose pictures measurement can judge
// by the simulated people's true utilities, through World.Attrs), and
// A1111, an adapter for an AUTOMATIC1111 or Forge server.
//
// A Judge scores pictures for a person: palate's model (Palate), the
// non-personal scorer (NonPersonal), the in-context centroid (Centroid) or,
// for measurement only, a simulated person's true utility (Oracle). Every
// method takes any judge, so each can be "guided by" each:
//
//   - BestOfN makes Budget pictures and keeps the judge's favourite;
//   - LatentSearch runs an evolution strategy over the latent space within
//     Budget generator calls, penalising closeness to what the person
//     disliked (negative feedback);
//   - PromptGuidance estimates each style phrase's effect on the judge's
//     score by rendering with and without it from the same latents, and
//     names the liked and disliked phrases in a positive and a negative
//     prompt (ViPer-style).
//
// A1111 is an HTTP client of a generator's server; palate's own HTTP
// serving stays in package server. Measurement (win rates judged by the
// simulated people) lives in palate/bench/suite.
package guide
