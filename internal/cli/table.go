package cli

import (
	"io"
	"strings"

	"github.com/rivo/uniseg"
)

// widther is a writer that knows the width of the terminal it writes to:
// tables written to it fit that width. A writer without it (a pipe, a
// file) gets the whole table.
type widther interface {
	Width() int
}

// terminalOut is standard output when it is a terminal of width columns.
type terminalOut struct {
	io.Writer
	width int
}

// Width returns the terminal's width in columns.
func (t terminalOut) Width() int { return t.width }

// outputWidth returns the width w's table must fit, or 0 for no limit.
func outputWidth(w io.Writer) int {
	if tw, ok := w.(widther); ok {
		return tw.Width()
	}
	return 0
}

// The layout of text tables: two spaces between columns, and no column
// cut below minColumnWidth display columns to fit a terminal.
const (
	columnGap      = 2
	minColumnWidth = 8
	ellipsis       = "…"
)

// displayWidth is the number of terminal columns s takes: a CJK character
// takes two, a combining mark none (Unicode's East Asian Width and
// grapheme clusters, through uniseg).
func displayWidth(s string) int { return uniseg.StringWidth(s) }

// truncate cuts s to at most width display columns, ending it with an
// ellipsis when it cut anything. It cuts between grapheme clusters.
func truncate(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	limit := width - displayWidth(ellipsis)
	var b strings.Builder
	used := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		w := g.Width()
		if used+w > limit {
			break
		}
		b.WriteString(g.Str())
		used += w
	}
	return b.String() + ellipsis
}

// writeTable writes rows (the first is the header) as aligned columns,
// measured in display columns. With width > 0 the widest columns are cut,
// with an ellipsis, until the table fits, but none below minColumnWidth:
// -o json, yaml or csv always give the whole values.
func writeTable(w io.Writer, rows [][]string, width int) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows[0])
	widths := make([]int, n)
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	if width > 0 {
		fit(widths, width)
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			c = truncate(c, widths[i])
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+columnGap))
			}
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// fit narrows the widest of widths, a column at a time, until the
// columns and the gaps between them take at most total display columns or
// every column is down to minColumnWidth (or its own, when narrower).
func fit(widths []int, total int) {
	sum := columnGap * (len(widths) - 1)
	for _, w := range widths {
		sum += w
	}
	for sum > total {
		widest := 0
		for i, w := range widths {
			if w > widths[widest] {
				widest = i
			}
		}
		if widths[widest] <= minColumnWidth {
			return
		}
		widths[widest]--
		sum--
	}
}
