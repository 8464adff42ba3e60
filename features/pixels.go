package features

import (
	"context"
	"image"
	"sync"

	"palate"
)

// Name is the embedder name of the default Pixels, pixels-v3; it names
// embedding files and is checked against model checkpoints, so it changes
// whenever the vector does.
const Name = "pixels-v3"

// Version is the revision of the pixels-v3 recipe. Vectors from different
// versions must not be mixed in one table; it is stored beside them.
const Version = "3.0.0"

// NameV2 and VersionV2 name the second recipe, pixels-v2: the pixels-v3
// vector without its structure block (DimV2 floats, bit for bit what it
// always was), kept so that datasets and checkpoints made with it still
// embed new pictures the same way.
const (
	NameV2    = "pixels-v2"
	VersionV2 = "2.0.0"
)

// NameV1 and VersionV1 name the first recipe, pixels-v1: the same vector
// without the figure/ground colour block (DimV1 floats, bit for bit what
// it always was), kept so that datasets and checkpoints made with it still
// embed new pictures the same way.
const (
	NameV1    = "pixels-v1"
	VersionV1 = "1.0.0"
)

// Working sizes: every picture is reduced to full×full before any feature
// is computed, and shape features use a half×half copy (2×2 means), which
// also averages away pixel-level grain.
const (
	full = 64
	half = full / 2
)

// Block offsets and sizes of the vector; see the package doc for what each
// block holds.
const (
	offHueVal    = 0                           // 36: hue (12) × value (3), chroma-weighted
	offSatVal    = offHueVal + 36              // 16: saturation (4) × value (4)
	offABMoments = offSatVal + 16              // 4: mean, std of a*, b*
	offColourful = offABMoments + 4            // 3: Hasler–Süsstrunk
	offHueCirc   = offColourful + 3            // 9: hue circle statistics
	offTone      = offHueCirc + 9              // 16: lightness moments, percentiles, histogram
	offLTP       = offTone + 16                // 20: LTP riu2 upper and lower, at half resolution
	offResp      = offLTP + 20                 // 16: noise and gradient response histograms at full resolution
	offTexture   = offResp + 16                // 6: Laplacian, noise, gradient energy
	offOrient    = offTexture + 6              // 9: global orientation histogram
	offHOG       = offOrient + 9               // 81: 3×3 cells × 9 orientations
	offGrid      = offHOG + 81                 // 48: 4×4 mean L*, a*, b*
	offEdgeGrid  = offGrid + 48                // 16: 4×4 edge energy
	offSymmetry  = offEdgeGrid + 16            // 6: mirror and rotation symmetry
	offCentre    = offSymmetry + 6             // 3: centre vs surround
	offEdgeMom   = offCentre + 3               // 5: where the edges are
	offBlobs     = offEdgeMom + 5              // 10: foreground regions
	offBlobShape = offBlobs + blobDim          // 10: shape of the largest region
	offFigure    = offBlobShape + blobShapeDim // 30: foreground and backdrop colour (pixels-v2)
	offStruct    = offFigure + figureDim       // structDim: regions, symmetry, backdrop, main colour (pixels-v3)
	Dim          = offStruct + structDim       // total length of a pixels-v3 vector
	DimV2        = offStruct                   // total length of a pixels-v2 vector
	DimV1        = offFigure                   // total length of a pixels-v1 vector
)

// maxEmbedPixels bounds the pictures Embed reads (an image.Uniform claims
// 4·10¹⁸ pixels); it is far above DefaultLimits and keeps the resize's sums
// exact in float32.
const maxEmbedPixels = 1 << 28

// Pixels is the built-in embedder, pixels-v3 (or pixels-v2 and pixels-v1
// from NewPixelsV2 and NewPixelsV1): hand-made colour, tone, texture, shape
// and layout statistics of the picture's pixels, for use when no vision
// model is configured. The zero value is pixels-v3, ready to use; a Pixels
// must not be copied after first use. It is safe for concurrent use: each
// call borrows its working buffers from a pool.
type Pixels struct {
	pool sync.Pool
	old  int // 0 for pixels-v3, else the older recipe's number (1 or 2)
}

// NewPixels returns a pixels-v3 embedder.
func NewPixels() *Pixels { return &Pixels{} }

// NewPixelsV2 returns a pixels-v2 embedder, for data made with it.
func NewPixelsV2() *Pixels { return &Pixels{old: 2} }

// NewPixelsV1 returns a pixels-v1 embedder, for data made with it.
func NewPixelsV1() *Pixels { return &Pixels{old: 1} }

// ByName returns the built-in embedder called name (Name, NameV2 or
// NameV1).
func ByName(name string) (*Pixels, bool) {
	switch name {
	case Name:
		return NewPixels(), true
	case NameV2:
		return NewPixelsV2(), true
	case NameV1:
		return NewPixelsV1(), true
	}
	return nil, false
}

var _ palate.Embedder = (*Pixels)(nil)

// recipes lists, by p.old, each recipe's name, version, length and number
// of blocks.
var recipes = [...]struct {
	name, version string
	dim, blocks   int
}{
	{Name, Version, Dim, len(blocks)},
	{NameV1, VersionV1, DimV1, blocksV2 - 1},
	{NameV2, VersionV2, DimV2, blocksV2},
}

// Name returns "pixels-v3" (or "pixels-v2", "pixels-v1").
func (p *Pixels) Name() string { return recipes[p.old].name }

// Version returns the recipe's version, stored beside its vectors.
func (p *Pixels) Version() string { return recipes[p.old].version }

// Dim returns the vector length: Dim, DimV2 or DimV1.
func (p *Pixels) Dim() int { return recipes[p.old].dim }

// Embed returns img's vector, a new slice of p.Dim() floats with unit L2
// norm.
// Returns EINVALID for a nil or empty image, and ctx's error if it is done.
func (p *Pixels) Embed(ctx context.Context, img image.Image) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := make([]float32, p.Dim())
	if err := p.EmbedTo(v, img); err != nil {
		return nil, err
	}
	return v, nil
}

// EmbedTo writes img's vector into dst[:p.Dim()] without allocating, for
// callers that fill one large table. Returns EINVALID for a nil or empty
// image or a dst shorter than p.Dim(), and ETOOLARGE for an image of over
// 2²⁸ pixels.
func (p *Pixels) EmbedTo(dst []float32, img image.Image) error {
	d := p.Dim()
	if len(dst) < d {
		return palate.Errorf(palate.EINVALID, "embedding buffer holds %d floats, need %d", len(dst), d)
	}
	if img == nil {
		return palate.Errorf(palate.EINVALID, "no image")
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return palate.Errorf(palate.EINVALID, "empty image (%dx%d)", b.Dx(), b.Dy())
	}
	if int64(b.Dx())*int64(b.Dy()) > maxEmbedPixels {
		return palate.Errorf(palate.ETOOLARGE, "image is %dx%d, over the %d pixels Embed reads",
			b.Dx(), b.Dy(), int64(maxEmbedPixels))
	}
	s, _ := p.pool.Get().(*scratch)
	if s == nil {
		s = new(scratch)
	}
	v := dst[:d]
	clear(v)
	s.load(img)
	s.colour(v)
	s.texture(v)
	s.foreground()
	s.shape(v)
	s.layout(v)
	if p.old != 1 {
		s.figureColour(v[offFigure : offFigure+figureDim])
	}
	if p.old == 0 {
		s.structure(v[offStruct : offStruct+structDim])
	}
	finish(v, blocks[:recipes[p.old].blocks])
	p.pool.Put(s)
	return nil
}

// scratch holds one embedding's working buffers.
type scratch struct {
	pix    [full * full * 4]uint8 // resized picture, premultiplied RGBA
	L      [full * full]uint8     // CIELAB L*·2.55, rounded
	hL     [half * half]float32   // half-resolution L*, a*, b* (/100)
	hA, hB [half * half]float32
	hpix   [half * half][3]uint8 // half-resolution sRGB
	mag    [half * half]float32  // half-resolution gradient magnitude
	// Half-resolution HSV: hue in [0,6) (-1 for grey), saturation, value,
	// chroma (max-min), each in [0,1].
	hue, sat, val, chroma [half * half]float32
	codes                 [full * full][2]uint8          // texture: LTP classes (up | down<<4), noise bin
	fg                    [half * half]uint8             // foreground mask, 0 or 1
	label                 [half * half]int16             // foreground region of each pixel, 0 for none
	stack                 [half * half]int16             // flood-fill stack
	dt                    [half * half]int16             // distance transform of the major regions
	lab2                  [half * half]int16             // labels of their cores
	integral              [(full + 1) * (full + 1)]int32 // integral image of L
	resp                  [full * full]float32           // spot response
	comps                 []component                    // foreground regions; label k is comps[k-1]
	nfg                   int                            // foreground pixels
	noiseSigma            float32                        // estimated half-resolution noise, L*/100 units
	bgRange               float32                        // lightness range of the backdrop's main colours (pixels-v3)

	palette [256][4]uint8 // converted palette of a paletted source
	row     []uint8       // one source row
}

// Block is one named stretch of the vector: Len floats from Offset.
type Block struct {
	Name   string
	Offset int
	Len    int
	weight float32 // applied before the final normalisation
}

// blocks lists the vector's blocks in order; see the package doc. Each
// weight is set so that, over varied pictures, no block dominates distances
// by its size alone, with hue and subject shape (HOG) counted a little more.
var blocks = [...]Block{
	{"colour/hue-value", offHueVal, 36, 2.5},
	{"colour/saturation-value", offSatVal, 16, 1},
	{"colour/ab-moments", offABMoments, 4, 1},
	{"colour/colourfulness", offColourful, 3, 0.8},
	{"colour/hue-circle", offHueCirc, 9, 1},
	{"tone", offTone, 16, 0.75},
	{"texture/ltp", offLTP, 20, 0.8},
	{"texture/response", offResp, 16, 1.4},
	{"texture/energy", offTexture, 6, 0.45},
	{"edges/orientation", offOrient, 9, 1},
	{"edges/hog", offHOG, 81, 1.5},
	{"layout/grid", offGrid, 48, 0.5},
	{"layout/edge-grid", offEdgeGrid, 16, 0.5},
	{"layout/symmetry", offSymmetry, 6, 0.8},
	{"layout/centre", offCentre, 3, 1.5},
	{"layout/edge-moments", offEdgeMom, 5, 0.5},
	{"layout/regions", offBlobs, blobDim, 0.5},
	{"layout/region-shape", offBlobShape, blobShapeDim, 0.7},
	{"colour/figure-ground", offFigure, figureDim, 1.5},
	// pixels-v3's structure block, in parts; see structure.go.
	{"structure/regions", offStruct + stRegions, stPeaks - stRegions, structWeight},
	{"structure/peaks", offStruct + stPeaks, stCores - stPeaks, structWeight},
	{"structure/cores", offStruct + stCores, stSym - stCores, structWeight},
	{"structure/mirror", offStruct + stSym, stTilt - stSym, structWeight},
	{"structure/tilt", offStruct + stTilt, stSpots - stTilt, structWeight},
	{"structure/spots", offStruct + stSpots, stBackdrop - stSpots, structWeight},
	{"structure/backdrop", offStruct + stBackdrop, stMain - stBackdrop, structWeight},
	{"structure/main-colour", offStruct + stMain, stOutline - stMain, structWeight},
	{"structure/outline", offStruct + stOutline, stSolid - stOutline, structWeight},
	{"structure/solidity", offStruct + stSolid, stBumps - stSolid, structWeight},
	{"structure/bumps", offStruct + stBumps, stCodes - stBumps, structWeight},
	{"structure/codes", offStruct + stCodes, structDim - stCodes, structWeight},
}

// blocksV2 is the number of blocks in pixels-v2 (pixels-v1 has one fewer,
// pixels-v3 all of them).
const blocksV2 = 19

// structWeight is the weight of every part of pixels-v3's structure block:
// of 0.6, 1, 1.6 and 3, 0.6 gave the taste-world probe (TestWorldProbe) its
// best R² overall, measured on an earlier, shorter version of the block.
// The block is long (238 floats) and its soft codes carry much of its
// information in few entries.
const structWeight = 0.6

// Blocks returns the pixels-v3 vector's layout (pixels-v2's is its first
// blocksV2 blocks, without the structure block's parts; pixels-v1's one
// fewer, without the figure/ground colour), for ablations and reports that
// look at one kind of feature at a time.
func Blocks() []Block {
	b := blocks // a copy: callers cannot change the recipe
	return b[:]
}

// finish applies the weights of blocks and scales v to unit L2 norm.
func finish(v []float32, blocks []Block) {
	for _, b := range blocks {
		for i := b.Offset; i < b.Offset+b.Len; i++ {
			v[i] *= b.weight
		}
	}
	var ss float32
	for _, x := range v {
		ss += x * x
	}
	if ss > 0 {
		k := 1 / sqrt(ss)
		for i := range v {
			v[i] *= k
		}
	}
}
