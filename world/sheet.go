package world

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ContactSheet lays images out in a grid of cols columns, each scaled to a
// cell×cell square with its caption (lines split at "\n") underneath, so a
// person can look over many renders at once.
func ContactSheet(imgs []image.Image, captions []string, cols, cell int) *image.RGBA {
	cols = max(cols, 1)
	cell = max(cell, 8)
	const pad, lineH = 4, 13
	face := basicfont.Face7x13
	lines := 0
	for _, c := range captions {
		if c != "" {
			lines = max(lines, strings.Count(c, "\n")+1)
		}
	}
	capH := 0
	if lines > 0 {
		capH = lines*lineH + 2
	}
	rows := (len(imgs) + cols - 1) / cols
	w := pad + cols*(cell+pad)
	h := pad + rows*(cell+capH+pad)
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.RGBA{28, 28, 30, 255}), image.Point{}, draw.Src)
	d := font.Drawer{Dst: sheet, Src: image.NewUniform(color.RGBA{220, 220, 220, 255}), Face: face}
	maxChars := max(1, cell/7)
	for i, im := range imgs {
		x := pad + (i%cols)*(cell+pad)
		y := pad + (i/cols)*(cell+capH+pad)
		dst := image.Rect(x, y, x+cell, y+cell)
		if im != nil {
			if b := im.Bounds(); b.Dx() == cell && b.Dy() == cell {
				draw.Draw(sheet, dst, im, b.Min, draw.Src)
			} else {
				xdraw.NearestNeighbor.Scale(sheet, dst, im, b, draw.Src, nil)
			}
		}
		if i >= len(captions) {
			continue
		}
		for j, line := range strings.Split(captions[i], "\n") {
			if len(line) > maxChars {
				line = line[:maxChars]
			}
			d.Dot = fixed.P(x, y+cell+(j+1)*lineH-2)
			d.DrawString(line)
		}
	}
	return sheet
}
