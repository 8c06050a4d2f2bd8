package report

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// SummaryWidth is the widest line the console summary prints, so it reads
// in a 100-column terminal or CI log without wrapping. Only the console is
// cut to it: the JSON, HTML and JUnit files keep every name and expression
// in full.
const SummaryWidth = 100

// Wrap breaks s into lines of at most width runes, at spaces. A word longer
// than width is broken after the last '.', '/', ',' or '(' that fits, so a
// metric name splits where it already has a joint, else at width.
func Wrap(s string, width int) []string {
	width = max(width, 1)
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
			continue
		default:
			lines = append(lines, line)
		}
		for utf8.RuneCountInString(word) > width {
			cut := breakAt(word, width)
			lines = append(lines, word[:cut])
			word = word[cut:]
		}
		line = word
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// breakAt is the byte offset at which to break word so that its first part
// holds at most width runes (width >= 1), after a joint when there is one.
func breakAt(word string, width int) int {
	hard, n := len(word), 0
	for i := range word {
		if n == width {
			hard = i
			break
		}
		n++
	}
	if j := strings.LastIndexAny(word[:hard], "./,("); j > 0 {
		return j + 1
	}
	return hard
}

// Abbreviate shortens s to at most width runes by putting "…" in its
// middle: the start (a method, a path's head) and the end (the part that
// tells two long endpoints apart) both stay.
func Abbreviate(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if width < 2 {
		return string(r[:max(width, 0)])
	}
	head := (width - 1) / 2
	tail := width - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// fitLine joins parts with " · " as long as the line stays within
// SummaryWidth, then goes on under an indent of two; a part too long for
// any line is wrapped onto lines of its own.
func fitLine(parts ...string) string {
	var b strings.Builder
	n := 0 // runes on the current line
	newline := func() { b.WriteString("\n  "); n = 2 }
	for i, p := range parts {
		w := utf8.RuneCountInString(p)
		if i > 0 {
			if n+3+w <= SummaryWidth {
				b.WriteString(" · ")
				n += 3
			} else {
				newline()
			}
		}
		if n+w <= SummaryWidth {
			b.WriteString(p)
			n += w
			continue
		}
		if n > 2 {
			newline()
		}
		lines := Wrap(p, SummaryWidth-2)
		b.WriteString(strings.Join(lines, "\n  "))
		n = 2 + utf8.RuneCountInString(lines[len(lines)-1])
	}
	return b.String()
}

// LinePart is one part of a one-line report that FitParts may shorten or
// leave out when the line is too wide.
type LinePart struct {
	Text string
	// Short is a shorter form tried before any part is left out; "" for none.
	Short string
	// Drop ranks the part: 0 is always shown, then the lower the sooner
	// it gets room.
	Drop int
}

// FitParts joins parts with " · " within width runes, keeping the most
// important: it takes every part that fits in its short form, most
// important first, then gives the parts it took their full text while
// that fits, in the same order. A line whose never-dropped parts are too
// wide even so is cut at its end with "…".
func FitParts(parts []LinePart, width int) string {
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(parts[a].Drop, parts[b].Drop) })
	texts := make([]string, len(parts)) // "" for a part left out
	line := func() string {
		var kept []string
		for _, t := range texts {
			if t != "" {
				kept = append(kept, t)
			}
		}
		return strings.Join(kept, " · ")
	}
	// try gives part i text, unless the line no longer fits and the part
	// may go without it.
	try := func(i int, text string, must bool) {
		was := texts[i]
		texts[i] = text
		if !must && utf8.RuneCountInString(line()) > width {
			texts[i] = was
		}
	}
	for _, i := range order {
		try(i, cmp.Or(parts[i].Short, parts[i].Text), parts[i].Drop == 0)
	}
	for _, i := range order {
		if texts[i] != "" {
			try(i, parts[i].Text, false)
		}
	}
	return CutEnd(line(), width)
}

// CutEnd shortens s to width runes, ending it with "…" when it was longer.
func CutEnd(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if width < 1 {
		return ""
	}
	return string(r[:width-1]) + "…"
}
