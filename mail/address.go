package mail

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseAddress validates one address such as `Cee <c@example.test>` or
// `c@example.test`. It refuses control characters (CR and LF above all, the
// stuff of header injection), bidi overrides, several addresses at once and
// display names whose RFC 2047 encoded words decode to control characters.
// The error quotes the offending value so the owner can find it.
func ParseAddress(s string) (*netmail.Address, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("address %q is not valid UTF-8: retype it", s)
	}
	if r, bad := firstForbidden(s); bad {
		return nil, fmt.Errorf("address %q contains the control character %U: remove it (line breaks in an address are refused)", s, r)
	}
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return nil, errors.New(`address is empty: write it like "Cee <c@example.test>" or c@example.test`)
	}
	a, err := netmail.ParseAddress(trimmed)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), "mail: ")
		if strings.Contains(reason, "single address") {
			return nil, fmt.Errorf("address %q holds more than one address: give exactly one here", s)
		}
		return nil, fmt.Errorf("address %q is not valid (%s): write it like \"Cee <c@example.test>\" or c@example.test", s, reason)
	}
	// net/mail decodes =?utf-8?q?...?= display names, so check what came out too.
	if r, bad := firstForbidden(a.Name + a.Address); bad {
		return nil, fmt.Errorf("address %q decodes to the control character %U: remove it", s, r)
	}
	if !utf8.ValidString(a.Name) {
		return nil, fmt.Errorf("address %q has a display name that is not valid UTF-8: retype it", s)
	}
	if _, err := asciiDomain(a.Address); err != nil {
		return nil, fmt.Errorf("address %q is not valid: %v", s, err)
	}
	return a, nil
}

// ParseAddressList splits a comma-separated list such as the --to value and
// parses each entry with ParseAddress. Commas inside quoted display names,
// angle brackets and comments do not split. Blank entries (a trailing comma)
// are ignored; an empty list and an address listed twice are errors.
func ParseAddressList(s string) ([]*netmail.Address, error) {
	var out []*netmail.Address
	seen := map[string]bool{}
	for _, item := range splitAddressList(s) {
		if strings.TrimSpace(item) == "" && !strings.ContainsFunc(item, isForbidden) {
			continue
		}
		a, err := ParseAddress(item)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(a.Address)
		if seen[key] {
			return nil, fmt.Errorf("address %q is listed twice: give each recipient once", a.Address)
		}
		seen[key] = true
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address in %q: give at least one, e.g. \"Cee <c@example.test>, d@example.test\"", s)
	}
	return out, nil
}

// splitAddressList splits at commas that are outside "quoted strings",
// <angle brackets> and (comments). Backslash escapes a character inside quotes
// and comments, as in RFC 5322.
func splitAddressList(s string) []string {
	var (
		items   []string
		start   int
		quoted  bool
		escaped bool
		angle   int
		comment int
	)
	for i, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && (quoted || comment > 0):
			escaped = true
		case quoted:
			if r == '"' {
				quoted = false
			}
		case r == '"':
			quoted = true
		case r == '(':
			comment++
		case r == ')' && comment > 0:
			comment--
		case comment > 0:
		case r == '<':
			angle++
		case r == '>' && angle > 0:
			angle--
		case r == ',' && angle == 0:
			items = append(items, s[start:i])
			start = i + 1
		}
	}
	return append(items, s[start:])
}

// isForbidden reports characters that never belong in a header: C0 and C1
// controls (CR, LF, NUL, TAB...), DEL, the Unicode line and paragraph
// separators and the bidi overrides that can make an address read as another.
func isForbidden(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

func firstForbidden(s string) (rune, bool) {
	for _, r := range s {
		if isForbidden(r) {
			return r, true
		}
	}
	return 0, false
}
