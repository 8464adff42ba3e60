// Package features holds palate's built-in pixel embedder, pixels-v2 (and
// its predecessor pixels-v1), and the image decoding every embedder shares.
//
// pixels-v2 is what palate uses when no vision model is configured. It must
// turn any picture into a fixed-length vector from which a downstream model
// can read what people's taste responds to: main hue, saturation,
// brightness, contrast, grain, palette harmony, the kind, number, size and
// placement of subjects, the backdrop and clutter. It is hand-made
// statistics, not a learned model: deterministic, free of any dataset's
// statistics, and fast enough to embed millions of pictures in memory (about
// 0.15 ms for a 64×64 picture on one core of a 2-vCPU Zen 4 machine).
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
// # Vector layout (Dim = 344; pixels-v1 is the first 314, DimV1)
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
// Figure and ground colour (30, pixels-v2 only):
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
// pixels-v1 is the same recipe without that block, renormalised: its
// vectors are what they always were, so data and checkpoints made with it
// embed new pictures the same way (NewPixelsV1, ByName).
//
// Blocks returns the same layout for code that looks at one kind of feature.
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
