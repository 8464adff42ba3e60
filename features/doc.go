// Package features holds palate's built-in pixel embedder, pixels-v3 (and
// its predecessors pixels-v2 and pixels-v1), and the image decoding every
// embedder shares.
//
// pixels-v3 is what palate uses when no vision model is configured. It must
// turn any picture into a fixed-length vector from which a downstream model
// can read what people's taste responds to: main hue, saturation,
// brightness, contrast, grain, palette harmony, the kind, number, size and
// placement of subjects, the backdrop and clutter. It is hand-made
// statistics, not a learned model: deterministic, free of any dataset's
// statistics, and fast enough to embed millions of pictures in memory
// (a 64×64 picture on one core of a 2-vCPU Zen 4 machine, `go test -run
// XXX -bench 'BenchmarkEmbed64(V2)?$' -benchtime=2s ./features/`: pixels-v3
// 0.26 ms, pixels-v2 0.15 ms; `palate embed` of a 42,139-picture taste
// world with pixels-v3 took 21 s on both cores, PNG decoding included).
//
// # Decoding
//
// Decode and DecodeFile read PNG, JPEG, WebP and GIF (the first frame),
// checking the byte size and the header's pixel count against Limits before
// any pixel buffer is allocated, so that a decompression bomb is refused
// with ETOOLARGE; unknown formats and corrupt or truncated data are EINVALID.
//
// # Working size
//
// Every picture is first centre-cropped to a square (the shorter side; the
// longer axis loses equal margins at both ends, so a wide photo keeps its
// middle) and resized to 64×64: a box filter (the mean of the source
// pixels falling in each output pixel, in sRGB) when larger, nearest
// neighbour when smaller. Transparent pixels are composited over black (the
// alpha-premultiplied values), so an RGBA and an NRGBA of the same picture
// give the same vector. Lightness is kept at 64×64 for texture; colour,
// shape and layout use the 32×32 half-resolution planes (2×2 means), which
// also average away pixel-level grain. Colour is CIELAB (D65): L* for
// lightness and a*, b* for colour, plus HSV hue, saturation and value for
// the colour histograms.
//
// # Vector layout (Dim = 582; pixels-v2 is the first 344, DimV2; pixels-v1
// the first 314, DimV1)
//
// Colour (68):
//
//	 0  36  hue (12 circular bins) × value (3), soft-binned, each pixel
//	        weighted by its chroma: which colours, how light
//	36  16  saturation (4) × value (4), soft-binned
//	52   4  mean and standard deviation of a* and b*
//	56   3  Hasler–Süsstrunk colourfulness, its spread and mean parts
//	59   9  hue circle: chroma-weighted mean hue vector (2); concentration
//	        around one hue (R1) and around one axis (R2, high for
//	        complementary pairs too); share of chroma within 30°, 30-90°,
//	        90-150° and beyond 150° of the dominant hue; circular variance
//	        around it. Analogous palettes have R1 near R2 and little mass far
//	        from the dominant hue; clashing complementary accents put mass
//	        beyond 150°.
//
// Tone (16):
//
//	68  16  mean L*, RMS contrast (std of L*), L* percentiles 5, 25, 50, 75,
//	        95, the 5-95 range, and an 8-bin soft L* histogram
//
// Texture (42):
//
//	 84  20  local ternary patterns at 32×32 (dead zone 2 L* units),
//	         rotation-invariant uniform classes of the upper and the lower
//	         pattern (10 + 10)
//	104  16  at 64×64: histograms (8 + 8 roughly logarithmic bins) of the
//	         Immerkær noise-mask response and of the gradient
//	120   6  texture energies: mean |Laplacian| at 64 and at 32, median
//	         Immerkær response (a noise/grain level that edges do not fool),
//	         mean gradient at 64 and at 32, share of edge pixels
//
// Edges and shape (90):
//
//	126   9  orientation histogram (9 unsigned bins of 20°) of the whole
//	         picture, weighted by gradient magnitude; the gradient at each
//	         pixel is that of the strongest of L*, a*, b*
//	135  81  3×3 grid × 9 orientations (HOG-like) of the edges on or next to
//	         the foreground (see layout/regions), so it describes the
//	         subjects more than the backdrop
//
// Layout (108):
//
//	216  48  4×4 grid of mean L*, a*, b*
//	264  16  4×4 grid of mean gradient energy (clutter, where things are)
//	280   6  symmetry: correlation with the left-right mirror image of L*,
//	         of a*b*, and of edge energy; with the top-bottom mirror of L* and
//	         of edge energy; with the half-turned L*
//	286   3  centre (middle quarter of the area) minus surround: L*, chroma,
//	         edge energy
//	289   5  edge energy centroid (x, y), spread (x, y), mean distance from
//	         the centre
//	294  10  foreground regions: pixels whose colour differs from the frame
//	         pixels on their row and column, split into 4-connected regions;
//	         the number of regions by size (1-3, 4-15, 16-63, 64+ pixels of
//	         32×32), the foreground's share, the largest region's share, the
//	         foreground's centroid and spread
//	304  10  shape of the largest region: harmonics 1-6 of its radius as a
//	         function of direction (a star, a flower, a disc and a triangle
//	         differ here), compactness, how much of its bounding box it fills,
//	         the box's aspect ratio, and how many regions are at least a
//	         quarter of its size (subjects side by side)
//
// Figure and ground colour (30, pixels-v2 and pixels-v3):
//
//	314  12  foreground hue (12 circular bins, soft), chroma-weighted,
//	         shares of the foreground, square-rooted
//	326   9  the hue-circle statistics above, of the foreground alone
//	335   3  backdrop: chroma-weighted mean hue direction and its R1
//	338   4  foreground mean a*, b*, L* and HSV chroma
//	342   2  cos and |sin| of the angle between the foreground's and the
//	         backdrop's mean hues
//
// The whole-picture histograms mix a subject's colour with its backdrop's
// tint and its accents. On the taste world's pictures a linear probe reads
// the main hue family with 48% accuracy from pixels-v1 and 72% from
// pixels-v2 (R² of the hue's cosine 0.50 and 0.69, of palette harmony 0.62
// and 0.82, subject 81% and 82%; TestWorldProbe, 6,000 pictures).
//
// Structure (238, pixels-v3 only). The earlier blocks see regions only
// through a few counts and the largest one's outline, and symmetry only
// about the frame's axis. This block starts from the same foreground,
// refined: pixels near one of the backdrop's main colours (those that at
// least a tenth of the frame's pixels share, clustered within the
// foreground threshold) leave it, so that patterned backdrops drop out,
// and it is split into 4-connected regions again. "Major" regions are those
// of at least an eighth of the largest's area; coordinates are half-
// resolution pixels; counts are linear (n/4, n/16) rather than saturating,
// and the ones that matter most come again as soft codes (triangular bins
// at fixed centres) so that a linear reader can respond to them non-
// monotonically:
//
//	344  16  regions: the numbers of regions of at least 1/2, 1/4 and 1/8
//	         the largest's area, their participation ratio (Σs)²/Σs²,
//	         square roots of the largest, mean and total area of the
//	         regions of at least a quarter of it, its longer box side, the
//	         numbers of regions of 1-3 and 4-15 pixels, its centroid's
//	         offsets from the centre; small things (regions under 16 pixels
//	         and under an eighth of the largest): their number, per free
//	         area, the root of their area, and the number under 16 pixels
//	360   8  distance-transform (chamfer) peaks of the major regions, which
//	         separate touching round things: the largest distance, the
//	         numbers of peaks of at least 1/2 and 1/3 of it outside every
//	         higher peak's radius, their mean radius, the major area over
//	         the squared largest distance, the share and root of the area
//	         outside the major regions, the major boxes' width over height
//	368  16  cores: connected parts of the pixels at least 1.5 and 2.5
//	         pixels inside the major regions; for each depth the number of
//	         cores of at least a quarter of the largest (linear and soft,
//	         1-5), their participation ratio and the largest's root area
//	384  14  mirror symmetry: overlap of the mask with its mirror image about
//	         the frame's centre line and about its own centroid line, of the
//	         largest region about its own, L* correlation about the
//	         foreground's axis, that axis's offset, how the regions pair up
//	         with mirrored partners, the spread of their heights and sizes;
//	         the major regions' overlap about the frame's line, their
//	         centroid's offsets, and distances from each one's mirrored
//	         centroid to the nearest (mean, area-weighted) and their mean
//	         height offset, which grow linearly with displacement
//	398   8  tilt: for each major region the axis through its centroid,
//	         -40° to 40° from the vertical, about which it is most mirror-
//	         symmetric; area-weighted means of that angle, of the overlap
//	         there and at the vertical and of the gain; the same for the
//	         largest region
//	406   9  spots at full resolution: maxima of |3×3 mean - ring mean| of
//	         L* above 8 units and 5 noise deviations that are blob-shaped
//	         (twice the same-signed response 3 pixels away in all 8
//	         directions, which a line or an edge is not); the numbers off
//	         the major regions, on the refined backdrop and on the major
//	         regions, the first per backdrop area and as a soft code
//	415  28  backdrop: L* autocorrelation at lag 1 across and down,
//	         periodicity across, down and diagonally (highest
//	         autocorrelation at lags 2-8 above the lowest at a shorter lag),
//	         total variation, net change and largest step of the row means
//	         and the mean spread within rows, the same across columns; the
//	         vertical profile: mean L* of 8 bands top to bottom against the
//	         backdrop's mean, and each band's a*b* distance from the top's
//	443  34  main colour: the dominant hue of the largest region's deep
//	         inside (2 pixels from its edge, past outlines and edge blends)
//	         as cos, sin and 12 soft circular bins, whatever its chroma;
//	         its mean L* minus the backdrop's, signed and absolute; the
//	         spread of L* in it; backdrop and region mean chroma; its mean
//	         L*; the direction of the mean a*b* of all major regions' deep
//	         inside as cos, sin and 12 soft bins (the grain's colour noise
//	         averages out of a mean)
//	477  22  outline of the largest region: fill of its box in 6 bands down
//	         and 6 across, runs per row and per column, Hu invariants 1-4
//	         (scaled roots), third moments η03 and η21, η11, mean gradient
//	         inside it
//	499  10  solidity: area over convex-hull area, enclosed holes' share of
//	         the box, and inner details (inside pixels more than ΔE 15 from
//	         the deep inside's mean colour): their share, mean height and
//	         horizontal spread in the box, root count; share more than 15
//	         L* away; contrast: the deep inside's L* step from the
//	         backdrop, its L* spread (shading), and the lightness range of
//	         the backdrop's main colours
//	509  14  bumps (things in a row merge at half resolution): the largest
//	         region's width over height (linear, soft 1-5); prominent peaks
//	         along the top edges of the regions of at least a quarter of the
//	         largest, summed (linear, soft 1-5), of their column sums, and
//	         the smaller of the two
//	523  59  soft codes of entries above: the lightness step (5), the
//	         distance-transform radius (4), counts of regions, peaks and the
//	         participation ratio (5 each, 1-5), the largest region's radius
//	         split by the first count (5), mirror overlap and axis offsets
//	         (5, 4, 4), tiny regions (5) and two per-area counts, the
//	         largest region's chroma (5) and radius (5)
//
// On the taste world's pictures (TestWorldProbe: linear ridge probe, λ 10,
// 4,500 pictures to fit and 1,500 to test, open prompts) pixels-v2 and
// pixels-v3 read:
//
//	                      v2     v3                          v2     v3
//	hue cos             0.692  0.775   subject orb         0.540  0.605
//	hue sin             0.673  0.762   subject spiral      0.675  0.803
//	saturation          0.924  0.932   subject star        0.397  0.601
//	brightness          0.984  0.986   subject flower      0.360  0.515
//	contrast            0.793  0.851   subject tree        0.282  0.512
//	grain               0.973  0.974   subject house       0.557  0.643
//	harmony             0.816  0.829   subject mountain    0.642  0.747
//	symmetry            0.544  0.612   subject face        0.355  0.419
//	scale               0.701  0.790   background plain    0.653  0.766
//	clutter             0.473  0.592   bg gradient         0.392  0.631
//	count               0.646  0.755   bg stripes          0.848  0.874
//	quality (world)     0.669  0.716   bg dots             0.689  0.766
//	hue family (acc)    0.717  0.771   bg horizon          0.675  0.774
//	subject (acc)       0.817  0.909   background (acc)    0.911  0.960
//
// (R² of world.AttrVector's dims and world.Quality; accuracy of the argmax
// over the one-hot outputs.) Symmetry, clutter and count stay the hardest:
// at 32×32 things in a row merge, small decorations blur into the backdrop
// or join the subjects, and a scattered layout's displacement is random in
// size, so no one measure of it is linear in the symmetry setting.
//
// pixels-v2 is pixels-v3 without the structure block, and pixels-v1 is
// pixels-v2 without the figure/ground block, each renormalised: their
// vectors are what they always were (the first DimV2 or DimV1 floats of a
// pixels-v3 vector before the final scaling), so data and checkpoints made
// with them embed new pictures the same way (NewPixelsV2, NewPixelsV1,
// ByName).
//
// Blocks returns the same layout for code that looks at one kind of feature
// (the structure block in its twelve parts).
//
// # Normalisation
//
// Every value is scaled with fixed constants, never with statistics of a
// dataset. Histograms are shares of pixels; most are square-rooted
// (Hellinger), so a histogram of total mass 1 has unit L2 norm and small
// bins count; the texture response histograms stay linear, because a square
// root would magnify the little mass faint noise moves. Scalars are mapped
// to about [-1, 1] by fixed affine maps, or by 0.7·ln(1+x/0.05) for
// energies, which are linear near zero and logarithmic above. Each block is
// then multiplied by a fixed weight (see Blocks) so that no block dominates
// distances by its size alone, and the whole vector is scaled to unit L2
// norm, so cosine similarity and Euclidean distance agree.
//
// # Speed
//
// Embed allocates only the vector it returns (EmbedTo allocates nothing);
// working buffers come from a sync.Pool. The inner loops avoid image.At
// (rows are read straight from *image.RGBA, *image.NRGBA, *image.YCbCr,
// *image.Gray and *image.Paletted), use integer lookup tables for L*, fill
// histograms in passes of their own, and estimate pixel statistics on a
// checkerboard of half the pixels where that is as good. EmbedFiles and
// EmbedAll spread work over all cores.
package features
