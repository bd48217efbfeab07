package config

import "strings"

// internalVariables are the COTD_* variables cotd reads besides the
// options: not settings, but not mistakes either.
var internalVariables = []string{
	"COTD_CRASH_AT", // internal/crash, in a binary built with -tags crashpoints
}

// Unknown is a COTD_* variable in the environment that no option reads:
// a misspelt COTD_SMPT_HOST is otherwise silently ignored, and the run
// goes on with the setting's default.
type Unknown struct {
	Name string
	Near string // the option's variable it is most like; "" when none is close
}

// Line says it, with the fix, in one line.
func (u Unknown) Line() string {
	s := u.Name + " is not a cotd setting, so it is ignored"
	if u.Near != "" {
		s += " (did you mean " + u.Near + "?)"
	}
	return s
}

// UnknownHint is the fix for every Unknown.
const UnknownHint = "rename or remove it where the environment is set (pi-setup.sh's service: /etc/cotd/cotd.env); 'cotd help run' lists the settings"

// UnknownVariables lists the COTD_* variables of environ ("NAME=value")
// that cotd does not read and that are not empty, in environ's order.
func UnknownVariables(environ []string) []Unknown {
	known := map[string]bool{}
	for _, o := range options {
		known[o.env] = true
	}
	for _, n := range internalVariables {
		known[n] = true
	}
	var out []Unknown
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "COTD_") || known[name] || strings.TrimSpace(val) == "" { // empty is unset, as for a setting
			continue
		}
		known[name] = true // once
		out = append(out, Unknown{Name: name, Near: nearest(name)})
	}
	return out
}

// nearest is the option's variable within a few edits of name (a typo,
// two letters swapped, a missing underscore), or "".
func nearest(name string) string {
	best, bestD := "", 3 // more than two edits away is another word
	for _, o := range options {
		if d := distance(strings.ToUpper(name), o.env); d < bestD {
			best, bestD = o.env, d
		}
	}
	return best
}

// distance is the optimal string alignment distance of a and b: the
// insertions, deletions, substitutions and swaps of two neighbours that
// turn one into the other.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
