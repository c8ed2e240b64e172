package cli

import (
	"fmt"
	"strings"
)

// The ANSI colors of plans and warnings: terraform's, + green, ~ yellow,
// - red, and warnings yellow.
const (
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
	ansiReset  = "\x1b[0m"
)

// noColor reports whether the environment turns color off: NO_COLOR set
// to anything but "" (https://no-color.org), or TERM=dumb (a terminal
// that knows no escape sequences; a choice, as many tools make it).
func noColor(getenv func(string) string) bool {
	return getenv("NO_COLOR") != "" || getenv("TERM") == "dumb"
}

// colorOut reports whether what goes to s.Out may be colored: it is a
// terminal (Main makes it a terminalOut) and color is not turned off.
// Piped or redirected output never holds an escape sequence.
func (s *IOStreams) colorOut() bool {
	_, tty := s.Out.(widther)
	return tty && !s.noColor
}

// colorErr reports whether what goes to s.ErrOut may be colored.
func (s *IOStreams) colorErr() bool { return s.ErrTerminal && !s.noColor }

// colorPlan colors the lines of a plan's text that start a change: "+ "
// (create) green, "~ " (change) yellow, "- " (delete) red. The indented
// lines under them, and the summary line, stay as they are.
func colorPlan(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		color := ""
		switch {
		case strings.HasPrefix(l, "+ "):
			color = ansiGreen
		case strings.HasPrefix(l, "~ "):
			color = ansiYellow
		case strings.HasPrefix(l, "- "):
			color = ansiRed
		}
		if color != "" {
			body, nl := strings.CutSuffix(l, "\n")
			lines[i] = color + body + ansiReset
			if nl {
				lines[i] += "\n"
			}
		}
	}
	return strings.Join(lines, "")
}

// printPlan writes a plan's text to s.Out (or, when toErr, to s.ErrOut),
// colored when that stream is a terminal.
func (s *IOStreams) printPlan(text string, toErr bool) {
	w, color := s.Out, s.colorOut()
	if toErr {
		w, color = s.ErrOut, s.colorErr()
	}
	if color {
		text = colorPlan(text)
	}
	fmt.Fprint(w, text)
}

// warnf writes "warning: ..." and a newline to s.ErrOut, yellow on a
// terminal.
func (s *IOStreams) warnf(format string, args ...any) {
	msg := "warning: " + fmt.Sprintf(format, args...)
	if s.colorErr() {
		msg = ansiYellow + msg + ansiReset
	}
	fmt.Fprintln(s.ErrOut, msg)
}
